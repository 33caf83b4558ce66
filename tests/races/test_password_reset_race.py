"""One password-reset link posted from two tabs at once changes the password once.

The guard is the conditional UPDATE of accounts.set_password(replacing=…): ``… WHERE
password_hash = <the hash the link was checked against>``. Each test holds the first request
between its read of the link and its write (``interleaved``), as a slow request would be.
On PostgreSQL the second request reads the same hash and writes first; the first one's UPDATE
then finds the hash changed. Without the condition both would set a password and the link
would have worked twice. On SQLite the write lock (taken up front by every POST) serialises them.
"""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.security import check_password_hash

from eventreg import clock
from eventreg.domain.access import accounts, password_reset
from eventreg.extensions import db
from eventreg.models import AuditEntry, StaffUser

from .. import factories
from .edge import client, csrf_from, interleaved


def _tab(http_server, path: str, password: str):
    """A browser tab with the reset page open; the job posts its new password."""
    tab = client(http_server)
    page = tab.get(path)
    assert page.status_code == 200, page.status_code
    token = csrf_from(page.text)

    def job():
        return tab.post(path, data={"new_password": password, "confirm": password, "csrf_token": token}).status_code
    return job


def _naive(real):
    """set_password as a newcomer might write it: the link was read as valid, so just write."""
    def set_password(user, password, *, replacing=None):
        return real(user, password)
    return set_password


def _race(app, http_server, make_event, monkeypatch):
    event = make_event()
    user = factories.make_staff("reception", events=[event])
    token = password_reset.make_token(user, secret_key=app.secret_key, now=clock.utcnow())
    path = f"/login/reset/{token}"
    first, second = _tab(http_server, path, "first-tab-password"), _tab(http_server, path, "second-tab-password")
    db.session.commit()  # end this thread's read: the server's writers need the (SQLite) lock
    statuses = interleaved(monkeypatch, accounts, "set_password", first, second)
    db.session.rollback()
    stored = db.session.scalar(select(StaffUser.password_hash).where(StaffUser.id == user.id))
    entries = db.session.scalars(select(AuditEntry.action).where(
        AuditEntry.event_id == event.id, AuditEntry.action == "staff_password_reset")).all()
    return statuses, stored, len(entries)


def test_two_tabs_posting_one_link_change_the_password_once(app, http_server, make_event, monkeypatch):
    statuses, stored, entries = _race(app, http_server, make_event, monkeypatch)
    assert sorted(statuses) == [303, 410], statuses
    winner = "first-tab-password" if statuses[0] == 303 else "second-tab-password"
    assert check_password_hash(stored, winner)
    assert entries == 1


def test_the_condition_matters(app, http_server, make_event, monkeypatch, dialect):
    monkeypatch.setattr(accounts, "set_password", _naive(accounts.set_password))
    statuses, stored, entries = _race(app, http_server, make_event, monkeypatch)
    if dialect == "postgresql":
        assert statuses == (303, 303) and entries == 2  # the link worked twice
    else:
        assert sorted(statuses) == [303, 410]  # SQLite's write lock serialised the two
