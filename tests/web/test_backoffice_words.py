"""No English leaks into the Japanese back office: the registration page's mail table, the 個人情報
tab's purge preview and the person delete page say their words, not raw codes or table names."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from eventreg.domain.privacy import retention
from eventreg.extensions import db
from eventreg.models import MailKind, OutboxMessage, OutboxStatus
from eventreg.web.admin.privacy import PURGE_WORDS

from .. import factories

RAW = ("reminder", "registration", "scan", "job", "confirmed", "outbox_message", "security_list_send",
       "stored_file", "invitation", "audit_entry", "attendee_message", "waitlisted")


def _visible(html: str) -> str:
    """The text a person reads: no tags, attributes, scripts or styles."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_back_office_pages_say_words_not_codes(client, ctx, login):
    event = factories.make_event()
    person = factories.register_person(event)
    now = datetime.now(timezone.utc)
    db.session.add(OutboxMessage(kind=MailKind.reminder, registration_id=person.id, status=OutboxStatus.pending,
                                 created_at=now, next_attempt_at=now, message_id="reminder-1@x", context={}))
    db.session.commit()
    login(factories.make_staff("owner", [event]))
    base = f"/admin/events/{event.id}"
    pages = {"registration": f"{base}/registrations/{person.id}", "privacy": f"{base}/privacy",
             "person_delete": f"{base}/registrations/{person.id}/delete-person"}
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        text = _visible(response.get_data(as_text=True))
        leaks = [w for w in RAW if re.search(rf"(?<![\w@.-]){w}(?![\w@.-])", text)]
        assert leaks == [], (name, leaks)
    assert "リマインダー" in _visible(client.get(pages["registration"]).get_data(as_text=True))
    assert "申し込み完了" in _visible(client.get(pages["person_delete"]).get_data(as_text=True))


def test_every_purge_count_has_words(ctx):
    event = factories.make_event()
    assert set(retention.purge(event.id, datetime.now(timezone.utc), dry_run=True)) <= set(PURGE_WORDS)
