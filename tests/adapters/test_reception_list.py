"""The reception list PDF (受付名簿): 五十音 order under row headings, the header on every page,
embedded fonts, and every name drawn (no missing-glyph boxes, non-BMP kanji included)."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from flask_babel import force_locale
from sqlalchemy import update

from eventreg.domain.backoffice import exports, roster
from eventreg.extensions import db
from eventreg.models import Registration, Status
from eventreg.web import documents

from .. import factories
from .pdf_checks import missing_glyphs, page_count, run, text_of

pytestmark = pytest.mark.slow

HARD = [("𠮷野", "𩸽子", "ヨシノ", "ホッケコ"), ("ヴァン", "太郎", "ヴァン", "タロウ"),
        ("髙﨑", "花子", "タカサキ", "ハナコ"), ("渡邉", "一", "ワタナベ", "ハジメ")]


@pytest.fixture(scope="module")
def rendered(app, tmp_path_factory):
    with app.app_context():
        event = factories.make_event(capacity=300, title="受付名簿テスト")
        factories.bulk_confirmed(event.sessions[0], 80)  # 20 families: あ か さ た や わ 行
        for family, given, family_kana, given_kana in HARD:
            factories.register_person(event, family_name=family, given_name=given,
                                      family_kana=family_kana, given_kana=given_kana)
        gone = factories.register_person(event, family_name="取消", family_kana="トリケシ")
        db.session.execute(update(Registration).where(Registration.id == gone.id).values(status=Status.cancelled))
        db.session.commit()
        ctx = exports.reception_list(event, roster.ListFilter(), now=datetime.now(timezone.utc))
        with force_locale("ja"):
            body = documents.reception_list_pdf(ctx)
    path = tmp_path_factory.mktemp("rl") / "reception.pdf"
    path.write_bytes(body)
    return path, body, ctx


def test_people_in_goju_on_order_under_row_headings(rendered):
    path, _, ctx = rendered
    assert ctx["count"] == 84
    text = text_of(path)
    headings = re.findall(r"^(あ|か|さ|た|な|は|ま|や|ら|わ)行$", text, re.M)
    assert [h + "行" for h in headings] == [g["heading"] for g in ctx["groups"]]
    assert [g["heading"] for g in ctx["groups"]] == ["あ行", "か行", "さ行", "た行", "な行", "は行", "ま行", "や行", "わ行"]
    # ヴ belongs to あ行 although its code point comes after ン.
    assert ctx["groups"][0]["people"][-1]["kana"] == "ヴァン タロウ"
    kana = [p["kana"] for g in ctx["groups"] for p in g["people"]]
    assert len(kana) == 84 and "トリケシ" not in text.replace(" ", "")
    positions = [text.index(k) for k in dict.fromkeys(kana)]
    assert positions == sorted(positions)  # printed in that order
    for p in (p for g in ctx["groups"] for p in g["people"]):
        assert p["name"] in text


def test_three_pages_each_with_the_table_header_event_and_page_number(rendered):
    path, _, _ = rendered
    pages = page_count(path)
    assert pages >= 3
    for number in range(1, pages + 1):
        page = run("pdftotext", "-enc", "UTF-8", "-f", str(number), "-l", str(number), str(path), "-")
        assert "受付名簿テスト" in page
        for column in ("受付", "フリガナ", "氏名", "会社名・団体名"):
            assert column in page, (number, column)
        assert re.search(rf"\b{number}\s*/\s*{pages}\b", page)


def test_fonts_are_embedded(rendered):
    path, _, _ = rendered
    fonts = run("pdffonts", str(path)).splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # emb column
    names = " ".join(fonts)
    assert "IPAexGothic" in names and "NotoSansCJKjp" in names  # 𠮷 𩸽 come from Noto CJK


def test_every_name_is_drawn(rendered):
    _, body, _ = rendered
    assert missing_glyphs(body) == []
    from .pdf_checks import drawn_glyphs

    drawn = {ch: (gid, font) for ch, gid, font in drawn_glyphs(body)}
    for ch in "𠮷𩸽髙﨑邉ヴ":
        assert ch in drawn and drawn[ch][0] != 0, ch
