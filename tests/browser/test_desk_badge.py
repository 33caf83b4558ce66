"""The badge printed from the desk page (static/desk/badge.js) in real Chromium.

The card is printed to PDF with Playwright's page.pdf() (the print path: print media, @page size)
and read back with PyMuPDF: every character of 𠮷野, 髙橋 and 﨑山 is drawn with a real glyph of the
"Eventreg Badge" faces (web/desk_badge.py), not with .notdef and not with a font this machine
happens to have. The module is driven from a page made here on the live server's origin with the
app's policy and the desk's real partial (templates/reception/_desk_modules.html): the desk page
that calls it is another part of issue 14.
"""

from __future__ import annotations

import json
import os
import re

import pymupdf
import pytest
import zxingcpp
from flask import render_template
from PIL import Image

from eventreg.domain.registration import passes
from eventreg.models import Event
from eventreg.web.desk_vendor import VENDOR, vendor_url

from .. import factories
from ..adapters.pdf_checks import drawn_glyphs, missing_glyphs
from .conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, watch
from .module_page import open_module_page as serve
from .test_desk import sign_in
from .test_registration_flow import database

pytestmark = pytest.mark.browser

PEOPLE = [dict(family_name="𠮷野", given_name="花子", family_kana="ヨシノ", given_kana="ハナコ",
               organization="特定非営利活動法人 ちば市民活動"),
          dict(family_name="髙橋", given_name="一郎", family_kana="タカハシ", given_kana="イチロウ"),
          dict(family_name="﨑山", given_name="さくら", family_kana="サキヤマ", given_kana="サクラ")]
PAGE = "/__badge_test"
# A laptop without Japanese fonts: this Chromium sees only DejaVu (fontconfig), so a kanji drawn on
# the card can only come from the faces the desk was given.
FONTS_CONF = """<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{cache}</cachedir></fontconfig>"""
PAGE_JS = """
import { prepareBadges, printBadge } from "/static/desk/badge.js";
window.printed = 0;
window.print = () => { window.printed += 1; };  // the dialog itself: page.pdf() prints instead
window.badge = { prepareBadges, printBadge };
document.body.dataset.ready = "1";
"""


@pytest.fixture
def bare_laptop(browser, tmp_path):
    """A 1280-px page in a Chromium whose only fonts are DejaVu (no kanji, no kana)."""
    conf = tmp_path / "fonts.conf"
    conf.write_text(FONTS_CONF.format(cache=tmp_path / "fc-cache"))
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                                           env={**os.environ, "FONTCONFIG_FILE": str(conf)})
    context = watch(chromium.new_context(**DESKTOP))
    context.set_default_timeout(10_000)
    yield context.new_page()
    chromium.close()


def setup(app):
    with database(app) as s:
        event = factories.make_event(title="NPO会計セミナー 髙﨑会場")
        user = factories.make_staff("reception", events=[event])
        regs = [factories.register_person(event, **p) for p in PEOPLE]
        rows = [{"id": r.id, "name": f"{r.family_name} {r.given_name}", "kana": f"{r.family_kana} {r.given_kana}",
                 "organization": r.organization, "department": r.department} for r in regs]
        return event.id, user.email, rows, [passes.qr_payload(r) for r in regs], s.get(Event, event.id).title


def open_module_page(app, live_server, page, event_id: int) -> None:
    with app.test_request_context():
        with database(app) as s:
            partial = render_template("reception/_desk_modules.html", event=s.get(Event, event_id))
            urls = json.dumps({name: vendor_url(name) for name in VENDOR})
    html = (f"<!doctype html><html lang=ja><meta charset=utf-8>{partial}<main>desk</main>"
            f'<script type="application/json" id="desk-vendor">{urls}</script>'
            f'<script type="module" src="{PAGE}.js"></script></html>')
    serve(page, live_server, PAGE, html, PAGE_JS)
    page.locator("body[data-ready='1']").wait_for(state="attached")


def print_card(page, row, title, pass_text) -> bytes:
    page.evaluate("([row, title, text]) => badge.printBadge(row, {title}, text)", [row, title, pass_text])
    assert page.evaluate("window.printed") >= 1
    return page.pdf(prefer_css_page_size=True, print_background=True)


def test_the_badge_card_draws_every_name_with_the_shipped_fonts(app, live_server, bare_laptop, tmp_path):
    desktop = bare_laptop
    event_id, email, rows, payloads, title = setup(app)
    sign_in(desktop, live_server, email, f"/desk/{event_id}")
    open_module_page(app, live_server, desktop, event_id)
    desktop.evaluate("() => badge.prepareBadges()")
    # From here on the server cannot be reached: the card, its fonts and its QR need nothing from it.
    refused = []
    desktop.context.route("**/*", lambda route: (refused.append(route.request.url), route.abort()))

    printed = ""
    for row, payload in zip(rows, payloads, strict=True):
        pdf = print_card(desktop, row, title, payload)
        glyphs = drawn_glyphs(pdf)
        text = "".join(ch for ch, _gid, _font in glyphs)
        printed += text
        assert row["name"].replace(" ", "") in text.replace(" ", ""), text
        assert missing_glyphs(pdf) == []
        # Chromium names a TrueType face as it is named (EventregBadge2: IPAexGothic's part) and
        # embeds a CFF face (Noto Sans CJK's part, 𠮷) as Type3 outlines; nothing else is drawn.
        assert {font for _ch, _gid, font in glyphs} <= {"EventregBadge1", "EventregBadge2", "EventregBadge3"} | {
            font for _ch, _gid, font in glyphs if font.startswith("Type3")}, glyphs
        (tmp_path / "badge.pdf").write_bytes(pdf)
        with pymupdf.open(stream=pdf, filetype="pdf") as document:
            assert len(document) == 1
            width_mm, height_mm = (round(v / 72 * 25.4) for v in document[0].rect[2:])
            assert (width_mm, height_mm) == (91, 55)
            document[0].get_pixmap(dpi=300).save(str(tmp_path / "badge.png"))
        assert [c.text for c in zxingcpp.read_barcodes(Image.open(tmp_path / "badge.png"))] == [payload]
    assert {"𠮷", "髙", "﨑"} <= set(printed)
    assert refused == []  # and it asked for nothing


def test_without_a_pass_text_the_card_has_no_qr_and_the_page_prints_only_the_card(app, live_server, desktop, tmp_path):
    event_id, email, rows, _payloads, title = setup(app)
    sign_in(desktop, live_server, email, f"/desk/{event_id}")
    open_module_page(app, live_server, desktop, event_id)
    pdf = print_card(desktop, rows[1], title, None)
    text = "".join(ch for ch, _gid, _font in drawn_glyphs(pdf))
    assert "髙橋" in text and "desk" not in text  # the page around the card is not printed
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        document[0].get_pixmap(dpi=300).save(str(tmp_path / "badge.png"))
    assert zxingcpp.read_barcodes(Image.open(tmp_path / "badge.png")) == []


def test_the_badge_fonts_are_for_the_events_staff_only(app, client, login):
    event_id, _email, _rows, _payloads, _title = setup(app)
    assert client.get(f"/desk/{event_id}/badge-fonts.css").status_code in (302, 401, 403, 404)
    with database(app):
        other = factories.make_event()
        outsider = factories.make_staff("reception", events=[other])
        login(outsider)
    assert client.get(f"/desk/{event_id}/badge-fonts.css").status_code == 404
    with database(app) as s:
        insider = factories.make_staff("reception", events=[s.get(Event, event_id)])
        login(insider)
    css = client.get(f"/desk/{event_id}/badge-fonts.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    urls = re.findall(r'url\("([^"]+)"\)', css.get_data(as_text=True))
    assert len(urls) >= 2 and "U+20BB7" in css.get_data(as_text=True)  # 𠮷 from Noto Sans CJK JP
    font = client.get(urls[0])
    assert font.status_code == 200 and font.mimetype == "font/woff2" and font.data[:4] == b"wOF2"
    assert client.get(re.sub(r"[0-9a-f]{20}\.woff2", "0" * 20 + ".woff2", urls[0])).status_code == 404

    # A walk-in adds characters after the page read the stylesheet: every face it names is still
    # served, now cut with the new characters too, and the new stylesheet names a new version.
    with database(app) as s:
        factories.register_person(s.get(Event, event_id), family_name="鷗外", given_name="麤")
    for url in urls:
        again = client.get(url)
        assert again.status_code == 200 and again.data[:4] == b"wOF2", url
    newer = re.findall(r'url\("([^"]+)"\)', client.get(f"/desk/{event_id}/badge-fonts.css").get_data(as_text=True))
    assert [u.split("?")[0] for u in newer] == [u.split("?")[0] for u in urls] and newer != urls


def test_the_desks_print_badge_button_prints_the_card_from_the_page(app, live_server, phone, tmp_path):
    """On a phone, 名札を印刷 after a scan prints the card (with the scanned pass's QR) from the desk
    page: no PDF frame (Chrome on Android has no viewer for one), no new tab, no server asked."""
    event_id, email, rows, payloads, _title = setup(app)
    page = phone
    page.add_init_script("window.__printed = 0; window.print = () => { window.__printed += 1; };")
    sign_in(page, live_server, email, f"/desk/{event_id}")
    page.keyboard.type(f"{payloads[0]}\n")
    page.locator("#result[data-result=ok]").wait_for()
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    page.click("#result-badge")
    page.locator("body.desk-badge-printing").wait_for(state="attached")
    assert page.evaluate("window.__printed") == 1 and len(page.context.pages) == 1
    assert not [url for url in asked if "/badge/" in url]
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    text = "".join(ch for ch, _gid, _font in drawn_glyphs(pdf))
    assert rows[0]["name"].replace(" ", "") in text.replace(" ", "") and missing_glyphs(pdf) == []
    with pymupdf.open(stream=pdf, filetype="pdf") as document:
        assert len(document) == 1
        document[0].get_pixmap(dpi=300).save(str(tmp_path / "badge.png"))
    assert [c.text for c in zxingcpp.read_barcodes(Image.open(tmp_path / "badge.png"))] == [payloads[0]]
