"""Migration 0003 on data written at revision 0002, on a fresh SQLite file and a fresh PostgreSQL
database: entry ids, the stored window, rotated management secrets, one pass_resent each; and
0006's search text and 五十音 key, backfilled, kept over a downgrade and upgrade."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from eventreg.domain.people import gojuon
from eventreg.domain.reception import checkin, desk_search
from eventreg.domain.registration import passes
from eventreg.domain.timing.rules import TimeRule
from eventreg.extensions import db
from eventreg.models import Event, EventSession, OutboxMessage, Registration, ScanResult

from .pg import fresh_database

JST = timezone(timedelta(hours=9))
OLD_TOKEN = "OldTokenPrintedOnBadges_12345678"  # 32 characters, as 0001 made them


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'at-0002.db'}"
    else:
        url, drop = fresh_database()
        yield url
        drop()


def test_0003_migrates_rows_written_at_0002(url, tmp_path, make_app):
    app = make_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "BASE_URL": "http://testserver",
                      "MAILBOX_DIR": str(tmp_path / "mail")})
    sqlite = url.startswith("sqlite")
    starts = (datetime.now(JST) + timedelta(days=14)).replace(hour=14, minute=0, second=0, microsecond=0)

    def at(value: datetime):  # as the app stored it at 0002: naive UTC on SQLite, timestamptz on PG
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if sqlite else value

    with app.app_context():
        upgrade(revision="0002")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO event (id, slug, title, description_md, venue_name, venue_address, access_notes, "
                "organizer, contact_name, contact_phone, contact_email, fee_note, privacy_notice, language, "
                "timezone, waitlist_enabled, published, deadline_days_before, deadline_time) VALUES "
                "(1, 'old', '旧イベント', '', '', '', '', '', '', '', '', '', '', 'ja', 'Asia/Tokyo', :t, :t, 1, '12:00')"),
                {"t": True})
            conn.execute(text(
                "INSERT INTO event_session (id, event_id, title, doors_at, starts_at, ends_at, capacity, seats_taken) "
                "VALUES (1, 1, '', :d, :s, :e, 10, 1)"),
                {"d": at(starts - timedelta(minutes=30)), "s": at(starts), "e": at(starts + timedelta(hours=3))})
            conn.execute(text(
                "INSERT INTO registration (id, event_id, session_id, token, status, family_name, given_name, "
                "family_kana, given_kana, email, organization, department, sector, phone, answers, language, "
                "created_at, confirmed_at) VALUES (1, 1, 1, :tok, 'confirmed', '山田', '花子', 'ヤマダ', 'ハナコ', "
                "'hanako@example.org', '', '', 'npo', '', '{}', 'ja', :now, :now)"),
                {"tok": OLD_TOKEN, "now": at(datetime.now(timezone.utc))})
        upgrade()

        registration = db.session.get(Registration, 1)
        session = db.session.get(EventSession, 1)
        event = db.session.get(Event, 1)
        assert len(registration.entry_id) == 16 and registration.entry_version == 1
        assert registration.token != OLD_TOKEN and len(registration.token) == 32
        assert session.closes_at == TimeRule.days_before(1, "12:00").resolve(starts, "Asia/Tokyo")
        assert session.closes_at == (starts - timedelta(days=1)).replace(hour=12)
        assert session.opens_at is None and event.pass_key
        outbox = db.session.query(OutboxMessage).all()
        assert [(m.registration_id, m.kind.value, m.status.value) for m in outbox] == [(1, "pass_resent", "pending")]
        # The old QR code checks nobody in; the new credential does.
        now = datetime.now(timezone.utc)
        old = checkin.scan("ER1:" + OLD_TOKEN, event=event, method="camera", desk="d", user_id=None, now=now)
        assert old.result == ScanResult.unknown_pass
        assert passes.find_by_token(OLD_TOKEN) is None
        new = checkin.scan(passes.qr_payload(registration), event=event, method="camera", desk="d",
                           user_id=None, now=now)
        assert new.result == ScanResult.ok
        # 0006 backfilled the search text and the 五十音 key of the row written at 0002.
        assert (registration.search_text, registration.sort_key) == (
            "山田花子\nヤマダハナコ\n\nhanako@example.org", gojuon.sort_key("ヤマダ", "ハナコ", "山田", "花子"))
        assert [r.id for r in desk_search.find(1, "やまだ", kana_row="ya")] == [1]
        db.session.commit()
        db.session.remove()
        # 0006 down and up again keeps the backfill.
        downgrade(revision="0005")
        upgrade()
        assert db.session.get(Registration, 1).sort_key == gojuon.sort_key("ヤマダ", "ハナコ", "山田", "花子")
        db.session.remove()
        db.engine.dispose()
