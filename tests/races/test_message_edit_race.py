"""An organizer saves a draft message while another sends it, through the back office's HTTP edge.

The editor's request loads the draft (and sees a draft) and is held right after, at the text
check ``save_draft`` starts with; the other organizer's "send now" queues the message meanwhile.
The worker renders each recipient's email from the message's text at delivery, so a text written
after the queue would reach the people not yet mailed.

- PostgreSQL runs the two side by side: the save's conditional UPDATE (``… WHERE status =
  'draft'``) changes nothing, and the editor is told the changes were not saved. Without the
  guard (the status checked in Python, then the text written) the queued message's text changes.
- SQLite: the editor's request holds the write lock from its first read, so the send waits for it
  and queues the edited text: the two cannot interleave, with the guard or without it.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select, update

from eventreg.domain.backoffice.roster import ListFilter
from eventreg.domain.communication import attendee_messages
from eventreg.extensions import db
from eventreg.models import AttendeeMessage, AuditEntry, MessageStatus

from .. import factories
from .edge import Staff, interleaved

BEFORE, AFTER = "【ご案内】{name}様", "【訂正】{name}様"


def edit_while_sent(base_url: str, monkeypatch, make_event) -> tuple[int, tuple]:
    """The message's id and the two requests' HTTP statuses (the edit's first)."""
    event = make_event()
    for _ in range(3):
        factories.register_person(event)
    flt = ListFilter(status="confirmed")
    message = attendee_messages.save_draft(event, subject=BEFORE, body="{name} 様\n明日お待ちしています。", flt=flt,
                                  actor=None, now=datetime.now(timezone.utc))
    db.session.commit()
    organizers = [factories.make_staff("editor", [event]) for _ in range(2)]
    page = f"/admin/events/{event.id}/messages/{message.id}"
    form = {**attendee_messages.filter_of(message).as_args(), "subject": AFTER, "body": "{name} 様\n会場が変わりました。"}
    edit = Staff(base_url, organizers[0], f"{page}/edit").post(f"{page}/edit", form)
    send = Staff(base_url, organizers[1], page).post(f"{page}/send", {"when": "now", "expected": "3"})
    message_id = message.id
    db.session.commit()  # hold no read while the server writes (SQLite)
    return message_id, interleaved(monkeypatch, attendee_messages, "check", edit, send)


def actions(message_id: int) -> list[str]:
    """The message's audit entries in the order they were written."""
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("message_%")).order_by(AuditEntry.id))
    return [e.action for e in entries if e.note_params.get("message") == message_id]


def queued(message_id: int) -> AttendeeMessage:
    db.session.rollback()
    message = db.session.get(AttendeeMessage, message_id)
    assert message.status == MessageStatus.queued and message.recipient_count == 3
    return message


def test_a_draft_saved_after_it_was_sent_keeps_the_sent_text(http_server, make_event, monkeypatch, dialect):
    message_id, statuses = edit_while_sent(http_server, monkeypatch, make_event)
    assert statuses == (303, 303)
    message = queued(message_id)
    if dialect == "postgresql":  # the send came in between: the edit was refused
        assert message.subject == BEFORE
        assert actions(message_id) == ["message_drafted", "message_queued"]
    else:  # the edit's write lock made the send wait: it sent the edited text
        assert message.subject == AFTER
        assert actions(message_id) == ["message_drafted", "message_edited", "message_queued"]


def unguarded_rewrite(message_id: int, **values) -> bool:
    """The save as it was: the status checked in Python (on the page's read), then the text written."""
    db.session.execute(update(AttendeeMessage).where(AttendeeMessage.id == message_id).values(**values)
                       .execution_options(synchronize_session=False))
    return True


def test_without_the_guard_the_sent_text_changes_on_postgresql(http_server, make_event, monkeypatch, dialect):
    monkeypatch.setattr(attendee_messages, "_rewrite", unguarded_rewrite)
    message_id, statuses = edit_while_sent(http_server, monkeypatch, make_event)
    assert statuses == (303, 303)
    message = queued(message_id)
    assert message.subject == AFTER  # on both; but on PostgreSQL it was written after the queue:
    expected = ["message_drafted", "message_queued", "message_edited"] if dialect == "postgresql" else \
        ["message_drafted", "message_edited", "message_queued"]
    assert actions(message_id) == expected
