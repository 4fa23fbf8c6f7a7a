"""Render the column table of :mod:`data.columns` as Markdown (for docs/data-format.md).

Run ``python -m data.columns_doc`` and paste between the markers of docs/data-format.md; a
test checks that the document holds exactly this rendering.
"""

from __future__ import annotations

from data.columns import COLUMNS, NATIONAL_ID_HEADERS

BEGIN = "<!-- columns:begin -->"
END = "<!-- columns:end -->"


def render() -> str:
    """The column table per entity, as Markdown."""
    lines: list[str] = []
    for entity, columns in COLUMNS.items():
        lines += [f"### {entity}", "", "| field | 中文表头 | English header | also accepted | vocabulary | private |",
                  "|---|---|---|---|---|---|"]
        for c in columns:
            lines.append(
                f"| `{c.field}` | {c.zh} | `{c.en}` | {'、'.join(c.aliases) or '—'} | "
                f"{c.vocab or '—'} | {'yes' if c.private else ''} |"
            )
        lines.append("")
    lines.append("Refused headers (national ID numbers are never stored): "
                 + "、".join(f"`{h}`" for h in NATIONAL_ID_HEADERS))
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(render())
