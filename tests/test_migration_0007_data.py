"""Migration 0007 on audit entries written at revision 0006, on a fresh SQLite file and a fresh
PostgreSQL database: the English notes the code wrote become codes and parameters, a note it
does not know stays as it is, and the downgrade gives the texts back."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from eventreg.extensions import db
from eventreg.models import AuditEntry

from . import factories
from .pg import fresh_database

# (action, the note as written before 0007, the code and parameters after)
OLD_NOTES = [
    ("registration_added", "no confirmation email", "no_confirmation_email", {}),
    ("capacity_override", "added above capacity", "above_capacity", {}),
    ("cancelled_by_staff", "attendee not told", "attendee_not_told", {}),
    ("promoted", "seat freed (cancellation)", "seat_freed_by_cancellation", {}),
    ("promoted", "seat freed (move)", "seat_freed_by_move", {}),
    ("promoted", "by staff", "promoted_by_staff", {}),
    ("personal_data_exported", "one person's data (JSON)", "one_person_json", {}),
    ("staff_invited", "replaces the pending invitation", "replaces_pending_invitation", {}),
    ("person_deleted", "personal data deleted on request", "deleted_on_request", {}),
    ("personal_data_exported", "attendees xlsx: 3 people; filter {'sector': 'npo', 'q': '山田'}", "export",
     {"set": "attendees", "format": "xlsx", "people": 3, "filter": {"sector": "npo", "q": "山田"}}),
    ("personal_data_exported", "API reception cp932.csv: 12 people; filter {}", "export_by_api",
     {"set": "reception", "format": "cp932.csv", "people": 12, "filter": {}}),
    ("personal_data_exported", "arrivals csv: 2 people", "export",  # purged: the filter was cut off
     {"set": "arrivals", "format": "csv", "people": 2}),
    ("message_drafted", "#7 会場変更のお知らせ", "message", {"message": 7, "subject": "会場変更のお知らせ"}),
    ("message_edited", "#7 ", "message", {"message": 7, "subject": ""}),
    ("message_scheduled", "#7 2026-03-01T01:00:00+00:00", "message_send_at",
     {"message": 7, "send_at": "2026-03-01T01:00:00+00:00"}),
    ("message_cancelled", "#7", "message_number", {"message": 7}),
    ("message_queued", "#7 → 42", "message_recipients", {"message": 7, "recipients": 42}),
    ("personal_data_purged", "registration 3; scan 0; audit_entry 5", "purged",
     {"counts": {"registration": 3, "scan": 0, "audit_entry": 5}}),
    # Not a note the code wrote (or one it changed since): shown as stored.
    ("registration_edited", "phoned: moved to the afternoon", "phoned: moved to the afternoon", {}),
    ("message_cancelled", "#7 later", "#7 later", {}),
    ("registration_edited", "", "", {}),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'at-0006.db'}"
    else:
        url, drop = fresh_database()
        yield url
        drop()


def _notes() -> list[tuple[str, str, str]]:
    rows = db.session.execute(text("SELECT action, note FROM audit_entry ORDER BY id")).all()
    db.session.remove()
    return [tuple(row) for row in rows]


def test_0007_maps_the_old_notes_and_its_downgrade_gives_them_back(url, tmp_path, make_app):
    app = make_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "BASE_URL": "http://testserver",
                      "MAILBOX_DIR": str(tmp_path / "mail")})
    with app.app_context():
        upgrade()
        event_id = factories.make_event().id
        db.session.commit()
        db.session.remove()
        downgrade(revision="0006")
        now = datetime.now(timezone.utc)
        with db.engine.begin() as conn:
            for action, note, _, _ in OLD_NOTES:
                conn.execute(text("INSERT INTO audit_entry (event_id, actor_name, at, action, changes, note) "
                                  "VALUES (:e, '', :at, :action, '{}', :note)"),
                             {"e": event_id, "at": now, "action": action, "note": note})
        upgrade()
        entries = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(e.action, e.note, e.note_params) for e in entries] == [
            (action, code, params) for action, _, code, params in OLD_NOTES]
        db.session.remove()

        downgrade(revision="0006")
        assert _notes() == [(action, note) for action, note, _, _ in OLD_NOTES]
        upgrade()
