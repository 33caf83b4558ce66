"""The entry pass PDF, checked the way a person would: its text layer, its embedded fonts, the
QR code read back from a 150 dpi raster, and what it refuses to fetch.

No database: the context is built by hand, as domain.registration.passes.pass_context would build it.
"""

from __future__ import annotations

import os
import re
import select
import socket

import pymupdf
import pytest
import zxingcpp
from fontTools.ttLib import TTFont
from PIL import Image, ImageFilter

from eventreg import create_app
from eventreg.domain.registration.passes import sign_pass
from eventreg.web import documents

from .pdf_checks import KANA, NAME, ORGANIZATION, PAYLOAD, TITLE, make_ctx, page_count, run, squeezed, text_of

DATE_LINE = "2019年2月8日(金) 14:00–17:00 日本時間(13:30開場)"
JA_INSTRUCTION = "受付でこのQRコードをご提示ください"
EN_INSTRUCTION = "Show this pass at reception"
A4_WIDTH_PT = 595.28
PAGE_MARGIN_PT = 12 / 25.4 * 72


@pytest.fixture(scope="module")
def pdf_app():
    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})


@pytest.fixture(scope="module")
def render(pdf_app, tmp_path_factory):
    """render(ctx) -> path of the written PDF."""
    folder = tmp_path_factory.mktemp("passes")
    count = iter(range(1000))

    def render(ctx: dict):
        with pdf_app.app_context():
            body = documents.pass_pdf(ctx)
        assert body.startswith(b"%PDF-")
        path = folder / f"pass-{next(count)}.pdf"
        path.write_bytes(body)
        return path

    return render


@pytest.fixture(scope="module")
def ja_pass(render):
    return render(make_ctx())


def decode_qr(path, dpi: int = 150):
    png = path.with_suffix(f".{dpi}.png")
    run("pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(path), str(png.with_suffix("")))
    return zxingcpp.read_barcodes(Image.open(png))


def test_text_layer_has_title_name_kana_organization_and_date(ja_pass):
    text = text_of(ja_pass)
    assert DATE_LINE in text
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日\([月火水木金土日]\) 14:00–17:00 日本時間\(13:30開場\)", text)
    flat = squeezed(text)
    for value in (TITLE, NAME, KANA, ORGANIZATION, "第1部基礎編", "事業推進部",
                  "千葉市民活動支援センター", "JR千葉駅東口から徒歩10分。", "jimukyoku@example.org"):
        assert squeezed(value) in flat, value
    assert JA_INSTRUCTION in flat


def test_one_page_with_the_name_above_nothing_else(ja_pass):
    assert page_count(ja_pass) == 1
    # The furigana sits right above the name, flush left with it.
    words = {w[4]: w[:4] for w in pymupdf.open(ja_pass)[0].get_text("words")}
    kana, name = words[KANA.split()[0]], words[NAME.split()[0]]
    assert abs(kana[0] - name[0]) < 1 and 0 < name[1] - kana[3] < 8  # points


def test_japanese_font_is_embedded(ja_pass):
    fonts = run("pdffonts", str(ja_pass)).splitlines()[2:]
    assert fonts, "no fonts in the PDF"
    for row in fonts:
        # name type... encoding emb sub uni object ID: a subset of IPAexGothic, embedded.
        name, *_, emb, sub, uni, _obj, _gen = row.split()
        assert re.fullmatch(r"[A-Z]{6}\+IPAexGothic", name), row
        assert (emb, sub, uni) == ("yes", "yes", "yes"), row


def test_font_has_a_glyph_for_every_character_of_the_test_data():
    font_file = run("fc-match", "-f", "%{file}", "IPAexGothic")
    assert "ipaex" in os.path.realpath(font_file).lower(), font_file
    with TTFont(font_file, lazy=True) as ttf:
        cmap = ttf.getBestCmap()
    ctx = make_ctx()
    values = [TITLE, NAME, KANA, ORGANIZATION, DATE_LINE, JA_INSTRUCTION, *ctx["event"].values(),
              ctx["session"]["title"], *ctx["attendee"].values()]
    missing = {ch for value in values if isinstance(value, str) for ch in value
               if not ch.isspace() and ord(ch) not in cmap}
    assert not missing, f"IPAexGothic has no glyph for {sorted(missing)}"


def test_qr_decodes_from_a_150_dpi_raster_and_is_over_80_mm(ja_pass):
    results = decode_qr(ja_pass)
    assert [r.text for r in results] == [PAYLOAD]
    position = results[0].position
    width_px = max(p.x for p in (position.top_right, position.bottom_right)) - min(
        p.x for p in (position.top_left, position.bottom_left))
    assert width_px / 150 * 25.4 >= 80  # the symbol itself, quiet zone not counted


def camera_frame(page: Image.Image, angle: float, blur: float) -> Image.Image:
    """The whole A4 page as a 640 × 480 camera sees it held at arm's length: rotated, fitted into
    the frame (~1.5 px per mm) and blurred by the lens and the hand."""
    turned = page.convert("L").rotate(angle, expand=True, fillcolor=255)
    scale = min(640 / turned.width, 480 / turned.height)
    small = turned.resize((round(turned.width * scale), round(turned.height * scale)), Image.LANCZOS)
    frame = Image.new("L", (640, 480), 255)
    frame.paste(small, ((640 - small.width) // 2, (480 - small.height) // 2))
    return frame.filter(ImageFilter.GaussianBlur(blur))


@pytest.mark.parametrize("angle", [0, 10, -10])
def test_the_whole_a4_page_reads_in_a_640x480_camera_frame(ja_pass, angle):
    """The desk's camera sees the sheet, not the code: at 45 mm (the old layout) the symbol got
    under 2 px per module and a blur of 0.8 px already hid it; at 85 mm it reads through 1.2 px."""
    decode_qr(ja_pass)  # writes the 150 dpi raster
    page = Image.open(ja_pass.with_suffix(".150.png"))
    results = zxingcpp.read_barcodes(camera_frame(page, angle, blur=1.2))
    assert [r.text for r in results] == [PAYLOAD]


def test_a_real_token_decodes_too(render):
    payload = sign_pass("a seed", 2**31 - 1, 2**31 - 1, 7)  # an entry credential, as printed (largest ids)
    assert [r.text for r in decode_qr(render(make_ctx(qr_payload=payload)))] == [payload]


def test_english_event_gets_english_lines(render):
    path = render(make_ctx(event={"language": "en", "title": "Annual Volunteers Meeting"}))
    text = text_of(path)
    assert EN_INSTRUCTION in text
    assert "Fri, 8 Feb 2019, 14:00–17:00 JST (doors open 13:30)" in text
    assert "Venue" in text and "Contact" in text
    assert JA_INSTRUCTION not in squeezed(text) and "開場" not in text
    assert " 様" not in text


def test_japanese_event_has_no_english_instruction(ja_pass):
    assert EN_INSTRUCTION not in text_of(ja_pass)


@pytest.mark.parametrize("attendee, event", [
    ({"full_name": "寿限無寿限無五劫の擦り切れ海砂利水魚の水行末雲来末風来末食う寝る処に住む処",
      "organization": "公益社団法人" + "全国市民活動支援ネットワーク連絡協議会" * 4},
     {"title": "第" + "十" * 40 + "回 全国ボランティアコーディネーター研究集会"}),
    ({"full_name": "Wolfeschlegelsteinhausenbergerdorff-Alexandrina-Maximiliana Featherstonehaugh",
      "full_kana": "", "department": "x" * 120},
     {"title": "Supercalifragilisticexpialidocious" * 4, "language": "en",
      "contact_email": "a-very-long-mailbox-name-for-the-organizing-committee@sub.example.org"}),
])
def test_long_values_wrap_inside_the_page(render, attendee, event):
    path = render(make_ctx(attendee=attendee, event=event))
    assert page_count(path) == 1
    bbox = run("pdftotext", "-bbox", str(path), "-")
    right_edges = [float(x) for x in re.findall(r'<word xMin="[^"]+" yMin="[^"]+" xMax="([^"]+)"', bbox)]
    assert right_edges
    assert max(right_edges) <= A4_WIDTH_PT - PAGE_MARGIN_PT + 0.5
    # pdftotext joins a word hyphenated at a line end, so compare without hyphens.
    assert squeezed(attendee["full_name"]).replace("-", "") in squeezed(text_of(path)).replace("-", "")
    assert [r.text for r in decode_qr(path)] == [PAYLOAD]


@pytest.fixture
def listener():
    """A TCP port on 127.0.0.1 that records whether anything connected to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)

    def connected() -> bool:
        readable, _, _ = select.select([server], [], [], 0.2)
        return bool(readable)

    yield server.getsockname()[1], connected
    server.close()


def test_markup_in_the_context_is_escaped_and_never_fetched(render, listener):
    port, connected = listener
    html = f'<img src="http://127.0.0.1:{port}/x.png">'
    path = render(make_ctx(attendee={"organization": html, "department": f"<b>{port}</b>"}))
    assert squeezed(html) in squeezed(text_of(path))  # shown as text, not as an image
    assert f"<b>{port}</b>" in text_of(path)
    assert not connected()
