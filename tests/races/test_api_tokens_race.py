"""API tokens under concurrency, through the HTTP edge.

- Two owners revoke the same token at once: both requests load the token (not revoked yet); the
  revocation is one conditional UPDATE, so one of them revokes it and writes the audit entry. The
  revocation as it was (checked in Python, then written) audits twice on PostgreSQL; SQLite's write
  lock serialises the two requests either way.
- A scanner polls with GETs while others write: the GET's transaction reads the token, and on SQLite
  a transaction that has read cannot become a writer once another has committed ("database is
  locked", a 500). last_used_at is therefore written in a transaction of its own that takes the
  write lock up front, at most every few minutes, by a conditional UPDATE.
"""

from __future__ import annotations

from sqlalchemy import func, select, update

from eventreg import clock
from eventreg.domain.access import api_tokens, permissions
from eventreg.domain.backoffice import audit
from eventreg.extensions import db
from eventreg.models import ApiToken, AuditEntry, Event, EventRole
from eventreg.sqlite import writing

from .edge import Staff, client, interleaved


def revoke_twice(base_url: str, monkeypatch, make_event, owner) -> int:
    """Two owners' revoke requests, the first held after loading the token; the audit entries."""
    event = make_event()
    api_tokens.create_api_token(owner, "desk 1", now=clock.utcnow(), event=event, role=EventRole.reception)
    db.session.commit()
    row_id, event_id = db.session.scalar(select(ApiToken.id).where(ApiToken.name == "desk 1")), event.id
    page = f"/admin/events/{event_id}/tokens"
    first, second = (Staff(base_url, owner, page).post(f"{page}/{row_id}/revoke", {}) for _ in range(2))
    db.session.commit()  # hold no read while the server writes (SQLite)
    assert interleaved(monkeypatch, api_tokens, "revoke_api_token", first, second) == (303, 303)
    db.session.rollback()
    assert db.session.get(ApiToken, row_id).revoked_at is not None
    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.event_id == event_id, AuditEntry.action == "api_token_revoked"))


def test_revoking_a_token_twice_at_once_audits_once(http_server, make_event, scanner_user, monkeypatch):
    assert revoke_twice(http_server, monkeypatch, make_event, scanner_user) == 1


def unguarded_revoke(row: ApiToken, *, actor, now) -> bool:
    """The revocation as it was: the loaded row checked in Python, then written."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = now
    audit.record(row.event_id, "api_token_revoked", actor=actor, now=now, changed={"token": [row.name, None]})
    return True


def test_without_the_guard_a_token_is_revoked_twice_on_postgresql(http_server, make_event, scanner_user,
                                                                 monkeypatch, dialect):
    monkeypatch.setattr(api_tokens, "revoke_api_token", unguarded_revoke)
    entries = revoke_twice(http_server, monkeypatch, make_event, scanner_user)
    assert entries == (2 if dialect == "postgresql" else 1)


def test_a_get_that_records_last_use_after_another_write_is_served(app, http_server, make_event, scanner_token,
                                                                   monkeypatch):
    """The GET reads the token (held right after its read, at the grants) while another request
    commits a write; then it records last_used_at. Before: a 500 on SQLite."""
    event_id = make_event().id
    db.session.commit()

    def poll():
        with client(http_server) as http:
            return http.get(f"/api/v1/events/{event_id}/counts",
                            headers={"Authorization": f"Bearer {scanner_token}"}).status_code

    def write():
        with app.app_context(), writing():
            db.session.execute(update(Event).where(Event.id == event_id).values(title="変更後"))
            db.session.commit()

    status, _ = interleaved(monkeypatch, permissions, "limited", poll, write)
    assert status == 200
    db.session.rollback()
    assert db.session.scalar(select(ApiToken.last_used_at)) is not None


def test_last_use_is_written_once_per_interval(ctx, scanner_token):
    token_id = db.session.scalar(select(ApiToken.id))
    now = clock.utcnow()
    assert api_tokens.touch(token_id, now)
    assert not api_tokens.touch(token_id, now + api_tokens.LAST_USED_EVERY)  # not yet due
    assert api_tokens.touch(token_id, now + api_tokens.LAST_USED_EVERY * 2)
    db.session.rollback()
