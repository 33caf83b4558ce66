"""Email confirmation holds (domain.registration.holds): a held seat, confirming, expiring, promotion."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from eventreg.domain.registration import holds, signup
from eventreg.domain.timing import periodic
from eventreg.extensions import db
from eventreg.models import EventSession, MailKind, OutboxMessage, Registration, Status

from .. import factories

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def _event(capacity=1, minutes=30):
    return factories.make_event(capacity=capacity, confirm_email=True, hold_minutes=minutes)


def _sign_up(event, now=NOW, **overrides):
    outcome = signup.register(event.sessions[0], factories.applicant(**overrides), now=now)
    db.session.commit()
    return outcome, db.session.get(Registration, outcome.registration_id)


def _mails(registration_id):
    return [m.kind for m in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.registration_id == registration_id).order_by(OutboxMessage.id))]


def _seats(event):
    return db.session.get(EventSession, event.sessions[0].id, populate_existing=True).seats_taken


def test_a_sign_up_holds_the_seat_until_confirmed(make_event):
    event = _event(minutes=30)
    outcome, held = _sign_up(event)
    assert outcome.result == signup.Result.held and held.status == Status.held
    assert held.hold_expires_at == NOW + timedelta(minutes=30) and held.email_confirmed_at is None
    assert _seats(event) == 1 and _mails(held.id) == [MailKind.confirm_email]
    assert holds.confirm(held, now=NOW + timedelta(minutes=29))
    assert held.status == Status.confirmed and held.hold_expires_at is None and held.email_confirmed_at
    db.session.commit()
    assert _mails(held.id) == [MailKind.confirm_email, MailKind.confirmation] and _seats(event) == 1


def test_without_confirm_email_nothing_changes(make_event):
    event = factories.make_event(capacity=1)
    outcome, reg = _sign_up(event)
    assert outcome.result == signup.Result.confirmed and reg.hold_expires_at is None


def test_double_confirm_confirms_once(make_event):
    event = _event()
    _, held = _sign_up(event)
    assert holds.confirm(held, now=NOW) is True
    assert holds.confirm(held, now=NOW) is False
    db.session.commit()
    assert _mails(held.id).count(MailKind.confirmation) == 1


def test_confirming_after_expiry_is_refused(make_event):
    event = _event(minutes=10)
    _, held = _sign_up(event)
    assert holds.confirm(held, now=NOW + timedelta(minutes=10)) is False  # the instant is closed
    assert held.status == Status.held
    assert holds.expire(held.id, NOW + timedelta(minutes=10)) is True
    db.session.commit()
    db.session.refresh(held)
    assert held.status == Status.cancelled and holds.expired_at(held) == NOW + timedelta(minutes=10)
    assert holds.confirm(held, now=NOW + timedelta(minutes=11)) is False


def test_an_expired_hold_promotes_the_next_confirmed_waiting_person(make_event, app):
    event = _event(capacity=1, minutes=10)
    _, held = _sign_up(event)
    _, unconfirmed = _sign_up(event, now=NOW + timedelta(minutes=1))  # waiting, never confirms
    _, waiting = _sign_up(event, now=NOW + timedelta(minutes=2))
    assert unconfirmed.status == waiting.status == Status.waitlisted
    assert holds.confirm(waiting, now=NOW + timedelta(minutes=3))  # counts in the queue now
    db.session.commit()
    assert waiting.status == Status.waitlisted  # the seat is still held
    # The tick's sweep: only the first hold has run out at +10 min.
    assert holds.due(NOW + timedelta(minutes=10)) == [held.id]
    assert holds.expire(held.id, NOW + timedelta(minutes=10))
    assert holds.expire(held.id, NOW + timedelta(minutes=10)) is False  # a second worker does nothing
    db.session.commit()
    for r in (held, unconfirmed, waiting):
        db.session.refresh(r)
    assert held.status == Status.cancelled
    assert waiting.status == Status.confirmed, "the confirmed waiting person, not the earlier unconfirmed one"
    assert unconfirmed.status == Status.waitlisted and _seats(event) == 1
    assert _mails(held.id)[-1] == MailKind.hold_expired
    assert _mails(waiting.id)[-1] == MailKind.promoted
    # The unconfirmed waiting place lapses too (no seat to release).
    assert holds.expire(unconfirmed.id, NOW + timedelta(minutes=11))
    db.session.commit()
    db.session.refresh(unconfirmed)
    assert unconfirmed.status == Status.cancelled and _seats(event) == 1


def test_the_sweep_is_listed_and_cancel_releases_a_held_seat(make_event):
    assert "hold_expired" in [s.name for s in periodic.SWEEPS]
    event = _event(capacity=1)
    _, held = _sign_up(event)
    signup.cancel(held, now=NOW)
    db.session.commit()
    assert _seats(event) == 0 and held.hold_expires_at is None and holds.due(NOW + timedelta(days=1)) == []


def test_confirming_a_waiting_place_with_a_free_seat_promotes_at_once(make_event):
    event = _event(capacity=1, minutes=10)
    _, held = _sign_up(event)
    _, waiting = _sign_up(event)
    assert holds.expire(held.id, NOW + timedelta(minutes=10))  # nobody confirmed waits: the seat stays free
    db.session.commit()
    assert _seats(event) == 0
    assert holds.confirm(waiting, now=NOW + timedelta(minutes=5))  # its own hold runs until +10
    db.session.commit()
    db.session.refresh(waiting)
    assert waiting.status == Status.confirmed and _seats(event) == 1
