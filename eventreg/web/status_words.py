"""The words for every state shown to people: a registration's status (and "checked in", which
the lists show in its place), an email's delivery, an organizer's message and an event (a background
job speaks in sentences: domain.backoffice.jobs). One table, used by every page, export and the desk; tests/web/test_status_words.py checks
that each state has words in Japanese and English and that no other table exists.

Babel, not a plain table in the domain (as domain.people.field_words is): a state is read only in
the reader's language, on a page or in a file they download, never in a file sent to a venue.
A registration's words are the counters' words (count_words) for the same name.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..models import AttendanceMode, EventStatus, MessageStatus, OutboxStatus, Status
from .count_words import COUNT_WORDS

STATUS_WORDS = {
    Status: {s: COUNT_WORDS[s.value] for s in Status},
    OutboxStatus: {OutboxStatus.pending: _l("Waiting to be sent"), OutboxStatus.sent: _l("Sent"),
                   OutboxStatus.failed: _l("Failed")},
    MessageStatus: {MessageStatus.draft: _l("Draft"), MessageStatus.scheduled: _l("Scheduled"),
                    MessageStatus.queued: _l("Sent"), MessageStatus.cancelled: _l("Cancelled")},
    EventStatus: {EventStatus.draft: _l("Draft"), EventStatus.published: _l("Published"),
                  EventStatus.closed: _l("Closed")},
    # How a registration attends: its session's mode (the attendee list, exports, API, the public form)
    AttendanceMode: {AttendanceMode.onsite: _l("On site"), AttendanceMode.online: _l("Online")},
}
CHECKED_IN = COUNT_WORDS["checked_in"]  # a confirmed registration whose person has arrived


def status_word(value) -> str:
    """The words for a state (an enum member) in the current language."""
    return str(STATUS_WORDS[type(value)][value])


def registration_state(registration) -> str:
    """What lists show for a registration: "checked_in" for a confirmed person who came, else its status."""
    if registration.status == Status.confirmed and registration.checked_in_at:
        return "checked_in"
    return Status(registration.status).value


def mode_words() -> dict[str, str]:
    """Attendance mode value ("onsite", "online") -> words: 会場 / オンライン."""
    return {mode.value: status_word(mode) for mode in AttendanceMode}


def registration_words() -> dict[str, str]:
    """registration_state -> words, for templates and exports (and the desk's script)."""
    return {s.value: status_word(s) for s in Status} | {"checked_in": str(CHECKED_IN)}
