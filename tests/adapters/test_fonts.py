"""Every character the form accepts prints with a real glyph, in the pass and in the badge.

The hard characters are in font_cases.py. Each is rendered, and the PDF is checked three ways:
WeasyPrint's own ".notdef glyph" warning, the glyph ids PyMuPDF reads back (0 is the empty box
that pdftotext does not see), and the character maps of the fonts embedded in the PDF. A
character the fonts cannot draw is refused by the form instead (domain.people.text.clean_name with
adapters.fonts.covers): the two sides are tested against each other.
"""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pymupdf
import pytest
from fontTools.ttLib import TTFont, TTLibError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventreg import create_app
from eventreg.adapters import badges, fonts
from eventreg.domain.errors import DomainError
from eventreg.domain.people import text
from eventreg.web import documents

from . import font_cases
from .pdf_checks import assert_drawn_by_the_chain, drawn_glyphs, make_ctx, missing_glyphs, run

ROOT = Path(__file__).resolve().parents[2]
CHAIN = ["Noto Sans LGC", "IPAexGothic", "Noto Sans CJK JP"]  # LGC: pdf.css's alias of Noto Sans


@pytest.fixture(scope="module")
def app_ctx():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    with app.app_context():
        yield


@pytest.fixture
def notdef_warnings(caplog):
    """WeasyPrint's warnings about missing glyphs, as a list filled while the test renders."""
    caplog.set_level(logging.WARNING, logger="weasyprint")
    return lambda: [r.getMessage() for r in caplog.records if ".notdef" in r.getMessage()]


def accepted(value: str, max_length: int = 100) -> str:
    return text.clean_name(value, max_length=max_length, covers=fonts.covers)


@lru_cache(maxsize=1)
def _postscript_names() -> dict[str, str]:
    """The PostScript name of each chain font's file → its family in the chain (typst names the
    fonts it embeds by PostScript name: NotoSans-Regular is the Noto Sans LGC alias)."""
    names = {}
    for font in fonts.chain_fonts():
        with TTFont(font.file, fontNumber=font.index, lazy=True) as ttf:
            names[ttf["name"].getDebugName(6)] = font.family
    return names


def chain_name(pdf_font_name: str) -> str:
    """'ABCDEF+Noto-Sans-CJK-JP' (WeasyPrint's subset) or 'ABCDEF+NotoSansCJKjp-Regular' (typst's)
    → 'Noto Sans CJK JP'."""
    name = pdf_font_name.split("+")[-1].removesuffix("-Identity-H")
    return _postscript_names().get(name) or name.replace("-", " ")


class _Covered:
    """The code points a chain font has, for an embedded subset that keeps no character map
    (typst's subsets draw by glyph id alone; ToUnicode gives the text)."""

    def __init__(self, family: str):
        self.font = next(f for f in fonts.chain_fonts() if f.family == family)

    def __contains__(self, code: int) -> bool:
        return self.font.covers(chr(code))


def embedded_cmaps(pdf_bytes: bytes) -> dict:
    """Font name → the code points in the character map of the font program embedded in the PDF
    (or, for a subset without one, of the chain font it was cut from)."""
    cmaps = {}
    with pymupdf.open(stream=pdf_bytes, filetype="pdf") as document:
        for page in document:
            for xref, *_ in page.get_fonts():
                name, _ext, _type, program = document.extract_font(xref)
                assert program, f"{name} is not embedded"
                family = chain_name(name)
                try:
                    cmaps[family] = set(TTFont(io.BytesIO(program))["cmap"].getBestCmap())
                except (KeyError, TTLibError):  # no cmap table, or a bare CFF program
                    cmaps[family] = _Covered(family)
    return cmaps


def assert_every_character_printed(pdf_bytes: bytes, value: str) -> None:
    assert missing_glyphs(pdf_bytes) == []
    drawn = {ch: font for ch, gid, font in drawn_glyphs(pdf_bytes)}
    cmaps = embedded_cmaps(pdf_bytes)
    for ch in set(value) - {" "}:
        assert ch in drawn, f"{ch!r} (U+{ord(ch):04X}) is not in the PDF"
        font = chain_name(drawn[ch])
        assert font in CHAIN, f"{ch!r} drawn by {font}, outside the chain"
        assert ord(ch) in cmaps[font], f"{ch!r} not in the character map of the embedded {font}"


# ---- the chain and its coverage ----------------------------------------------------------------

def test_the_chain_is_pdf_css_font_family_and_every_font_is_installed():
    assert fonts.chain_families() == CHAIN
    assert [f.family for f in fonts.chain_fonts()] == CHAIN
    assert list(fonts.font_faces()) == ["Noto Sans LGC"]
    assert "sans-serif" in (ROOT / "templates/pdf/pdf.css").read_text()  # generic last, not counted


@pytest.mark.parametrize("family", CHAIN)
def test_fontconfig_coverage_is_the_fonts_cmap(family):
    font = next(f for f in fonts.chain_fonts() if f.family == family)
    with TTFont(font.file, fontNumber=font.index, lazy=True) as ttf:
        cmap = ttf["cmap"].getBestCmap()
    covered = {code for start, end in font.ranges for code in range(start, end + 1)}
    # fontconfig leaves out the C0 controls (NUL, CR) that some fonts map; the form refuses them.
    expected = {code for code, glyph in cmap.items() if glyph != ".notdef" and code >= 0x20}
    if family in fonts.font_faces():  # an alias draws only its unicode-range
        ranges = fonts.font_faces()[family][1]
        expected = {code for code in expected if any(a <= code <= b for a, b in ranges)}
    assert covered == expected and len(covered) > 500


def test_the_alias_is_noto_sans_limited_to_latin_greek_cyrillic():
    alias = fonts.chain_fonts()[0]
    assert alias.family == "Noto Sans LGC" and alias.file.endswith("NotoSans-Regular.ttf")
    assert alias.covers("ș") and alias.covers("λ") and alias.covers("Ж")
    assert not alias.covers("a") and not alias.covers("é") and not alias.covers("—")  # IPAexGothic's


def test_a_family_that_is_not_installed_is_not_counted():
    assert fonts.find_font("No Such Font Family") is None


def test_the_chain_covers_every_hard_character_but_one_rare_kanji():
    uncovered = [ch for chars in font_cases.CATEGORIES.values() for ch in chars if not fonts.covers(ch)]
    assert uncovered == ["\U000234BA"]  # 𣒺: refused by the form (test below)


def test_setup_installs_every_font_package_of_the_chain():
    setup = (ROOT / "scripts/setup").read_text()
    readme = (ROOT / "README.md").read_text()
    installed = re.search(r"font_packages=\(([^)]*)\)", setup).group(1).split()
    for package in ("fonts-ipaexfont-gothic", "fonts-noto-core", "fonts-noto-cjk"):
        assert package in installed
        assert package in readme.split("\n## ")[1]


# ---- rendering each hard character -------------------------------------------------------------

@pytest.mark.parametrize("category", list(font_cases.SAMPLE_NAMES))
def test_every_hard_character_prints_on_the_badge(app_ctx, notdef_warnings, category):
    """The pass and the reception list (typst): test_document_glyphs.py."""
    name = accepted(font_cases.SAMPLE_NAMES[category], 50 if len(font_cases.SAMPLE_NAMES[category]) <= 50 else 100)
    assert name == font_cases.SAMPLE_NAMES[category]  # the stored form is the one we render
    ctx = make_ctx(attendee={"full_name": name[:50], "organization": name})
    rendered = badges.render_badge(ctx)
    assert notdef_warnings() == []
    assert_every_character_printed(rendered, name)


def test_greek_and_cyrillic_are_drawn_proportional_not_as_full_width_kanji(app_ctx):
    """IPAexGothic has Greek and Cyrillic, but only full-width (the badge read 「Α λ έ ξ α ν」)."""
    rendered = badges.render_badge(make_ctx(attendee={"full_name": "Αλέξανδρος Иван", "organization": "Ștefan 渡邊"}))
    drawn = {ch: chain_name(font) for ch, _gid, font in drawn_glyphs(rendered)}
    assert {drawn[ch] for ch in "ΑλέξИванȘ"} == {"Noto Sans LGC"}
    assert {drawn[ch] for ch in "tefan渡邊"} == {"IPAexGothic"}  # ordinary text stays on the fast font


def test_every_hard_character_prints_on_the_badge_sheet(app_ctx):
    names = ["𠮷野 太郎", "𩸽田 花子", "𠀋山 一", "𠮟 二郎", *font_cases.SAMPLE_NAMES.values()]
    sheet = badges.render_badge_sheet([make_ctx(attendee={"full_name": n[:50], "organization": n})
                                       for n in names])
    for name in names:
        assert_every_character_printed(sheet, name)


@pytest.mark.parametrize("typed, stored", list(font_cases.TYPED.items()))
def test_what_nfkc_makes_of_typed_forms_is_stored_and_printable(typed, stored):
    assert accepted(typed) == stored


# A fresh machine set up by scripts/setup has only the fonts of the packages it installs. On main
# (IPAexGothic alone) U+20BB7 came out as a box there; the machine these tests run on may have more
# fonts, so the render runs in a process whose fontconfig sees only those packages' files.
FRESH_RENDER = """
import logging, sys
logging.basicConfig(level=logging.WARNING)  # WeasyPrint's .notdef warning to stderr
sys.path[:0] = [{root!r}, {tests!r}]
from pdf_checks import make_ctx
from eventreg import create_app
from eventreg.adapters import badges
from eventreg.web import documents
with create_app({{"SQLALCHEMY_DATABASE_URI": "sqlite://"}}).app_context():
    ctx = make_ctx(attendee={{"full_name": "𠮷野 𩸽子", "organization": "Łódź Ștefan Nguyễn 김민준"}})
    open(sys.argv[1], "wb").write(documents.pass_pdf(ctx))
    open(sys.argv[2], "wb").write(badges.render_badge(ctx))
"""


def _setup_font_files() -> list[str]:
    setup = (ROOT / "scripts/setup").read_text()
    packages = sorted(re.search(r"font_packages=\(([^)]*)\)", setup).group(1).split())
    listed = run("dpkg", "-L", *packages).split()
    return [f for f in listed if f.endswith((".ttf", ".otf", ".ttc")) and os.path.isfile(f)]


def test_a_fresh_machine_prints_u20bb7_on_the_pass_and_the_badge(tmp_path):
    fontdir = tmp_path / "fonts"
    fontdir.mkdir()
    for i, file in enumerate(_setup_font_files()):
        if "Regular" in file or "ipaex" in file:  # the faces the PDFs use, fewer to scan
            (fontdir / f"{i}-{Path(file).name}").symlink_to(file)
    conf = tmp_path / "fonts.conf"
    conf.write_text(f"<?xml version='1.0'?><fontconfig><dir>{fontdir}</dir>"
                    f"<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>")
    env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
    out_pass, out_badge = tmp_path / "pass.pdf", tmp_path / "badge.pdf"
    result = subprocess.run(
        [sys.executable, "-c", FRESH_RENDER.format(root=str(ROOT), tests=str(ROOT / "tests/adapters")),
         str(out_pass), str(out_badge)], env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    assert ".notdef" not in result.stderr, result.stderr[-2000:]

    assert_drawn_by_the_chain(out_pass.read_bytes(), "𠮷野 𩸽子 Łódź Ștefan Nguyễn 김민준")  # typst
    assert_every_character_printed(out_badge.read_bytes(), "𠮷野 𩸽子 Łódź Ștefan Nguyễn 김민준")


# ---- what no font draws is refused, with the character named -----------------------------------

@pytest.mark.parametrize("value, code, detail", [
    ("𣒺田", "unprintable_character", "𣒺"),
    ("ก้อง", "unprintable_character", "ก"),  # Thai: no font of the chain (docs/fonts.md)
    ("山田😀", "emoji", "😀"),
    ("🇯🇵", "emoji", "🇯🇵"),
    ("❤️", "emoji", "❤️"),
])
def test_characters_the_fonts_cannot_draw_are_refused(value, code, detail):
    with pytest.raises(DomainError) as caught:
        accepted(value)
    assert (caught.value.code, caught.value.detail) == (code, detail)


def test_main_accepted_a_character_that_printed_as_a_box(app_ctx):
    """What the refusal prevents: 𣒺 on a badge is glyph 0 (typst writes U+FFFD as its text)."""
    rendered = badges.render_badge(make_ctx(attendee={"full_name": "𣒺田 一"}))
    assert missing_glyphs(rendered) == [("\ufffd", "IPAexGothic")]


def test_text_style_symbols_are_not_emoji_and_print():
    assert accepted("企画☆★♪〒※©") == "企画☆★♪〒※©"


# ---- property: anything accepted prints --------------------------------------------------------

def _alphabet() -> list[str]:
    union = fonts._union()
    codes = [c for start, end in union for c in range(start, end + 1)]
    return [chr(c) for c in codes[:: max(1, len(codes) // 4000)]]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.filter_too_much])
@given(st.lists(st.sampled_from(_alphabet()), min_size=1, max_size=12).map("".join))
def test_whatever_the_form_accepts_prints_with_real_glyphs(app_ctx, value):
    try:
        name = accepted(value, 50)
    except DomainError:
        return
    rendered = documents.pass_pdf(make_ctx(attendee={"full_name": name}))
    assert missing_glyphs(rendered) == []
