"""Spreadsheet files: CSV in UTF-8 with BOM or in CP932 (Windows-31J), and XLSX.

Plain values in (a header of str and rows of cells), bytes out; no decisions about who gets what.

- Every cell is text. Nothing is converted to a number or a date, so a phone number keeps its
  leading zero; XLSX cells are written with ``write_string``.
- Formula injection: in CSV, a cell that a spreadsheet would read as a formula (its first
  character, after any leading spaces, is one of ``= + - @ | %``, or it starts with a tab or a
  carriage return) is escaped by a leading single quote (``neutralise``); nothing is deleted.
  XLSX needs no escape: every cell is a string cell, which no spreadsheet evaluates, so a name
  such as ``-山田 次郎`` is written as it is (a quote there would be shown as part of the name).
- CP932: ``cp932_problems`` lists every character that does not survive Windows-31J, by
  spreadsheet row, column and character. A character counts when Python's ``cp932`` codec cannot
  encode it (𠮷, é, ¥, —, ♡ …) and also when it encodes but reads back as another character:
  〜 U+301C becomes ～ U+FF5E, − U+2212 becomes － U+FF0D, ‖ U+2016 becomes ∥ U+2225,
  ¢ £ ¬ become ￠ ￡ ￢ (Microsoft's table decodes those JIS positions differently). IBM and NEC
  extensions such as 髙 﨑 ① ㈱ do map and are fine. ``csv_bytes(..., encoding="cp932")`` never
  replaces anything: it raises ``Unencodable`` (with the problems) instead.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence

import xlsxwriter

FORMULA_STARTS = frozenset("=+-@|%\t\r")
LEADING_SPACES = " \u3000\u00a0"  # ASCII, ideographic and no-break spaces before a formula
QUOTE = "'"
ENCODINGS = ("utf-8-sig", "cp932")

# XLSX column widths, in characters (a wide East Asian character counts 2).
MIN_WIDTH, MAX_WIDTH, WIDTH_SAMPLE_ROWS = 6, 50, 200
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


class Unencodable(ValueError):
    """The rows hold characters that CP932 cannot carry; ``problems`` says which and where."""

    def __init__(self, problems: list[tuple[int, str, str]]):
        self.problems = problems
        super().__init__(f"{len(problems)} characters do not map to CP932")


def _text(value) -> str:
    """A cell's text as it is (None is the empty cell)."""
    return "" if value is None else value if isinstance(value, str) else str(value)


def neutralise(value) -> str:
    """``value`` as the text of a cell that no spreadsheet evaluates: a would-be formula gets a
    leading single quote; everything else comes back unchanged (None is the empty cell)."""
    text = _text(value)
    if not text:
        return text
    first = text[0]
    if first in FORMULA_STARTS:
        return QUOTE + text
    if first in LEADING_SPACES:
        rest = text.lstrip(LEADING_SPACES)
        if rest and rest[0] in FORMULA_STARTS:
            return QUOTE + text
    return text


def _cells(rows: Iterable[Sequence]) -> Iterable[list[str]]:
    for row in rows:
        yield [neutralise(cell) for cell in row]


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence], *, encoding: str = "utf-8-sig") -> bytes:
    """A CSV file as Excel expects it: CRLF line ends, minimal quoting (a cell with a comma, a
    quote or a line break is quoted, its line breaks kept), every cell neutralised.

    ``encoding`` is "utf-8-sig" (UTF-8 with a BOM, the default) or "cp932"; with "cp932" a
    character that would not come back as itself raises ``Unencodable``, nothing is replaced.
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS}, not {encoding!r}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([neutralise(cell) for cell in header])
    rows = list(rows) if encoding == "cp932" else rows  # read twice when there are problems
    writer.writerows(_cells(rows))
    text = buffer.getvalue()
    if encoding == "utf-8-sig":
        return text.encode("utf-8-sig")
    try:
        data = text.encode("cp932")
    except UnicodeEncodeError:
        data = None
    if data is None or data.decode("cp932") != text:
        raise Unencodable(cp932_problems(header, rows))
    return data


def _survives_cp932(text: str) -> bool:
    try:
        return text.encode("cp932").decode("cp932") == text
    except UnicodeEncodeError:
        return False


def cp932_problems(header: Sequence[str], rows: Iterable[Sequence]) -> list[tuple[int, str, str]]:
    """Every character of the file that CP932 cannot carry, as (row number, column name,
    character); row numbers are the spreadsheet's (the header is row 1, the first person row 2).
    Each character is listed once per cell, in the order of the file."""
    header = [neutralise(cell) for cell in header]
    problems: list[tuple[int, str, str]] = []
    for number, row in enumerate([header], start=1):
        problems += _row_problems(number, header, row)
    for number, row in enumerate(_cells(rows), start=2):
        if not _survives_cp932("\x1f".join(row)):
            problems += _row_problems(number, header, row)
    return problems


def _row_problems(number: int, header: list[str], row: list[str]) -> list[tuple[int, str, str]]:
    found = []
    for index, cell in enumerate(row):
        if _survives_cp932(cell):
            continue
        seen = set()
        for ch in cell:
            if ch not in seen and not _survives_cp932(ch):
                seen.add(ch)
                column = header[index] if index < len(header) else str(index + 1)
                found.append((number, column, ch))
    return found


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def sheet_name(name: str) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of [ ] : * ? / \\."""
    cleaned = _SHEET_NAME_FORBIDDEN.sub("_", name).strip("'") or "Sheet1"
    return cleaned[:31]


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence], *, sheet: str = "Sheet1") -> bytes:
    """An XLSX workbook of one sheet: a bold, frozen header row with an autofilter, column widths
    from the header and the first rows, and every cell a string (as given: a string cell is never
    evaluated, so nothing is escaped).

    Written by XlsxWriter in constant-memory mode: rows are streamed to a temporary file as they
    come, so memory stays flat however many people there are.
    """
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True})
    worksheet = workbook.add_worksheet(sheet_name(sheet))
    bold = workbook.add_format({"bold": True, "bg_color": "#EEEEEE", "bottom": 1})
    header = [_text(cell) for cell in header]
    widths = [display_width(cell) for cell in header]
    # Widths must be known before the first row is streamed (constant-memory mode).
    rows = iter(rows)
    first = [[_text(cell) for cell in row] for row in itertools.islice(rows, WIDTH_SAMPLE_ROWS)]
    for row in first:
        for index, cell in enumerate(row[: len(widths)]):
            longest = max((display_width(line) for line in cell.split("\n")), default=0)
            widths[index] = max(widths[index], longest)
    for index, width in enumerate(widths):
        worksheet.set_column(index, index, min(max(width + 2, MIN_WIDTH), MAX_WIDTH))
    write = worksheet.write_string
    for col, cell in enumerate(header):
        write(0, col, cell, bold)
    number = 0
    for number, row in enumerate(first, start=1):
        for col, cell in enumerate(row):
            write(number, col, cell)
    for number, row in enumerate(rows, start=len(first) + 1):
        for col, cell in enumerate(row):
            write(number, col, _text(cell))
    worksheet.freeze_panes(1, 0)
    if header:
        worksheet.autofilter(0, 0, number, len(header) - 1)
    workbook.close()
    return output.getvalue()
