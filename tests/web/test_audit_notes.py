"""Audit notes are codes with parameters, put in words at display from one table
(web/audit_words.py), in Japanese and English.

The codes are found by walking the source (ast), not by a list kept by hand: a new
``audit.record(..., note="code")`` without words fails here, and so does a note built as text."""

from __future__ import annotations

import ast
import gettext
import html
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from flask_babel import force_locale

import eventreg
from eventreg.domain.backoffice import audit
from eventreg.extensions import db
from eventreg.web import audit_words

from .. import factories

PACKAGE = Path(eventreg.__file__).parent
CODE = re.compile(r"[a-z][a-z0-9_]*")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

# One entry for each kind of note, with parameters as the code writes them.
SAMPLES = {
    "no_confirmation_email": {}, "above_capacity": {}, "attendee_not_told": {},
    "seat_freed_by_cancellation": {}, "seat_freed_by_move": {}, "promoted_by_staff": {},
    "export": {"set": "attendees", "format": "xlsx", "people": 3, "filter": {"sector": "npo"}},
    "export_by_api": {"set": "arrivals", "format": "csv", "people": 2, "filter": {}},
    "one_person_json": {}, "deleted_on_request": {},
    "purged": {"counts": {"registration": 3, "scan": 1, "audit_entry": 2}},
    "replaces_pending_invitation": {},
    "message": {"message": 7, "subject": "会場変更のお知らせ"},
    "message_number": {"message": 7},
    "message_send_at": {"message": 7, "send_at": "2026-03-01T01:00:00+00:00"},
    "message_recipients": {"message": 7, "recipients": 12},
}
SAMPLES.update({"imported_row": {"file": "peatix.csv", "row": 2}, "merged_from_import": {"file": "peatix.csv", "row": 3}})
SAMPLES.update({"answers_deleted": {"answers": 3}})  # issue 17: a survey question deleted with its answers
SAMPLES.update({"certificate_withdrawn": {"code": "ABCD-EFGH-JKMN", "reason": ""},  # issue 17: a certificate withdrawn
                "certificate_withdrawn_reason": {"code": "ABCD-EFGH-JKMN", "reason": "受付の誤り"}})


def _written_notes() -> tuple[dict[str, str], list[str]]:
    """The note codes passed as ``note=`` anywhere in the code (code -> file), and the places
    where a note is built otherwise (an f-string, a concatenation: text, not a code)."""
    found: dict[str, str] = {}
    built: list[str] = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                if keyword.arg != "note":
                    continue
                value, where = keyword.value, f"{path.relative_to(PACKAGE)}:{node.lineno}"
                if isinstance(value, ast.Name):  # passed on from a caller, who names the code
                    continue
                choices = [value.body, value.orelse] if isinstance(value, ast.IfExp) else [value]
                for choice in choices:
                    if isinstance(choice, ast.Constant) and isinstance(choice.value, str):
                        if choice.value:
                            found.setdefault(choice.value, where)
                    else:
                        built.append(where)
    return found, built


def test_the_walk_finds_the_notes_it_should():
    codes, _ = _written_notes()
    assert {"attendee_not_told", "seat_freed_by_move", "export", "purged", "message_recipients",
            "replaces_pending_invitation"} <= set(codes)


def test_every_note_is_a_code_with_words():
    codes, built = _written_notes()
    assert built == []
    assert {code: where for code, where in codes.items() if not CODE.fullmatch(code)} == {}
    assert {code: where for code, where in codes.items() if code not in audit_words.NOTE_WORDS} == {}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_note_has_words_in_the_compiled_catalog(lang):
    with (PACKAGE / "translations" / lang / "LC_MESSAGES" / "messages.mo").open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)._catalog
    table = {**audit_words.NOTE_WORDS, **audit_words.PURGED_WORDS}
    assert sorted(code for code, words in table.items() if not catalog.get(words._args[0])) == []


def test_the_samples_cover_every_note():
    assert set(SAMPLES) == set(audit_words.NOTE_WORDS)


def _pages(client, event, reg) -> str:
    return (client.get(f"/admin/events/{event.id}/registrations/{reg.id}").get_data(as_text=True)
            + client.get(f"/admin/events/{event.id}").get_data(as_text=True))


def test_a_history_page_in_japanese_shows_japanese_words_for_each_note(app, ctx, login, make_event):
    event = make_event()
    reg = factories.register_person(event)
    now = datetime.now(timezone.utc)
    for code, params in SAMPLES.items():
        audit.record(event.id, "registration_edited", actor=None, now=now, registration_id=reg.id,
                     note=code, params=params)
    db.session.commit()
    client = login(factories.make_staff("owner", events=[event]))
    registration_page = client.get(f"/admin/events/{event.id}/registrations/{reg.id}").get_data(as_text=True)
    overview = client.get(f"/admin/events/{event.id}").get_data(as_text=True)
    latest = list(SAMPLES)[-15:]  # the overview shows the latest 15 entries
    for code, params in SAMPLES.items():
        with app.test_request_context(), force_locale("ja"):
            japanese = audit_words.note_words(code, params, event.timezone)
        with app.test_request_context(), force_locale("en"):
            english = audit_words.note_words(code, params, event.timezone)
        assert JAPANESE.search(japanese) and japanese != english, code
        for page in (registration_page, overview) if code in latest else (registration_page,):
            shown = html.unescape(page)
            assert japanese in shown and english not in shown, code
    page = html.unescape(registration_page)
    assert "会場変更のお知らせ" in page and "3月1日" in page and "10:00" in page  # the send time in the event's zone


def test_an_old_note_not_known_is_shown_as_stored(app, ctx, login, make_event):
    event = make_event()
    reg = factories.register_person(event)
    audit.record(event.id, "registration_edited", actor=None, now=datetime.now(timezone.utc), registration_id=reg.id,
                 note="moved at the organizer's request (phone call)")
    db.session.commit()
    client = login(factories.make_staff("owner", events=[event]))
    assert "moved at the organizer&#39;s request (phone call)" in _pages(client, event, reg)
