"""Withdrawing a certificate of attendance (issue 17): the organizer's confirmation step on the
Certificates tab, /verify saying "withdrawn" afterwards, a second withdrawal refused with words and
nothing changed, another event's certificate a 404, staff without export_personal refused, and a
withdrawn certificate never issued, downloaded, printed or mailed again (resend, the post-event
loop, a mail queued before the withdrawal)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from eventreg.domain.communication import followups
from eventreg.domain.errors import DomainError
from eventreg.domain.reception import checkin
from eventreg.domain.registration import certificates
from eventreg.extensions import db
from eventreg.models import AuditEntry, Certificate, MailKind, OutboxMessage, OutboxStatus
from eventreg.worker import deliver_due, tick

from .. import factories
from .conftest import csrf_token

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)


def issued(event, **person):
    registration = factories.register_person(event, **person)
    checkin.check_in(registration, session_id=None, desk="受付1", now=NOW)
    certificate = certificates.issue(registration, NOW)
    db.session.commit()
    return registration, certificate


def fresh(certificate_id: int) -> Certificate:
    db.session.rollback()  # see what the request committed
    return db.session.get(Certificate, certificate_id)


def withdraw_url(event, certificate) -> str:
    return f"/admin/events/{event.id}/certificates/{certificate.id}/withdraw"


def test_withdraw_then_verify_says_withdrawn(client, login, make_event):
    event = make_event(title="NPO会計セミナー")
    registration, certificate = issued(event, family_name="渡邊", given_name="真由美", email="came@example.org")
    certificate_id, code = certificate.id, certificates.formatted(certificate.code)
    assert "正規のもの" in client.get(f"/verify/{code}").get_data(as_text=True)
    login(factories.make_staff("organizer", events=[event]))
    tab = client.get(f"/admin/events/{event.id}/certificates").get_data(as_text=True)
    assert code in tab and "有効" in tab and withdraw_url(event, certificate) in tab
    confirm = client.get(withdraw_url(event, certificate))
    assert confirm.status_code == 200 and "この証明書を取り消しますか" in confirm.get_data(as_text=True)
    assert fresh(certificate_id).revoked_at is None  # the confirmation page changes nothing
    token = csrf_token(client, withdraw_url(event, certificate))
    done = client.post(withdraw_url(event, certificate), data={"csrf_token": token, "confirm": "yes",
                                                               "reason": "受付の誤り(別の方の受付)"})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/admin/events/{event.id}/certificates")
    withdrawn = fresh(certificate_id)
    assert withdrawn.revoked_at is not None and withdrawn.revoked_reason == "受付の誤り(別の方の受付)"
    verify = client.get(f"/verify/{code}").get_data(as_text=True)
    assert "主催者により取り消されています" in verify and "正規のもの" not in verify
    assert "渡邊" not in verify and "受付の誤り" not in verify  # neither the name nor the staff's reason
    tab = client.get(f"/admin/events/{event.id}/certificates").get_data(as_text=True)
    assert "取消済み" in tab and "受付の誤り" in tab and withdraw_url(event, certificate) not in tab
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "certificate_withdrawn"))
    assert entry.registration_id == registration.id and entry.note == "certificate_withdrawn_reason"
    assert entry.note_params["code"] == code
    page = client.get(f"/admin/events/{event.id}/registrations/{registration.id}").get_data(as_text=True)
    assert "参加証明書を取り消し" in page and "取消済み" in page


def test_the_english_list_says_withdrawn(client, login, make_event):
    event = make_event()
    _, certificate = issued(event)
    certificates.withdraw(certificate, reason="", actor=None, now=NOW)
    db.session.commit()
    login(factories.make_staff("organizer", events=[event]))
    tab = client.get(f"/admin/events/{event.id}/certificates?lang=en").get_data(as_text=True)
    assert "Withdrawn" in tab and "Issued certificates" in tab


def test_a_second_withdrawal_is_refused_and_changes_nothing(client, login, make_event):
    event = make_event()
    _, certificate = issued(event)
    login(factories.make_staff("organizer", events=[event]))
    token = csrf_token(client, withdraw_url(event, certificate))
    first = client.post(withdraw_url(event, certificate), data={"csrf_token": token, "confirm": "yes", "reason": "一回目"})
    assert first.status_code == 303
    when = fresh(certificate.id).revoked_at
    again = client.post(withdraw_url(event, certificate), data={"csrf_token": token, "confirm": "yes", "reason": "二回目"},
                        follow_redirects=True)
    assert "すでに取り消されています" in again.get_data(as_text=True)
    after = fresh(certificate.id)
    assert after.revoked_at == when and after.revoked_reason == "一回目"
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "certificate_withdrawn")) == 1


def test_a_bad_reason_is_refused_with_words(client, login, make_event):
    event = make_event()
    _, certificate = issued(event)
    login(factories.make_staff("organizer", events=[event]))
    token = csrf_token(client, withdraw_url(event, certificate))
    long = client.post(withdraw_url(event, certificate),
                       data={"csrf_token": token, "confirm": "yes", "reason": "あ" * (certificates.MAX_REASON + 1)})
    assert long.status_code == 400 and "500文字" in long.get_data(as_text=True)
    control = client.post(withdraw_url(event, certificate), data={"csrf_token": token, "confirm": "yes", "reason": "a\x00b"})
    assert control.status_code == 400
    assert fresh(certificate.id).revoked_at is None


def test_without_csrf_nothing_is_withdrawn(client, login, make_event):
    event = make_event()
    _, certificate = issued(event)
    login(factories.make_staff("organizer", events=[event]))
    assert client.post(withdraw_url(event, certificate), data={"confirm": "yes"}).status_code == 400
    assert fresh(certificate.id).revoked_at is None


def test_another_events_certificate_is_a_404(client, login, make_event):
    mine, theirs = make_event(), make_event()
    _, their_certificate = issued(theirs)
    login(factories.make_staff("organizer", events=[mine]))
    url = f"/admin/events/{mine.id}/certificates/{their_certificate.id}/withdraw"
    assert client.get(url).status_code == 404
    token = csrf_token(client, f"/admin/events/{mine.id}/certificates")
    assert client.post(url, data={"csrf_token": token, "confirm": "yes"}).status_code == 404
    assert client.get(f"/admin/events/{mine.id}/certificates/999999/withdraw").status_code == 404
    assert fresh(their_certificate.id).revoked_at is None


@pytest.mark.parametrize("who, status", [("other_organizer", 404), ("reception", 403), ("viewer", 403)])
def test_staff_without_the_capability_cannot_withdraw(client, login, make_event, who, status):
    event, elsewhere = make_event(), make_event()
    _, certificate = issued(event)
    user = (factories.make_staff("organizer", events=[elsewhere]) if who == "other_organizer"
            else factories.make_staff(who, events=[event]))
    login(user)
    assert client.get(withdraw_url(event, certificate)).status_code == status
    token = csrf_token(client, "/staff")
    assert client.post(withdraw_url(event, certificate), data={"csrf_token": token, "confirm": "yes"}).status_code == status
    assert fresh(certificate.id).revoked_at is None


def test_a_withdrawn_certificate_is_not_issued_or_downloaded_again(client, login, make_event):
    event = make_event()
    registration, certificate = issued(event)
    certificates.withdraw(certificate, reason="", actor=None, now=NOW)
    db.session.commit()
    assert certificates.issue(registration, NOW).id == certificate.id  # no second certificate
    db.session.rollback()
    login(factories.make_staff("organizer", events=[event]))
    base = f"/admin/events/{event.id}/registrations/{registration.id}"
    refused = client.post(base + "/certificate", data={"csrf_token": csrf_token(client, base)}, follow_redirects=True)
    assert "この参加証明書は取り消されています" in refused.get_data(as_text=True)
    assert client.get(base + "/certificate.pdf").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 1


def test_a_withdrawn_certificate_is_never_mailed_again(app, smtp_server, make_event):
    event = make_event()
    people = [issued(event, email=f"p{i}@example.org")[0] for i in range(2)]
    followups.update(event, rule="end+30m", parts={"certificate": True}, noshow_text="", materials_url="",
                     actor=None, now=NOW)
    db.session.commit()
    withdrawn = certificates.issue(people[0], NOW)
    assert certificates.withdraw(withdrawn, reason="", actor=None, now=NOW)
    db.session.commit()
    with pytest.raises(DomainError) as refused:  # staff's "email it again"
        followups.resend(people[0], "certificate", actor=None, now=NOW)
    assert refused.value.code == "certificate_withdrawn"
    db.session.rollback()
    assert followups.recipients(event, event.sessions[0].id, "certificate") == [people[1].id]
    due = event.sessions[0].ends_at + timedelta(minutes=30)
    db.session.commit()
    tick(app, now=due)
    while deliver_due(app, worker_id="test", now=due):
        pass
    db.session.rollback()
    sent_to = set(db.session.scalars(select(OutboxMessage.registration_id).where(
        OutboxMessage.kind == MailKind.followup_certificate)))
    assert sent_to == {people[1].id}
    assert [m["To"].addresses[0].addr_spec for m in smtp_server.messages if "参加証明書" in m["Subject"]] == ["p1@example.org"]


def test_a_mail_queued_before_the_withdrawal_is_given_up(app, smtp_server, make_event):
    event = make_event()
    registration, certificate = issued(event, email="came@example.org")
    followups.update(event, rule="end+30m", parts={"certificate": True}, noshow_text="", materials_url="",
                     actor=None, now=NOW)
    followups.resend(registration, "certificate", actor=None, now=NOW)  # queued, not sent yet
    certificates.withdraw(certificate, reason="", actor=None, now=NOW)
    db.session.commit()
    while deliver_due(app, worker_id="test", now=NOW + timedelta(minutes=1)):
        pass
    db.session.rollback()
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == MailKind.followup_certificate))
    assert row.status == OutboxStatus.failed and "withdrawn" in row.last_error and row.attempts == 1
    assert [m for m in smtp_server.messages if "参加証明書" in m["Subject"]] == []


def test_the_print_job_leaves_a_withdrawn_certificate_out(app, make_event):
    import pymupdf

    from eventreg.models import Job, StoredFile
    from eventreg.worker import run_job

    event = make_event()
    issued(event, family_name="青木", given_name="花子")
    _, withdrawn = issued(event, family_name="渡邊", given_name="真由美")
    certificates.withdraw(withdrawn, reason="", actor=None, now=NOW)
    job_id = certificates.queue_job(event.id, NOW).id
    db.session.commit()
    assert run_job(app, worker_id="test") == job_id
    db.session.rollback()
    stored = db.session.get(StoredFile, db.session.get(Job, job_id).result_file_id)
    with pymupdf.open(stream=stored.data, filetype="pdf") as document:
        text = "".join(page.get_text() for page in document).replace(" ", "").replace("\n", "")
        assert document.page_count == 1
    assert "青木花子" in text and "渡邊" not in text
