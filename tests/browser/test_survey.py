"""Attendees answer the survey on a phone (big targets, axe-core finds no violation on the form,
its error state and its thanks), and the organizer reads the results on a desktop."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from eventreg.domain.access import accounts
from eventreg.domain.insight import surveys
from eventreg.domain.reception import checkin
from eventreg.extensions import db
from eventreg.models import EventRole, Sector, StaffUser
from eventreg.web.links import survey_link

from .. import factories
from .organizer import sign_in

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page) -> list[str]:
    """axe-core (npm, package.json) run in the page (evaluated through the DevTools protocol, so
    the page's Content-Security-Policy stays as it is); its violations as readable lines."""
    assert AXE.exists(), "axe-core is missing: run scripts/setup (npm ci installs it)"
    page.evaluate(AXE.read_text("utf-8") + "\n;0")
    found = page.evaluate("""async () => {
        const result = await axe.run(document);
        return {passes: result.passes.length, violations: result.violations.map(
            v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)};
    }""")
    assert found["passes"] > 10  # axe really looked at the page
    return found["violations"]


def _world(app, answered: int):
    with app.app_context():
        now = datetime.now(timezone.utc)
        event = factories.make_event(start=factories.in_days(2))
        surveys.create_survey(event, with_defaults=True, title="セミナーアンケート", actor=None, now=now)
        people = [factories.register_person(event, sector=(Sector.npo, Sector.company, Sector.government)[i % 3])
                  for i in range(answered + 2)]
        for r in people[:-1]:
            checkin.check_in(r, session_id=None, desk="受付1", now=now)
        db.session.commit()
        keys = [surveys.invitation_key(r, app.config["SECRET_KEY"]) for r in people]
        organizer = factories.make_staff("organizer", events=[event], email="survey@example.org").email
        event_id = event.id
        db.session.remove()
    return event_id, keys, organizer


def _answer(phone, url: str, scale: str, nps: str, again: str = "yes", text: str = "") -> None:
    phone.goto(url)
    phone.locator(".scale-scale5 .scale-point", has_text=scale).click()
    phone.locator(".choice", has_text={"yes": "はい", "no": "いいえ"}[again]).first.click()
    phone.locator(".scale-nps .scale-point").nth(int(nps)).click()
    if text:
        phone.fill("textarea", text)
    phone.click("button[type=submit]")
    phone.wait_for_selector("text=回答を保存しました")


def test_ten_people_answer_on_a_phone_and_the_results_agree(app, live_server, phone, desktop, shot):
    event_id, keys, organizer = _world(app, answered=10)
    first = f"{live_server}/s/{keys[0]}"
    phone.goto(first)
    assert axe_violations(phone) == []
    # every point of the 1–5 and 0–10 scales is a target of at least 44 x 44 CSS pixels
    sizes = phone.eval_on_selector_all(".scale-point span", "els => els.map(e => [e.offsetWidth, e.offsetHeight])")
    assert len(sizes) == 16 and min(w for w, _h in sizes) >= 44 and min(h for _w, h in sizes) >= 44
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.click("button[type=submit]")  # nothing chosen: the required questions say so
    phone.wait_for_selector(".error-summary")
    assert phone.locator(".survey-q.has-error").count() == 2
    assert axe_violations(phone) == []
    shot(phone, "survey-errors-phone")
    phone.goto(first)
    phone.locator(".scale-scale5 .scale-point", has_text="4").click()
    phone.locator(".scale-nps .scale-point").nth(9).click()
    shot(phone, "survey-phone", full_page=True)
    for i, key in enumerate(keys[:10]):
        _answer(phone, f"{live_server}/s/{key}", scale=str(3 + i % 3), nps=str(6 + i % 5), again="no" if i == 0 else "yes",
                text="グループワークが役に立ちました" if i < 3 else "")
    assert axe_violations(phone) == []
    shot(phone, "survey-saved-phone")
    phone.goto(f"{live_server}/s/{keys[-1]}")  # registered, never came
    assert "出席された方が対象" in phone.inner_text("main") and phone.locator("form.survey").count() == 0

    sign_in(desktop, live_server, organizer, then=f"/admin/events/{event_id}/survey")
    assert desktop.inner_text("#survey-came") == "11" and desktop.inner_text("#survey-responded") == "10"
    assert desktop.inner_text("#survey-rate") == "91%"
    assert desktop.locator(".free-texts li").count() == 3
    shot(desktop, "survey-results-desktop")
    with desktop.expect_download() as download:
        desktop.click("a:has-text('CSVをダウンロード')")
    rows = Path(download.value.path()).read_text("utf-8-sig").strip().splitlines()
    assert len(rows) == 1 + 10


def test_an_english_registrant_answers_in_english_and_the_series_is_compared(app, live_server, phone, desktop, shot):
    event_id, keys, organizer = _world(app, answered=2)
    with app.app_context():
        now = datetime.now(timezone.utc)
        second = factories.make_event(start=factories.in_days(3), title="第2回 協働セミナー")
        surveys.create_survey(second, with_defaults=True, title="第2回アンケート", actor=None, now=now)
        english = factories.register_person(second, family_name="Smith", given_name="Jo", family_kana="スミス",
                                            given_kana="ジョー", language="en", sector=Sector.university)
        checkin.check_in(english, session_id=None, desk="受付1", now=now)
        db.session.commit()
        link = survey_link(english)
        factories.make_staff("viewer", events=[second], email="viewer2@example.org")
        owner = db.session.scalar(select(StaffUser).where(StaffUser.email == organizer))
        accounts.assign(owner, second, EventRole.owner, now=now)
        db.session.commit()
        db.session.remove()
    assert link.startswith(live_server + "/s/") and link.endswith("?lang=en")
    phone.goto(link)
    assert "How satisfied were you with today's seminar?" in phone.inner_text("main")
    assert axe_violations(phone) == []
    phone.locator(".scale-scale5 .scale-point", has_text="5").click()
    phone.locator(".choice", has_text="Yes").click()
    phone.click("button[type=submit]")
    phone.wait_for_selector("text=Your answers are saved")
    shot(phone, "survey-english-saved-phone")
    for key in keys[:2]:
        _answer(phone, f"{live_server}/s/{key}", scale="4", nps="8")
    sign_in(desktop, live_server, organizer, then="/admin/statistics")
    assert desktop.locator("#survey-events tbody tr").count() == 2
    assert desktop.locator("#stat-survey svg").count() >= 1
    assert axe_violations(desktop) == []
    desktop.locator("#stat-survey").scroll_into_view_if_needed()
    shot(desktop, "survey-cross-statistics-desktop")
