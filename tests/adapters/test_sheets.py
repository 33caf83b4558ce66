"""The spreadsheet adapter: formula neutralising, CSV bytes, the CP932 report, XLSX cells."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pytest

from eventreg.adapters import sheets
from eventreg.adapters.sheets import cp932_problems, csv_bytes, neutralise, xlsx_bytes


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"),
    ("+81 90-1234-5678", "'+81 90-1234-5678"),
    ("-1", "'-1"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("|calc", "'|calc"),
    ("%00", "'%00"),
    ("\t=1", "'\t=1"),
    ("\rcmd", "'\rcmd"),
    ("  =HYPERLINK(\"http://x\")", "'  =HYPERLINK(\"http://x\")"),
    ("\u3000=1", "'\u3000=1"),   # an ideographic space before the formula
    (" \t x", "' \t x"),          # a tab after leading spaces
    # Everything else comes back exactly as it was.
    ("090-1234-5678", "090-1234-5678"),
    ("0312345678", "0312345678"),
    ("a=b", "a=b"),
    ("1+1", "1+1"),
    ("山田 太郎", "山田 太郎"),
    ("株式会社ＡＢＣ", "株式会社ＡＢＣ"),
    ("＝全角は式ではない", "＝全角は式ではない"),
    ("  indented", "  indented"),
    ("line one\nline two", "line one\nline two"),
    ("'already quoted", "'already quoted"),
    ("", ""),
    (None, ""),
    (42, "42"),
])
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_neutralise_never_deletes_characters():
    for value in ["=1", " -2", "\t\t+3", "\r\n@x", "%%"]:
        out = neutralise(value)
        assert out.endswith(value) and len(out) == len(value) + 1


def _read_csv(data: bytes, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(encoding), newline="")))


def test_csv_utf8_with_bom_crlf_and_quoted_line_breaks():
    header = ["氏名", "電話", "メモ"]
    rows = [["山田 太郎", "0312345678", "一行目\n二行目"], ["=CMD()", "-1", 'say "hi", ok']]
    data = csv_bytes(header, rows)
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") == 3  # three records; the line break inside a cell stays \n
    assert b'"\xe4\xb8\x80\xe8\xa1\x8c\xe7\x9b\xae\n' in data  # the multi-line cell is quoted
    assert b"0312345678," in data and b'"0312345678"' not in data  # minimal quoting
    assert _read_csv(data, "utf-8-sig") == [
        header, ["山田 太郎", "0312345678", "一行目\n二行目"], ["'=CMD()", "'-1", 'say "hi", ok']]


def test_csv_cp932_round_trip_of_clean_text():
    header = ["氏名", "会社"]
    rows = [["髙橋 﨑子", "①株式会社㈱"], ["山田", "ｶﾀｶﾅ"]]
    data = csv_bytes(header, rows, encoding="cp932")
    assert not data.startswith(b"\xef\xbb\xbf")
    assert _read_csv(data, "cp932") == [header, *rows]
    assert cp932_problems(header, rows) == []


def test_cp932_problems_are_exact():
    header = ["氏名", "会社", "回答"]
    rows = [
        ["山田 太郎", "ABC", "普通"],
        ["𠮷野 𩸽子", "Café ¥", "10:00〜12:00 − ‖ 〜"],
        ["髙橋", "—dash–", "♡"],
    ]
    assert cp932_problems(header, rows) == [
        (3, "氏名", "𠮷"), (3, "氏名", "𩸽"),
        (3, "会社", "é"), (3, "会社", "¥"),
        (3, "回答", "〜"), (3, "回答", "−"), (3, "回答", "‖"),  # each once per cell
        (4, "会社", "—"), (4, "会社", "–"),
        (4, "回答", "♡"),
    ]


def test_cp932_problems_in_the_header_are_row_1():
    assert cp932_problems(["𠮷の質問"], [["a"]]) == [(1, "𠮷の質問", "𠮷")]


@pytest.mark.parametrize("ch, fine", [
    ("〜", False), ("～", True), ("−", False), ("－", True), ("‐", True), ("∥", True),
    ("‖", False), ("￢", True), ("¬", False), ("𠮷", False), ("髙", True), ("﨑", True),
])
def test_what_cp932_really_maps(ch, fine):
    """One-way mappings count as problems: 〜 would come back as ～, a different character."""
    assert (cp932_problems(["c"], [[ch]]) == []) is fine


def test_csv_cp932_refuses_instead_of_replacing():
    with pytest.raises(sheets.Unencodable) as raised:
        csv_bytes(["氏名"], [["𠮷野"]], encoding="cp932")
    assert raised.value.problems == [(2, "氏名", "𠮷")]
    with pytest.raises(sheets.Unencodable):
        csv_bytes(["氏名"], [["10〜12"]], encoding="cp932")  # encodable, but not as itself


def test_csv_refuses_an_unknown_encoding():
    with pytest.raises(ValueError):
        csv_bytes(["a"], [], encoding="latin-1")


def test_xlsx_cells_are_all_strings_with_a_frozen_bold_header():
    # A string cell is never evaluated, so what looks like a formula is written as it is: the
    # venue reads "-山田 次郎", not "'-山田 次郎" (the quote guards CSV only).
    header = ["氏名", "電話", "人数", "日付", "式"]
    rows = [["山田 太郎", "0312345678", "12", "2026-12-02", "=1+1"],
            ["𠮷野 𩸽子", "+81 3 1234 5678", "1e5", "TRUE", "@A1"],
            ["-山田 次郎", "-1", "0012", "12:30", "%x"]]
    data = xlsx_bytes(header, iter(rows), sheet="参加者: 一覧/全員")
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook.active
    assert sheet.title == "参加者_ 一覧_全員"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:E4"
    assert sheet["A1"].font.b and not sheet["A2"].font.b
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values == [header, *rows]
    for row in sheet.iter_rows(min_row=1):
        for cell in row:
            assert cell.data_type == "s" and isinstance(cell.value, str)
    assert sheet.column_dimensions["A"].width >= 10  # a Japanese name is wider than the default
    # No formulas anywhere in the file's XML.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and 't="inlineStr"' in xml


def test_xlsx_streams_more_rows_than_the_width_sample():
    rows = ([str(i), f"名前{i}"] for i in range(sheets.WIDTH_SAMPLE_ROWS * 2 + 3))
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(["n", "名前"], rows))).active
    numbers = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert numbers == [str(i) for i in range(sheets.WIDTH_SAMPLE_ROWS * 2 + 3)]


def test_sheet_names_excel_accepts():
    assert sheets.sheet_name("a" * 40) == "a" * 31
    assert sheets.sheet_name("[x]") == "_x_"
    assert sheets.sheet_name("") == "Sheet1"
