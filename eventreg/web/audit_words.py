"""The words for every audit note code: the one table. The domain writes a note as a code and
its parameters (``audit.record(..., note="message", params={...})``); the history pages read it
in the page's language from here. tests/web/test_audit_notes.py walks the source for every code
written and checks each has words here, in Japanese and English.

A note written before notes were codes (and not mapped by migration 0007) is shown as stored."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .filters import moment

NOTE_WORDS = {
    # One registration (domain.backoffice.registration_edits)
    "no_confirmation_email": _l("No confirmation email was sent."),
    "above_capacity": _l("Added above capacity"),
    "attendee_not_told": _l("The attendee was not told."),
    "seat_freed_by_cancellation": _l("A seat was freed by a cancellation."),
    "seat_freed_by_move": _l("A seat was freed by a move to another session."),
    "promoted_by_staff": _l("By staff, ahead of the waiting list."),
    # Personal data (web/admin/exports.py, web/admin/privacy.py, domain.privacy)
    "export": _l("%(set)s, %(format)s: %(people)s people; filter: %(filter)s"),
    "export_by_api": _l("Through the API: %(set)s, %(format)s: %(people)s people; filter: %(filter)s"),
    "one_person_json": _l("One person's data (JSON)"),
    "deleted_on_request": _l("Personal data deleted on request."),
    "purged": _l("Personal data removed after the retention period: %(counts)s"),
    # The event's team (domain.access.invitations)
    "replaces_pending_invitation": _l("Replaces the pending invitation."),
    # Attendee messages (domain.communication.attendee_messages)
    "message": _l("Message #%(message)s “%(subject)s”"),
    "message_number": _l("Message #%(message)s"),
    "message_send_at": _l("Message #%(message)s, to be sent %(send_at)s"),
    "message_recipients": _l("Message #%(message)s, queued for %(recipients)s people"),
    # Attendee import (domain.backoffice.attendee_import)
    "imported_row": _l("Imported from %(file)s, row %(row)s"),
    "merged_from_import": _l("Empty fields filled from %(file)s, row %(row)s"),
    # Certificates of attendance (domain.registration.certificates.withdraw)
    "certificate_withdrawn": _l("Certificate %(code)s."),
    "certificate_withdrawn_reason": _l("Certificate %(code)s. Reason: %(reason)s"),
    # Surveys (domain.insight.surveys)
    "answers_deleted": _l("%(answers)s answers were deleted with it."),
}

# What a purge removed or blanked (domain.privacy.retention.purge_event's counts), by table.
PURGED_WORDS = {
    "registration": _l("registrations"), "scan": _l("scans"), "security_list_send": _l("security lists sent"),
    "stored_file": _l("files"), "job": _l("file jobs"), "outbox_message": _l("emails"),
    "invitation": _l("invitations"), "audit_entry": _l("history entries"), "attendee_message": _l("messages"),
}


class _Params(dict):
    def __missing__(self, key: str) -> str:  # a parameter an old row lacks never fails the page
        return "…"


def _shown(name: str, value, tz: str):
    """A parameter as people read it: a time in the event's zone, a filter or counts as a list."""
    if name == "send_at" and isinstance(value, str):
        try:
            return moment(datetime.fromisoformat(value), tz)
        except ValueError:
            return value
    if name == "set":
        from .admin.exports import SET_TITLES  # the export page's names of the sets

        return str(SET_TITLES[value]).split(":")[0] if value in SET_TITLES else value
    if name == "filter" and isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or _("none (everyone)")
    if name == "counts" and isinstance(value, dict):
        return str(_(", ")).join(f"{PURGED_WORDS[k] if k in PURGED_WORDS else k} {v}" for k, v in value.items())
    return "" if value is None else value


def note_words(code: str, params: dict | None = None, tz: str = "Asia/Tokyo") -> str:
    """An entry's note in the current language; a note that is not a code (an old row) as stored."""
    found = NOTE_WORDS.get(code)
    if found is None:
        return code
    text = str(found)
    values = _Params({name: _shown(name, value, tz) for name, value in (params or {}).items()})
    return text % values if "%(" in text else text
