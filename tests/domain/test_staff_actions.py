"""Staff actions on one registration: seats, the waiting list, emails, passes and the audit log."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from eventreg.domain.backoffice import registration_edits
from eventreg.domain.errors import DomainError
from eventreg.domain.people import fields
from eventreg.extensions import db
from eventreg.models import AuditEntry, EventSession, MailKind, OutboxMessage, Registration, Status

from .. import factories

NOW = datetime.now(timezone.utc)


def mails(registration_id: int) -> list[MailKind]:
    return list(db.session.scalars(
        select(OutboxMessage.kind).where(OutboxMessage.registration_id == registration_id).order_by(OutboxMessage.id)))


def entries(registration_id: int) -> list[AuditEntry]:
    return list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.registration_id == registration_id).order_by(AuditEntry.id)))


def seats(session_id: int) -> tuple[int, int]:
    row = db.session.execute(select(EventSession.seats_taken, EventSession.capacity)
                             .where(EventSession.id == session_id)).one()
    return row.seats_taken, row.capacity


@pytest.fixture
def owner(ctx):
    return factories.make_staff("organizer", name="主催 花子")


def with_questions(make_event, **overrides):
    return make_event(questions=[
        {"label": "昼食", "kind": "single", "choices": ["要", "不要"], "required": True},
        {"label": "ご要望", "kind": "text"},
        {"label": "旧設問", "kind": "single", "choices": ["A", "B"], "required": True},
    ], **overrides)


def hide(question):
    question.hidden = True
    db.session.commit()


# --- edit ---------------------------------------------------------------------------------------

def test_edit_normalises_like_the_public_form_and_logs_each_change(make_event, owner):
    event = with_questions(make_event)
    lunch, wish, old = event.questions
    hide(old)
    reg = factories.register_person(event, answers={str(lunch.id): "要", str(old.id): "A"})
    changed = registration_edits.edit(reg, {
        "family_name": " 山田 ", "given_name": "太郎", "family_kana": "やまだ", "given_kana": "ﾀﾛｳ",
        "email": "Taro@Example.ORG", "organization": "ＮＰＯ法人", "answers": {str(wish.id): "  駐車場 "},
    }, actor=owner, now=NOW)
    db.session.commit()
    assert changed == {
        "given_name": ["花子", "太郎"], "given_kana": ["ハナコ", "タロウ"],
        "email": [changed["email"][0], "taro@example.org"], "organization": ["育て上げネット", "NPO法人"],
        f"answers.{wish.id}": [None, "駐車場"],
    }
    assert reg.family_name == "山田" and reg.family_kana == "ヤマダ"
    assert reg.answers == {str(lunch.id): "要", str(old.id): "A", str(wish.id): "駐車場"}
    [entry] = entries(reg.id)
    assert entry.action == "registration_edited" and entry.actor_id == owner.id and entry.actor_name == "主催 花子"
    assert entry.changes == changed
    assert "token" not in str(entry.changes) and reg.token not in str(entry.changes)
    assert mails(reg.id) == [MailKind.confirmation]  # an edit sends nothing


def test_an_edit_that_changes_nothing_logs_nothing(make_event, owner):
    event = make_event()
    reg = factories.register_person(event)
    assert registration_edits.edit(reg, {"family_name": "山田", "given_kana": "はなこ"}, actor=owner, now=NOW) == {}
    assert entries(reg.id) == []


@pytest.mark.parametrize(("values", "field", "code"), [
    ({"family_name": ""}, "family_name", "required"),
    ({"family_name": "山田😀"}, "family_name", "emoji"),
    ({"given_name": "x" * 51}, "given_name", "too_long"),
    ({"family_kana": "yamada"}, "family_kana", "not_katakana"),
    ({"email": "not-an-address"}, "email", "invalid_email"),
    ({"email": ""}, "email", "required"),
    ({"sector": "pirate"}, "sector", "invalid_choice"),
    ({"phone": "call me"}, "phone", "invalid_phone"),
    ({"department": "\u200b"}, "department", "control_characters"),
])
def test_bad_input_is_refused_field_by_field_and_nothing_changes(make_event, owner, values, field, code):
    event = make_event()
    reg = factories.register_person(event)
    before = registration_edits.snapshot(reg)
    with pytest.raises(fields.InvalidFields) as refused:
        registration_edits.edit(reg, {**values, "given_name": values.get("given_name", "太郎")}, actor=owner, now=NOW)
    assert {name: e.code for name, e in refused.value.errors.items()} == {field: code}
    db.session.rollback()
    assert registration_edits.snapshot(db.session.get(Registration, reg.id)) == before
    assert entries(reg.id) == []


def test_required_answers_of_visible_questions_only(make_event, owner):
    event = with_questions(make_event)
    lunch, wish, old = event.questions
    hide(old)
    reg = factories.register_person(event, answers={str(lunch.id): "要"})
    with pytest.raises(fields.InvalidFields) as refused:
        registration_edits.edit(reg, {"answers": {str(lunch.id): None, str(old.id): None}}, actor=owner, now=NOW)
    assert {k: e.code for k, e in refused.value.errors.items()} == {f"answers.{lunch.id}": "answer_required"}
    db.session.rollback()
    with pytest.raises(fields.InvalidFields) as refused:
        registration_edits.edit(reg, {"answers": {str(lunch.id): "たぶん", "999": "x"}}, actor=owner, now=NOW)
    assert {k: e.code for k, e in refused.value.errors.items()} == {
        f"answers.{lunch.id}": "invalid_choice", "answers.999": "invalid_request"}
    db.session.rollback()
    # The hidden question's answer can still be corrected (or cleared) by staff.
    changed = registration_edits.edit(reg, {"answers": {str(old.id): "B"}}, actor=owner, now=NOW)
    assert changed == {f"answers.{old.id}": [None, "B"]}


def test_an_unchanged_answer_stays_even_if_the_choices_changed(make_event, owner):
    event = with_questions(make_event)
    lunch = event.questions[0]
    reg = factories.register_person(event, answers={str(lunch.id): "昔の選択肢"})
    assert registration_edits.edit(reg, {"answers": {str(lunch.id): "昔の選択肢"}, "given_name": "次郎"},
                              actor=owner, now=NOW) == {"given_name": ["花子", "次郎"]}


def test_an_email_held_by_another_registration_of_the_session_is_refused_cleanly(make_event, owner):
    event = make_event()
    factories.register_person(event, email="taken@example.org")
    reg = factories.register_person(event)
    with pytest.raises(DomainError) as refused:
        registration_edits.edit(reg, {"email": "TAKEN@example.org"}, actor=owner, now=NOW)
    assert refused.value.code == "email_taken"
    db.session.rollback()
    cancelled = factories.register_person(event, email="gone@example.org")
    registration_edits.cancel(cancelled, actor=owner, now=NOW)
    db.session.commit()
    assert registration_edits.edit(reg, {"email": "gone@example.org"}, actor=owner, now=NOW)  # cancelled ones do not count


def test_the_unique_index_still_decides_when_the_check_is_passed(make_event, owner, monkeypatch):
    """The email check is a courtesy; the database's index is the guard: as if another request
    registered the address between the check and the write."""
    event = make_event()
    factories.register_person(event, email="twin@example.org")
    reg = factories.register_person(event)
    monkeypatch.setattr(registration_edits, "_other_active", lambda *args: False)
    with pytest.raises(DomainError) as refused:
        registration_edits.edit(reg, {"email": "twin@example.org"}, actor=owner, now=NOW)
    assert refused.value.code == "email_taken"
    db.session.rollback()


def test_a_walk_in_may_have_no_email(make_event, owner):
    event = make_event()
    reg = factories.register_person(event)
    reg.walk_in = True
    db.session.commit()
    assert registration_edits.edit(reg, {"email": " "}, actor=owner, now=NOW)["email"][1] is None
    assert reg.email is None


def test_unknown_fields_are_refused(make_event, owner):
    reg = factories.register_person(make_event())
    for values in ({"token": "x"}, {"status": "confirmed"}, {"answers": ["x"]}):
        with pytest.raises(DomainError, match="invalid_request"):
            registration_edits.edit(reg, values, actor=owner, now=NOW)


# --- add by hand --------------------------------------------------------------------------------

def test_add_by_hand_after_the_deadline_sends_the_confirmation(make_event, owner):
    event = make_event()
    session = event.sessions[0]
    late = session.closes_at + timedelta(hours=1)
    reg = registration_edits.add_by_hand(session, factories.applicant(family_kana="やまだ"), actor=owner, now=late)
    db.session.commit()
    assert reg.status == Status.confirmed and reg.family_kana == "ヤマダ" and reg.confirmed_at == late
    assert seats(session.id) == (1, 50)
    assert mails(reg.id) == [MailKind.confirmation]
    [entry] = entries(reg.id)
    assert entry.action == "registration_added"
    assert entry.changes["status"] == [None, "confirmed"] and entry.changes["family_kana"] == [None, "ヤマダ"]
    assert reg.token not in str(entry.changes) and reg.entry_id not in str(entry.changes)


def test_add_by_hand_without_the_confirmation_email(make_event, owner):
    event = make_event()
    reg = registration_edits.add_by_hand(event.sessions[0], factories.applicant(), actor=owner, now=NOW,
                                    send_confirmation=False)
    assert mails(reg.id) == []
    assert entries(reg.id)[0].note == "no_confirmation_email"


def test_add_by_hand_checks_like_the_public_form(make_event, owner):
    event = with_questions(make_event)
    lunch = event.questions[0]
    with pytest.raises(fields.InvalidFields) as refused:
        registration_edits.add_by_hand(event.sessions[0], factories.applicant(given_name="", email="x"),
                                  actor=owner, now=NOW)
    assert set(refused.value.errors) == {"given_name", "email"}
    with pytest.raises(fields.InvalidFields) as refused:
        registration_edits.add_by_hand(event.sessions[0], factories.applicant(), actor=owner, now=NOW)
    assert {k: e.code for k, e in refused.value.errors.items()} == {
        f"answers.{lunch.id}": "answer_required", f"answers.{event.questions[2].id}": "answer_required"}
    db.session.rollback()
    assert seats(event.sessions[0].id) == (0, 50)


def test_a_full_session_is_refused_or_waitlisted_as_the_organizer_chooses(make_event, owner):
    event = make_event(capacity=1)
    session = event.sessions[0]
    factories.register_person(event)
    with pytest.raises(DomainError, match="session_full"):
        registration_edits.add_by_hand(session, factories.applicant(), actor=owner, now=NOW)
    db.session.rollback()
    reg = registration_edits.add_by_hand(session, factories.applicant(), actor=owner, now=NOW, waitlist=True)
    db.session.commit()
    assert reg.status == Status.waitlisted and mails(reg.id) == [MailKind.waitlisted]
    assert seats(session.id) == (1, 1)


def test_the_capacity_override_raises_the_capacity_and_is_logged(make_event, owner):
    event = make_event(capacity=2)
    session = event.sessions[0]
    factories.register_person(event)
    factories.register_person(event)
    reg = registration_edits.add_by_hand(session, factories.applicant(), actor=owner, now=NOW, override_capacity=True)
    db.session.commit()
    assert reg.status == Status.confirmed
    assert seats(session.id) == (3, 3)
    added, override = entries(reg.id)
    assert (added.action, override.action) == ("registration_added", "capacity_override")
    assert override.changes == {"capacity": [2, 3], "seats_taken": [2, 3]}
    assert override.actor_id == owner.id


def test_the_override_takes_a_free_seat_first(make_event, owner):
    event = make_event(capacity=2)
    reg = registration_edits.add_by_hand(event.sessions[0], factories.applicant(), actor=owner, now=NOW,
                                    override_capacity=True)
    assert seats(event.sessions[0].id) == (1, 2)
    assert [e.action for e in entries(reg.id)] == ["registration_added"]


def test_add_by_hand_refuses_an_email_registered_for_the_session(make_event, owner):
    event = make_event(capacity=5)
    factories.register_person(event, email="twice@example.org")
    with pytest.raises(DomainError, match="email_taken"):
        registration_edits.add_by_hand(event.sessions[0], factories.applicant(email="Twice@example.org"),
                                  actor=owner, now=NOW, override_capacity=True)
    db.session.rollback()
    assert seats(event.sessions[0].id) == (1, 5)


# --- cancel, move, promote, resend --------------------------------------------------------------

def test_cancel_frees_the_seat_promotes_the_next_and_tells_the_attendee(make_event, owner):
    event = make_event(capacity=1)
    reg = factories.register_person(event)
    waiting = factories.register_person(event)
    assert waiting.status == Status.waitlisted
    promoted = registration_edits.cancel(reg, actor=owner, now=NOW)
    db.session.commit()
    assert [p.id for p in promoted] == [waiting.id]
    assert reg.status == Status.cancelled and reg.entry_version == 2
    assert db.session.get(Registration, waiting.id).status == Status.confirmed
    assert seats(event.sessions[0].id) == (1, 1)
    assert mails(reg.id) == [MailKind.confirmation, MailKind.cancelled]
    assert mails(waiting.id) == [MailKind.waitlisted, MailKind.promoted]
    [entry] = entries(reg.id)
    assert entry.action == "cancelled_by_staff"
    assert entry.changes == {"status": ["confirmed", "cancelled"], "entry_version": [1, 2]}
    assert [(e.action, e.changes) for e in entries(waiting.id)] == [
        ("promoted", {"status": ["waitlisted", "confirmed"]})]


def test_cancel_without_telling_the_attendee_and_after_the_start(make_event, owner):
    event = make_event()
    reg = factories.register_person(event)
    after_start = event.sessions[0].starts_at + timedelta(hours=1)
    registration_edits.cancel(reg, actor=owner, now=after_start, notify=False)
    db.session.commit()
    assert reg.status == Status.cancelled
    assert mails(reg.id) == [MailKind.confirmation]
    assert entries(reg.id)[0].note == "attendee_not_told"
    with pytest.raises(DomainError, match="already_cancelled"):
        registration_edits.cancel(reg, actor=owner, now=after_start)


def two_sessions(make_event, capacity=(2, 1)):
    start = factories.in_days(20)
    spec = factories.event_spec_dict()
    first = spec["sessions"][0]
    second = {**first, "date": start.date().isoformat(), "capacity": capacity[1], "title": "第2回"}
    spec["sessions"] = [{**first, "capacity": capacity[0], "title": "第1回"}, second]
    return make_event(**spec)


def test_move_takes_a_seat_there_frees_one_here_and_renews_the_pass(make_event, owner):
    event = two_sessions(make_event, capacity=(1, 1))
    first, second = event.sessions
    reg = factories.register_person(event, 0)
    waiting = factories.register_person(event, 0)
    promoted = registration_edits.move(reg, second, actor=owner, now=NOW)
    db.session.commit()
    assert reg.session_id == second.id and reg.entry_version == 2
    assert [p.id for p in promoted] == [waiting.id]
    assert seats(first.id) == (1, 1) and seats(second.id) == (1, 1)
    assert mails(reg.id) == [MailKind.confirmation, MailKind.pass_resent]
    [entry] = entries(reg.id)
    assert entry.action == "moved"
    assert entry.changes == {"session_id": [first.id, second.id], "entry_version": [1, 2]}
    other = factories.register_person(event, 0)  # waitlisted: both full now
    with pytest.raises(DomainError, match="not_confirmed"):
        registration_edits.move(other, second, actor=owner, now=NOW)
    with pytest.raises(DomainError, match="session_full"):
        registration_edits.move(waiting, second, actor=owner, now=NOW)
    db.session.rollback()
    assert seats(first.id) == (1, 1) and seats(second.id) == (1, 1)


def test_promote_takes_a_free_seat_or_refuses(make_event, owner):
    event = make_event(capacity=1)
    session = event.sessions[0]
    factories.register_person(event)
    first, second = factories.register_person(event), factories.register_person(event)
    with pytest.raises(DomainError, match="no_free_seat"):
        registration_edits.promote(second, actor=owner, now=NOW)
    db.session.rollback()
    db.session.execute(update(EventSession).where(EventSession.id == session.id).values(capacity=2))
    db.session.commit()
    registration_edits.promote(second, actor=owner, now=NOW)  # staff may skip the queue
    db.session.commit()
    assert second.status == Status.confirmed and first.status == Status.waitlisted
    assert seats(session.id) == (2, 2)
    assert mails(second.id) == [MailKind.waitlisted, MailKind.promoted]
    assert [(e.action, e.changes) for e in entries(second.id)] == [("promoted", {"status": ["waitlisted", "confirmed"]})]
    with pytest.raises(DomainError, match="not_waitlisted"):
        registration_edits.promote(second, actor=owner, now=NOW)


def test_resend_pass(make_event, owner):
    event = make_event(capacity=1)
    reg = factories.register_person(event)
    waiting = factories.register_person(event)
    registration_edits.resend_pass(reg, actor=owner, now=NOW)
    db.session.commit()
    assert mails(reg.id) == [MailKind.confirmation, MailKind.pass_resent]
    assert [e.action for e in entries(reg.id)] == ["pass_resent"]
    with pytest.raises(DomainError, match="no_pass"):
        registration_edits.resend_pass(waiting, actor=owner, now=NOW)
