"""Limits on import files: a hostile or broken file is refused with a clear message.

The defaults suit the largest real bureau sheets seen (about 50,000 rows, a few MB) with a
wide margin; ``api.settings.Settings`` exposes them as ``TALENTMATCH_IMPORT_MAX_ROWS`` and
``TALENTMATCH_IMPORT_MAX_XLSX_MB``.
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024

DEFAULT_MAX_ROWS = 200_000
"""Data rows per file (blank rows included, header and title rows excluded)."""

DEFAULT_MAX_XLSX_MB = 200
"""Declared uncompressed size of all parts of an XLSX workbook, in MiB."""

HEADER_SCAN_ROWS = 10
"""The header row is looked for among the first this many rows of a CSV or XLSX sheet."""


@dataclass(frozen=True)
class ImportLimits:
    """Caps applied while reading one import file.

    Attributes:
        max_rows: data rows per file; a file with more is refused before anything is
            written (CSV, JSON Lines, XLSX with a dimension record), or stopped at the cap.
        max_xlsx_bytes: the sum of the declared uncompressed sizes of an XLSX file's zip
            members (zip bombs are refused before the workbook is opened; Python's zipfile
            never inflates a member past its declared size).
    """

    max_rows: int = DEFAULT_MAX_ROWS
    max_xlsx_bytes: int = DEFAULT_MAX_XLSX_MB * MIB

    @classmethod
    def of(cls, max_rows: int | None = None, max_xlsx_mb: int | None = None) -> ImportLimits:
        """Limits from settings values (``None`` keeps the default)."""
        return cls(max_rows=DEFAULT_MAX_ROWS if max_rows is None else max_rows,
                   max_xlsx_bytes=(DEFAULT_MAX_XLSX_MB if max_xlsx_mb is None
                                   else max_xlsx_mb) * MIB)
