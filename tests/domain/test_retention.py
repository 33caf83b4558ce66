"""Retention (APPI): after the purge no personal data of the event is left in any table or file."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone

from sqlalchemy import MetaData, select

from eventreg import worker
from eventreg.domain.access import invitations
from eventreg.domain.backoffice import audit, registration_edits
from eventreg.domain.privacy import person_requests, retention
from eventreg.domain.registration import signup
from eventreg.domain.registration.signup import Applicant
from eventreg.extensions import db
from eventreg.models import (
    AttendeeMessage,
    EventRole,
    Job,
    JobKind,
    LoginAttempt,
    MailKind,
    OutboxMessage,
    OutboxStatus,
    Registration,
    Scan,
    ScanMethod,
    ScanResult,
    Sector,
    SecurityListSend,
    Status,
    StoredFile,
)

from .. import factories

A_PEOPLE = [
    dict(family_name="鬼頭", given_name="綾乃", family_kana="キトウ", given_kana="アヤノ", email="kito.ayano@purge.example",
         organization="株式会社鬼頭製作所", department="総務部人事課", phone="090-1111-2222", sector=Sector.company),
    dict(family_name="蔵之介", given_name="隼人", family_kana="クラノスケ", given_kana="ハヤト", email="hayato@npo-purge.example",
         organization="NPO法人くらのすけ", department="事務局", phone="03-3333-4444", sector=Sector.npo),
    dict(family_name="Okonkwo", given_name="Chidi", family_kana="オコンクォ", given_kana="チディ", email="chidi@uni-purge.example",
         organization="Umeå Universitet", department="Dept of Nowhere", phone="080-5555-6666", sector=Sector.university),
]
B_PERSON = dict(family_name="残留", given_name="太郎", family_kana="ザンリュウ", given_kana="タロウ", email="stay@keep.example",
                organization="残る会", department="残す課", phone="070-7777-8888", sector=Sector.government)
ANSWER = "ソバアレルギーがあります（鬼頭）"


def _register(event, person, answers, now):
    return signup.register(event.sessions[0], Applicant(**person, answers=answers), now=now).registration


def _world(make_event):
    start = factories.in_days(-100)
    a = make_event(start=start, capacity=2,
                   questions=[{"label": "食事の配慮", "kind": "text"}])
    b = make_event(start=factories.in_days(20))
    early = start - timedelta(days=10)
    qid = str(a.questions[0].id)
    regs = [_register(a, p, {qid: ANSWER if i == 0 else f"回答{i}-秘密"}, early) for i, p in enumerate(A_PEOPLE)]
    kept = _register(b, B_PERSON, {}, datetime.now(timezone.utc))
    # the same person came to A and B: B's registration is later, so it is a repeat
    _register(b, {**A_PEOPLE[0], "email": A_PEOPLE[0]["email"]}, {}, datetime.now(timezone.utc))
    db.session.commit()
    organizer = factories.make_staff("organizer", events=[a, b])
    registration_edits.edit(regs[1], {"given_name": "隼人改"}, actor=organizer, now=early)
    regs[0].checked_in_at = start
    db.session.add(Scan(event_id=a.id, session_id=a.sessions[0].id, registration_id=regs[0].id, token_hash="abcdef123456",
                        result=ScanResult.ok, method=ScanMethod.camera, desk="Desk 1", at=start))
    people = {str(r.id): {"name": r.full_name, "kana": r.full_kana, "organization": r.organization} for r in regs[:2]}
    listed = StoredFile(event_id=a.id, filename="security.csv", content_type="text/csv",
                        size=1, data=("氏名\n" + "\n".join(v["name"] for v in people.values())).encode(), created_at=early)
    export = StoredFile(event_id=a.id, filename="badges.pdf", content_type="application/pdf", size=1,
                        data=f"%PDF {regs[2].full_name} {regs[2].email}".encode(), created_at=early)
    db.session.add_all([listed, export])
    db.session.flush()
    db.session.add(SecurityListSend(event_id=a.id, session_id=a.sessions[0].id, seq=1, kind="full", trigger="schedule",
                                    created_at=early, recipient="security@venue.example", columns=["name"],
                                    people=people, added=list(people), count=2, file_id=listed.id,
                                    outbox_key="security_list:x"))
    db.session.add(OutboxMessage(kind=MailKind.security_list, to_address="security@venue.example",
                                 context={"event_id": a.id, "added": list(people.values())},
                                 message_id="m-purge-1@x", status=OutboxStatus.sent, created_at=early, next_attempt_at=early))
    db.session.add(Job(kind=JobKind.reception_list, event_id=a.id, params={"filter": {"q": "鬼頭"}},
                       created_at=early, result_file_id=export.id))
    db.session.add(AttendeeMessage(event_id=a.id, subject="鬼頭様へのご案内", body="{name} 様\n蔵之介さんもどうぞ",
                                   filter={"q": "クラノスケ", "status": "confirmed"}, created_at=early))
    audit.record(a.id, "personal_data_exported", actor=organizer, now=early,
                 note="export", params={"set": "attendees", "format": "csv", "people": 1, "filter": {"q": "Okonkwo"}})
    invitations.invite(a, "pending-helper@purge.example", EventRole.viewer, actor=organizer, now=early,
                       link=lambda raw: f"https://x/invite/{raw}")
    db.session.commit()
    secrets_ = [v for p in A_PEOPLE for k, v in p.items() if k != "sector"] + [
        ANSWER, "回答1-秘密", "回答2-秘密", "隼人改", "pending-helper@purge.example", "abcdef123456"]
    secrets_ += [r.token for r in regs] + [r.entry_id for r in regs]
    return a, b, regs, kept, secrets_


def _everything(skip=lambda table, row: False) -> list[tuple[str, str]]:
    """(table, text) for every text, JSON and binary value of every table (but rows ``skip`` names)."""
    meta = MetaData()
    meta.reflect(bind=db.engine)
    found = []
    for table in meta.sorted_tables:
        for row in db.session.execute(select(table)).mappings():
            if skip(table.name, row):
                continue
            for value in row.values():
                if isinstance(value, bytes | memoryview):
                    found.append((table.name, bytes(value).decode("utf-8", "ignore")))
                elif isinstance(value, dict | list):
                    found.append((table.name, json.dumps(value, ensure_ascii=False)))
                elif isinstance(value, str):
                    found.append((table.name, value))
    return found


def _stats(event_id):
    rows = db.session.execute(select(Registration.status, Registration.sector, Registration.checked_in_at)
                              .where(Registration.event_id == event_id)).all()
    return (Counter(r.status for r in rows), Counter(r.sector for r in rows), sum(1 for r in rows if r.checked_in_at))


def test_the_purge_leaves_no_personal_data_of_the_event(make_event, app):
    a, b, regs, kept, secrets_ = _world(make_event)
    before = _stats(a.id)
    due = retention.purge_at(a)
    assert due == a.sessions[-1].ends_at + timedelta(days=90)
    assert retention.due_events(due - timedelta(seconds=1)) == []
    assert retention.due_events(due) == [a.id]
    everything = " ".join(t for _, t in _everything())
    assert all(s in everything for s in secrets_)  # the test data really is everywhere first

    outcomes = worker.tick(app, now=due + timedelta(seconds=1))
    assert outcomes["retention"] >= 1 and not outcomes["error"], outcomes
    db.session.rollback()
    # B's own registration of the same person keeps her data: B is not purged
    def b_registration(table, row) -> bool:  # rows _everything leaves out: B's own registrations
        return table == "registration" and row["event_id"] == b.id

    left = [(table, s) for table, t in _everything(b_registration) for s in secrets_ if s in t]
    assert left == []
    assert _stats(a.id) == before
    assert db.session.get(type(a), a.id).purged_at is not None
    # the other event is untouched, and B's registration of the same person is marked a repeat
    everything = " ".join(t for _, t in _everything())
    assert all(str(v) in everything for k, v in B_PERSON.items() if k != "sector")
    again = db.session.scalar(select(Registration).where(Registration.event_id == b.id,
                                                         Registration.email == A_PEOPLE[0]["email"]))
    assert again.repeat_attendee is True and again.family_name == "鬼頭"
    assert all(r.repeat_attendee is False for r in db.session.scalars(
        select(Registration).where(Registration.event_id == a.id)))
    # idempotent: a second purge does nothing
    assert retention.purge(a.id, due + timedelta(days=1)) is None


def test_a_dry_run_changes_nothing_and_counts_what_the_purge_removes(make_event):
    a, b, regs, kept, secrets_ = _world(make_event)
    snapshot = sorted(_everything())
    plan = retention.purge(a.id, datetime.now(timezone.utc), dry_run=True)
    db.session.commit()
    assert sorted(_everything()) == snapshot
    assert plan["registration"] == 3 and plan["stored_file"] == 2 and plan["security_list_send"] == 1
    done = retention.purge(a.id, datetime.now(timezone.utc))
    db.session.commit()
    assert {k: done[k] for k in ("registration", "scan", "stored_file", "security_list_send", "outbox_message")} == \
        {k: plan[k] for k in ("registration", "scan", "stored_file", "security_list_send", "outbox_message")}


def test_two_purges_at_once_purge_once(make_event):
    a, *_ = _world(make_event)
    now = datetime.now(timezone.utc)
    assert retention.purge(a.id, now) is not None
    db.session.commit()
    assert retention.purge(a.id, now) is None


def test_the_global_cleanup(ctx):
    now = datetime.now(timezone.utc)
    db.session.add_all([LoginAttempt(email="old@x.example", ip="1.2.3.4", at=now - timedelta(days=31)),
                        LoginAttempt(email="new@x.example", ip="1.2.3.4", at=now - timedelta(days=1))])
    for i, (status, age, key) in enumerate([(OutboxStatus.sent, 31, None), (OutboxStatus.failed, 40, None),
                                            (OutboxStatus.pending, 40, None), (OutboxStatus.sent, 1, None),
                                            (OutboxStatus.sent, 40, "security_list:9")]):
        at = now - timedelta(days=age)
        db.session.add(OutboxMessage(kind=MailKind.invitation, to_address="a@x.example", status=status, created_at=at,
                                     next_attempt_at=at, message_id=f"clean-{i}@x", idempotency_key=key, context={}))
    db.session.commit()
    assert retention.cleanup(now, dry_run=True) == {"login_attempt": 1, "outbox_message": 2, "staff_session": 0}
    assert retention.find(now)[0] == retention.CLEANUP
    assert retention.do(retention.CLEANUP, now) is True
    db.session.commit()
    assert [a.email for a in db.session.scalars(select(LoginAttempt))] == ["new@x.example"]
    assert db.session.query(OutboxMessage).count() == 3


def test_the_global_cleanup_keeps_attendee_mail_until_the_event_is_purged(make_event):
    """A message's and a registration's mail history reads these rows; the event's purge removes them."""
    event = make_event()
    person = factories.register_person(event, family_name="保存", email="keep@x.example")
    now = datetime.now(timezone.utc)
    at = now - timedelta(days=60)
    db.session.add(OutboxMessage(kind=MailKind.message, registration_id=person.id, status=OutboxStatus.sent,
                                 created_at=at, next_attempt_at=at, message_id="attendee-old@x", context={}))
    db.session.commit()
    before = db.session.query(OutboxMessage).filter_by(registration_id=person.id).count()
    retention.cleanup(now)
    db.session.commit()
    assert db.session.query(OutboxMessage).filter_by(registration_id=person.id).count() == before >= 1


def test_one_persons_request_export_and_delete(make_event):
    a, b, regs, kept, _ = _world(make_event)
    email = A_PEOPLE[0]["email"]
    data = person_requests.export_person(email.upper())
    assert len(data["registrations"]) == 2
    first = data["registrations"][0]
    assert first["registration"]["family_name"] == "鬼頭" and first["answers"][0]["answer"] == ANSWER
    assert first["scans"][0]["result"] == "ok" and first["emails"]
    # B's session is in the future: a confirmed seat, cancelled first; a waiting person gets it
    waiting = _register(b, dict(B_PERSON, email="waiting@keep.example"), {}, datetime.now(timezone.utc))
    db.session.commit()
    counts = person_requests.delete_person(email, datetime.now(timezone.utc))
    db.session.commit()
    assert counts["registration"] == 2
    assert person_requests.export_person(email)["registrations"] == []
    db.session.rollback()
    left = [(table, t) for table, t in _everything() if A_PEOPLE[0]["family_name"] in t or email in t]
    assert left == []
    assert db.session.get(Registration, waiting.id).status in (Status.confirmed, Status.waitlisted)
    assert db.session.get(Registration, kept.id).family_name == "残留"


def test_the_cli_dry_run_changes_nothing_then_the_purge(make_event, app):
    a, *_ = _world(make_event)
    snapshot = sorted(_everything())
    runner = app.test_cli_runner()
    result = runner.invoke(args=["retention", "purge", "--dry-run", "--event", str(a.id)])
    assert result.exit_code == 0 and f"event #{a.id}: would remove registration 3" in result.output
    db.session.rollback()
    assert sorted(_everything()) == snapshot
    result = runner.invoke(args=["retention", "purge", "--event", str(a.id)])
    assert result.exit_code == 0 and f"event #{a.id}: removed registration 3" in result.output
    assert "purged already" in runner.invoke(args=["retention", "purge", "--event", str(a.id)]).output


def test_the_privacy_cli(make_event, app):
    _world(make_event)
    runner = app.test_cli_runner()
    out = runner.invoke(args=["privacy", "export", A_PEOPLE[1]["email"]])
    assert out.exit_code == 0 and json.loads(out.output)["registrations"][0]["registration"]["family_name"] == "蔵之介"
    assert runner.invoke(args=["privacy", "export", "not an address"]).exit_code != 0
    out = runner.invoke(args=["privacy", "delete", A_PEOPLE[1]["email"], "--yes"])
    assert out.exit_code == 0 and "registration 1" in out.output
    db.session.rollback()
    assert json.loads(runner.invoke(args=["privacy", "export", A_PEOPLE[1]["email"]]).output)["registrations"] == []
