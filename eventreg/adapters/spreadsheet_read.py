"""Reading an uploaded spreadsheet: CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM, CP932/Shift_JIS;
comma or tab separated) or XLSX (openpyxl, first sheet), as a header and rows of plain text.

Bytes in, strings out; nothing here knows what a column means (domain.backoffice.attendee_import
does). Anything a file can hold that is not a readable table raises ``Unreadable`` with a code
the page puts in words; nothing else escapes (a damaged workbook is ``Unreadable("damaged")``).
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time

MAX_ROWS = 1000  # people in one file (a row more is refused, not cut); ~10 s of import on PostgreSQL (docs/import.md)
MAX_COLUMNS = 200
MAX_CELL = 5000  # characters in one cell (csv's own limit is 131,072)
MAX_XLSX_UNPACKED = 30 * 1024 * 1024  # a workbook that unpacks to more is refused (zip bomb)


class Unreadable(ValueError):
    """The file is no table we can read. ``code``: empty, encoding, binary, damaged,
    too_many_rows, too_many_columns, cell_too_long, no_rows."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(code)
        self.code, self.detail = code, detail


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]  # each as long as headers
    kind: str  # "csv" or "xlsx"
    encoding: str  # "utf-8", "utf-8-sig", "utf-16", "cp932"; "" for XLSX


def read(data: bytes) -> Table:
    """The table in ``data`` (a CSV or an XLSX file, told apart by their bytes)."""
    if not data or not data.strip():
        raise Unreadable("empty")
    if data[:4] == b"PK\x03\x04":
        headers, rows = _xlsx_rows(data)
        kind, encoding = "xlsx", ""
    else:
        text, encoding = decode(data)
        headers, rows = _csv_rows(text)
        kind = "csv"
    return _squared(headers, rows, kind, encoding)


def decode(data: bytes) -> tuple[str, str]:
    """Text and the encoding it was read with: a BOM decides; else UTF-8 if the bytes are
    UTF-8, else CP932 (Shift_JIS as Windows writes it) if they are that. Text with NUL or other
    control characters than tab and line ends is no spreadsheet: ``binary``."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8", "cp932"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text):
            raise Unreadable("binary")
        return text, encoding
    raise Unreadable("encoding")


def _csv_rows(text: str) -> tuple[list[str], list[list[str]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) > MAX_ROWS + 1:
                raise Unreadable("too_many_rows", str(MAX_ROWS))
    except csv.Error:  # a cell over csv's field limit, a stray NUL
        raise Unreadable("cell_too_long", str(MAX_CELL)) from None
    if not rows:
        raise Unreadable("empty")
    return rows[0], rows[1:]


def _xlsx_rows(data: bytes) -> tuple[list[str], list[list[str]]]:
    from openpyxl import load_workbook  # only for XLSX uploads

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_XLSX_UNPACKED:
                raise Unreadable("damaged")
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Unreadable:
        raise
    except Exception:  # noqa: BLE001 - anything openpyxl or zipfile meets in a bad file
        raise Unreadable("damaged") from None
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            rows.append([_cell_text(v) for v in values[:MAX_COLUMNS + 1]])
            if len(rows) > MAX_ROWS + 1:
                raise Unreadable("too_many_rows", str(MAX_ROWS))
    except Unreadable:
        raise
    except Exception:  # noqa: BLE001 - read-only mode parses lazily: a damaged sheet fails only here
        raise Unreadable("damaged") from None
    finally:
        workbook.close()
    if not rows:
        raise Unreadable("empty")
    return rows[0], rows[1:]


def _cell_text(value) -> str:
    """A cell as the person typed it: a whole number without ``.0``, a date as 2026-02-07."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _squared(headers: list[str], rows: list[list[str]], kind: str, encoding: str) -> Table:
    """Trailing empty rows and columns dropped, every row as long as the header."""
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    width = max([len(headers)] + [len(r) for r in rows])
    while width and not headers[width - 1].strip() and not any(len(r) >= width and r[width - 1].strip() for r in rows):
        width -= 1
    if width > MAX_COLUMNS:
        raise Unreadable("too_many_columns", str(MAX_COLUMNS))
    if not width or not rows:
        raise Unreadable("no_rows")
    if any(len(cell) > MAX_CELL for row in [headers, *rows] for cell in row):
        raise Unreadable("cell_too_long", str(MAX_CELL))
    pad = [""] * width
    headers = [h.strip() for h in (headers + pad)[:width]]
    return Table(headers, [(r + pad)[:width] for r in rows], kind, encoding)
