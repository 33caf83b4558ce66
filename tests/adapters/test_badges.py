"""Name badges, checked the way the reception desk would: the text on the card, its embedded
font, its size in millimetres, the QR code read back from a 200 dpi raster, nothing outside the
card, and sheets of 10 in the order given. The fit function is tested on its own first.

No database: contexts are built by hand, as domain.registration.passes.pass_context would build them.
"""

from __future__ import annotations

import io
import os
import re

import pytest
import zxingcpp
from fontTools.ttLib import TTFont
from PIL import Image
from pypdf import PdfReader

from eventreg import create_app
from eventreg.adapters import badges, qr
from eventreg.domain.registration.passes import sign_pass

from .pdf_checks import DEPARTMENT, KANA, NAME, ORGANIZATION, PAYLOAD, TITLE, make_ctx, run, squeezed, text_of

MM = 72 / 25.4  # points per millimetre
LONG_ORGANIZATION = "特定非営利活動法人 ちば市民活動・市民事業サポートクラブ 地域連携推進室"
LONG_LATIN_NAME = "Maximiliane Wolfeschlegelsteinhausen-Bergerdorff"
LONG_KANA = "マクシミリアーネ ヴォルフェシュレーゲルシュタインハウゼン＝ベルガードルフ"
LONG_CJK_NAME = "寿限無寿限無五劫の擦り切れ海砂利水魚の水行末雲来末風来末"
LONG_DEPARTMENT = "国際交流・多文化共生推進プロジェクトチーム 事務局"


LONGEST = {"full_name": LONG_LATIN_NAME, "full_kana": LONG_KANA,
           "organization": LONG_ORGANIZATION, "department": LONG_DEPARTMENT}


# ---- the fit function -----------------------------------------------------------------------

def test_character_widths_wide_is_one_em_narrow_is_055():
    assert badges.char_em("渡") == badges.char_em("ア") == badges.char_em("＝") == 1.0
    assert badges.char_em("M") == badges.char_em("-") == badges.char_em("ｱ") == 0.55


def test_a_short_name_gets_the_largest_size_on_one_line():
    fit = badges.fit_text(NAME, 58, max_pt=24, min_pt=11, max_lines=3)
    assert (fit.size_pt, fit.lines, fit.fits) == (24, [NAME], True)


@pytest.mark.parametrize("chars", [6, 8, 10, 13])
def test_cjk_text_shrinks_to_the_width_on_one_line(chars):
    text = "寿" * chars
    fit = badges.fit_text(text, 58, max_pt=24, min_pt=11, max_lines=3)
    width_pt = 58 * MM * 0.94
    assert fit.lines == [text]
    assert fit.size_pt * chars <= width_pt  # fits ...
    assert fit.size_pt == 24 or (fit.size_pt + 0.5) * chars > width_pt  # ... and is the largest


def test_below_the_floor_it_wraps_to_two_lines_at_the_largest_size_that_fits():
    text = "寿" * 40  # one line would need 3.9 pt, under the 7 pt floor
    fit = badges.fit_text(text, 58, max_pt=10.5, min_pt=7, max_lines=2)
    assert len(fit.lines) == 2 and "".join(fit.lines) == text
    assert fit.size_pt * 20 <= 58 * MM * 0.94 < (fit.size_pt + 0.5) * 20


def test_lines_break_between_words_when_the_floor_allows():
    fit = badges.fit_text(ORGANIZATION, 58, max_pt=10.5, min_pt=7, max_lines=2)
    assert fit.phrases and fit.lines == ["特定非営利活動法人", "ちば市民活動・市民事業サポートクラブ"]
    fit = badges.fit_text(LONG_LATIN_NAME, 58, max_pt=24, min_pt=11, max_lines=3)
    assert fit.lines == ["Maximiliane", "Wolfeschlegelsteinhausen-", "Bergerdorff"]


def test_words_too_long_for_the_floor_are_cut_anywhere():
    fit = badges.fit_text(LONG_ORGANIZATION, 58, max_pt=10.5, min_pt=7, max_lines=2)
    assert not fit.phrases and fit.fits and len(fit.lines) == 2
    assert "".join(fit.lines).replace(" ", "") == LONG_ORGANIZATION.replace(" ", "")


def test_kinsoku_a_line_never_starts_with_closing_punctuation_or_small_kana():
    fit = badges.fit_text("あいう。えおかっきく、けこ" * 3, 20, max_pt=9, min_pt=9, max_lines=9)
    assert len(fit.lines) > 1
    assert not any(line[0] in "。、っ" for line in fit.lines)


def test_text_that_cannot_fit_stops_at_the_floor_and_says_so():
    fit = badges.fit_text("寿" * 200, 58, max_pt=10.5, min_pt=7, max_lines=2)
    assert fit.size_pt == 7 and not fit.fits and len(fit.lines) > 2


def test_empty_text_fits_in_no_lines():
    assert badges.fit_text("", 58, max_pt=10, min_pt=7).lines == []


# ---- rendered badges --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def badge_app():
    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})


@pytest.fixture(scope="module")
def render(badge_app, tmp_path_factory):
    """render(ctx) -> path of one badge; render(list of ctx) -> path of a sheet."""
    folder = tmp_path_factory.mktemp("badges")
    count = iter(range(1000))

    def render(ctx):
        with badge_app.app_context():
            if isinstance(ctx, list):
                body = badges.render_badge_sheet(ctx)
            else:
                body = badges.render_badge(ctx)
        assert body.startswith(b"%PDF-")
        path = folder / f"badge-{next(count)}.pdf"
        path.write_bytes(body)
        return path

    return render


@pytest.fixture(scope="module")
def badge(render):
    return render(make_ctx())


@pytest.fixture(scope="module")
def longest_badge(render):
    return render(make_ctx(attendee=LONGEST))


def pdfinfo(path) -> dict:
    info = run("pdfinfo", str(path))
    width, height = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M).groups()
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    return {"pages": pages, "width_mm": float(width) / MM, "height_mm": float(height) / MM}


def words(path) -> list[dict]:
    """pdftotext -bbox: every word with its page number and box, in points."""
    out, page = [], 0
    for line in run("pdftotext", "-bbox", str(path), "-").splitlines():
        if "<page " in line:
            page += 1
        match = re.search(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                          r'yMax="([\d.]+)">(.*)</word>', line)
        if match:
            x0, y0, x1, y1 = map(float, match.groups()[:4])
            out.append({"page": page, "x0": x0, "y0": y0, "x1": x1, "y1": y1,
                        "text": match.group(5)})
    return out


def raster(path, dpi: int = 200, page: int = 1) -> Image.Image:
    png = path.with_suffix(f".{dpi}.{page}.png")
    run("pdftoppm", "-r", str(dpi), "-png", "-f", str(page), "-l", str(page), "-singlefile",
        str(path), str(png.with_suffix("")))
    return Image.open(png)


def symbol_width_mm(result, dpi: int) -> float:
    p = result.position
    width_px = max(p.top_right.x, p.bottom_right.x) - min(p.top_left.x, p.bottom_left.x)
    return width_px / dpi * 25.4


def test_text_layer_has_name_kana_organization_department_and_title(badge):
    text = text_of(badge)
    for value in (NAME, KANA, ORGANIZATION, DEPARTMENT, TITLE):
        assert squeezed(value) in squeezed(text), value
    assert "様" not in text  # a badge shows just the name
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines.index(KANA) + 1 == lines.index(NAME)  # furigana right above the name


def test_the_name_is_the_largest_text(badge):
    boxes = words(badge)
    height = {w["text"]: w["y1"] - w["y0"] for w in boxes}
    assert height["渡邊"] == max(height.values())
    assert height["渡邊"] > 2 * height["事業推進部"]


def test_japanese_font_is_embedded(badge):
    rows = run("pdffonts", str(badge)).splitlines()[2:]
    assert rows
    for row in rows:
        name, *_, emb, sub, uni, _obj, _gen = row.split()
        assert re.fullmatch(r"[A-Z]{6}\+IPAexGothic", name), row
        assert (emb, sub, uni) == ("yes", "yes", "yes"), row


def test_font_has_a_glyph_for_every_character_of_the_test_data():
    font_file = run("fc-match", "-f", "%{file}", "IPAexGothic")
    with TTFont(font_file, lazy=True) as ttf:
        cmap = ttf.getBestCmap()
    values = [TITLE, NAME, KANA, ORGANIZATION, DEPARTMENT, *LONGEST.values(), LONG_CJK_NAME]
    missing = {ch for value in values for ch in value if not ch.isspace() and ord(ch) not in cmap}
    assert not missing, f"IPAexGothic has no glyph for {sorted(missing)}"


def test_a_badge_is_one_91_by_55_mm_page(badge):
    info = pdfinfo(badge)
    assert info["pages"] == 1
    assert info["width_mm"] == pytest.approx(91, abs=0.5)
    assert info["height_mm"] == pytest.approx(55, abs=0.5)


@pytest.mark.parametrize("dpi", [150, 200])
def test_qr_decodes_and_is_at_least_18_mm(badge, dpi):
    results = zxingcpp.read_barcodes(raster(badge, dpi))
    assert [r.text for r in results] == [PAYLOAD]
    assert symbol_width_mm(results[0], dpi) >= 18  # the symbol itself, quiet zone not counted


def test_a_real_token_decodes_too(render):
    payload = sign_pass("a seed", 2**31 - 1, 2**31 - 1, 7)  # an entry credential, as printed (largest ids)
    path = render(make_ctx(qr_payload=payload))
    assert [r.text for r in zxingcpp.read_barcodes(raster(path))] == [payload]


def test_the_pdf_opens_the_print_dialog_at_full_size(badge, badge_app):
    catalog = PdfReader(badge).trailer["/Root"]
    action = catalog["/OpenAction"].get_object()
    assert action["/S"] == "/JavaScript" and "this.print(" in action["/JS"]
    assert catalog["/ViewerPreferences"]["/PrintScaling"] == "/None"
    with badge_app.app_context():
        plain = PdfReader(io.BytesIO(badges.render_badge(make_ctx(), print_dialog=False)))
    assert "/OpenAction" not in plain.trailer["/Root"]


def assert_inside(boxes, left, top, right, bottom):
    assert boxes
    for w in boxes:
        assert left - 0.5 <= w["x0"] and w["x1"] <= right + 0.5, w
        assert top - 0.5 <= w["y0"] and w["y1"] <= bottom + 0.5, w


@pytest.mark.parametrize("attendee, event", [
    (LONGEST, {}),
    ({"full_name": LONG_CJK_NAME, "full_kana": "じゅげむじゅげむごこうのすりきれかいじゃりすいぎょの"
      "すいぎょうまつうんらいまつふうらいまつ", "organization": "公益社団法人" + "全国市民活動支援ネットワーク連絡協議会" * 2},
     {"title": "第" + "十" * 40 + "回 全国ボランティアコーディネーター研究集会"}),
    ({"full_name": "Wolfeschlegelsteinhausenbergerdorff-Alexandrina-Maximiliana Featherstonehaugh",
      "full_kana": "", "organization": "Supercalifragilisticexpialidocious International Volunteers"
      " Association of Greater Chiba", "department": "x" * 120},
     {"title": "Supercalifragilisticexpialidocious" * 3, "language": "en"}),
])
def test_long_values_shrink_and_stay_inside_the_card(render, attendee, event):
    path = render(make_ctx(attendee=attendee, event=event))
    assert pdfinfo(path)["pages"] == 1
    assert_inside(words(path), 0, 0, 91 * MM, 55 * MM)
    text = squeezed(text_of(path)).replace("-", "")
    # The name and the organization are shown whole (pdftotext joins words split at a hyphen).
    assert squeezed(attendee["full_name"]).replace("-", "") in text
    if attendee is LONGEST:
        for value in LONGEST.values():
            assert squeezed(value).replace("-", "") in text, value
    assert [r.text for r in zxingcpp.read_barcodes(raster(path))] == [PAYLOAD]


def test_the_longest_name_keeps_clear_of_the_qr_code(longest_badge):
    results = zxingcpp.read_barcodes(raster(longest_badge))
    qr_left_mm = min(results[0].position.top_left.x, results[0].position.bottom_left.x) / 200 * 25.4
    boxes = [w for w in words(longest_badge) if w["y0"] > 12 * MM]  # below the title band
    assert max(w["x1"] for w in boxes) / MM < qr_left_mm - 2


def test_markup_in_the_context_is_escaped(render):
    path = render(make_ctx(attendee={"full_name": "<b>太郎</b>", "organization": "<i>x</i> & y"}))
    text = text_of(path)
    assert "<b>太郎</b>" in text and "<i>x</i> & y" in text


# ---- sheets of 10 -----------------------------------------------------------------------------

def numbered(n: int) -> list[dict]:
    """n badges in a given order, each name and payload numbered, with long ones in between."""
    ctxs = []
    for i in range(n):
        attendee = dict(LONGEST) if i % 4 == 3 else {}
        attendee["full_name"] = f"受付{i:02d} " + (attendee.get("full_name") or "太郎")
        ctxs.append(make_ctx(attendee=attendee, qr_payload=sign_pass("a seed", 1, 1000 + i, 1)))
    return ctxs


def slot(w, page_top_mm: float = 11, page_left_mm: float = 14) -> int:
    """The card slot (0–9, row by row) a box is in on an A4 sheet."""
    col = int((w["x0"] / MM - page_left_mm) // 91)
    row = int((w["y0"] / MM - page_top_mm) // 55)
    return row * 2 + col


def check_sheet(path, ctxs):
    info = pdfinfo(path)
    assert info["pages"] == -(-len(ctxs) // 10)
    assert (round(info["width_mm"]), round(info["height_mm"])) == (210, 297)
    boxes = words(path)
    # Every card's number, read from its page and position, in the order given.
    found = {}
    for w in boxes:
        match = re.fullmatch(r"受付(\d\d)", w["text"])
        if match:
            found[(w["page"] - 1) * 10 + slot(w)] = int(match.group(1))
    assert [found[k] for k in sorted(found)] == list(range(len(ctxs)))
    assert sorted(found) == list(range(len(ctxs)))
    # Nothing outside its card: each word inside the card rectangle of its slot.
    for w in boxes:
        s = slot(w)
        left, top = (14 + 91 * (s % 2)) * MM, (11 + 55 * (s // 2)) * MM
        assert_inside([w], left, top, left + 91 * MM, top + 55 * MM)
    # Ten QR codes on a full page, each in the slot its payload says.
    for page in range(1, info["pages"] + 1):
        results = zxingcpp.read_barcodes(raster(path, 200, page))
        expected = min(10, len(ctxs) - (page - 1) * 10)
        assert len(results) == expected
        for r in results:
            x = r.position.top_left.x / 200 * 25.4 * MM
            y = r.position.top_left.y / 200 * 25.4 * MM
            index = (page - 1) * 10 + slot({"x0": x, "y0": y})
            assert r.text == ctxs[index]["qr_payload"]


def test_a_sheet_of_23_badges_has_3_a4_pages_in_the_order_given(render, monkeypatch):
    # One page per chunk: three typst documents laid out on the second thread, joined with pypdf.
    monkeypatch.setattr(badges, "CHUNK_PAGES", 1)
    ctxs = numbered(23)
    check_sheet(render(ctxs), ctxs)


def test_a_sheet_of_one_chunk_is_one_typst_document(render, monkeypatch):
    import pypdf

    monkeypatch.setattr(pypdf, "PdfWriter", None)  # a join would fail
    ctxs = numbered(12)
    check_sheet(render(ctxs), ctxs)


def test_progress_is_reported_after_each_chunk_and_an_exception_stops_the_sheet(monkeypatch, badge_app):
    monkeypatch.setattr(badges, "CHUNK_PAGES", 1)
    seen = []

    def progress(done):
        seen.append(done)
        if done >= 20:
            raise RuntimeError("job taken over")

    with pytest.raises(RuntimeError, match="taken over"):
        badges.render_badge_sheet(numbered(35), progress=progress)
    assert seen == [10, 20]


def test_typst_lets_go_of_a_sheets_memoized_work(badge_app):
    """typst-py keeps a compile's memoized work for ten more compiles: forget() ages it out, so a
    worker does not hold a big sheet's layout after it (docs/fonts.md: memory)."""

    def rss_mb() -> float:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024

    def sheet(round_: int) -> list[dict]:  # new names each round: nothing memoized is reused
        return [{**c, "attendee": {**c["attendee"], "full_name": f"{c['attendee']['full_name']} {round_}"}}
                for c in ctxs]

    ctxs = [{**c, "qr_code": qr.symbol(c["qr_payload"])} for c in numbered(300)]
    badges.render_badge_sheet(sheet(0))  # warm: fonts, templates, the allocator's arenas
    before = rss_mb()
    for round_ in range(1, 4):  # without forget(), each sheet's ~75 MB of layouts would pile up
        badges.render_badge_sheet(sheet(round_))
    assert rss_mb() - before < 40


def test_the_sheet_uses_one_font_and_the_card_size(render):
    path = render(numbered(10))
    fonts = run("pdffonts", str(path)).splitlines()[2:]
    assert fonts and all("IPAexGothic" in row for row in fonts)
    assert os.path.getsize(path) < 400_000
