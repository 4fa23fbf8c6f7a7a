"""Import and export of records through pandas: CSV (UTF-8, UTF-8 BOM, GBK), XLSX, JSON Lines.

- :func:`import_file` streams a file, finds and maps its header row (Chinese, English or
  aliases), converts each row to a validated record and upserts the good rows into a sink
  (the store), recording the import in a journal; it returns an :class:`ImportReport` with
  every :class:`RowError`. Caps come from :class:`ImportLimits`.
- :func:`export_records` writes records back out with Chinese headers (CSV/XLSX) or
  English field names (JSON Lines); contact columns only when asked for.
"""

from data.io.exporter import export_columns, export_records, records_frame
from data.io.headers import (
    ENTITY_LABELS,
    HeaderMap,
    MissingColumnsError,
    NationalIdError,
    map_headers,
)
from data.io.importer import ImportReport, Sink, UpsertResultLike, import_file
from data.io.journal import ImportJournal
from data.io.limits import ImportLimits
from data.io.readers import (
    FileScan,
    ImportFileError,
    ImportLimitError,
    ImportRefused,
    Table,
    detect_encoding,
    detect_format,
    read_table,
    scan_file,
)
from data.io.rows import RowConverter, RowError

__all__ = [
    "ENTITY_LABELS",
    "FileScan",
    "HeaderMap",
    "ImportFileError",
    "ImportJournal",
    "ImportLimitError",
    "ImportLimits",
    "ImportRefused",
    "ImportReport",
    "MissingColumnsError",
    "NationalIdError",
    "RowConverter",
    "RowError",
    "Sink",
    "Table",
    "UpsertResultLike",
    "detect_encoding",
    "detect_format",
    "export_columns",
    "export_records",
    "import_file",
    "map_headers",
    "read_table",
    "records_frame",
    "scan_file",
]
