"""Spreadsheet formula injection: neutralise exported text cells, undo it on import.

A text cell that starts with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return) may be run
as a formula by Excel or LibreOffice (``=HYPERLINK(…)``, ``@SUM(…)``, ``-2+3+cmd|…``).

* CSV: such a cell is written with a leading apostrophe (``'=1+2``), which spreadsheet
  programs show as text.
* XLSX: such a cell is written as a typed string with the "quote prefix" style (Excel's own
  way to mark text that looks like a formula); its value is unchanged.
* Import (CSV and XLSX alike): a leading apostrophe followed by one of those characters is
  removed, so an export imports back to the same values. A value that itself starts with
  an apostrophe and one of those characters (``'=x``) is exported with one more apostrophe,
  so it survives the round trip too.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula."""
QUOTE = "'"


def is_risky(value: Any) -> bool:
    """Whether ``value`` is text that a spreadsheet could run as a formula."""
    return isinstance(value, str) and value.startswith(TRIGGERS)


def _quotable(value: Any) -> bool:
    """Text that is risky, or risky behind apostrophes (``'=x``, ``''+y``)."""
    return isinstance(value, str) and is_risky(value.lstrip(QUOTE))


def neutralise(value: Any) -> Any:
    """``value`` with one more leading apostrophe when it is risky text, or risky text
    behind apostrophes (other values unchanged)."""
    return QUOTE + value if _quotable(value) else value


def restore(value: Any) -> Any:
    """Undo :func:`neutralise`: drop one apostrophe in front of (apostrophes and) a formula
    character."""
    if isinstance(value, str) and value.startswith(QUOTE) and _quotable(value[1:]):
        return value[1:]
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose risky text cells (and headers) are neutralised (for CSV)."""
    out = frame.map(neutralise)
    out.columns = [neutralise(c) for c in frame.columns]
    return out
