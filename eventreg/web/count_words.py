"""The words of the counters of domain.insight.counts: one table for every page that shows a
count (the desk, the attendee list, the check-in log, the statistics and their charts' legends,
the list's status filter), so the same number always has the same name."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

COUNT_WORDS = {
    "confirmed": _l("Confirmed"),
    "checked_in": _l("Checked in"),
    "not_arrived": _l("Not yet arrived"),
    "walk_ins": _l("Walk-ins"),
    "registered_arrivals": _l("Checked in, registered beforehand"),
    "no_shows": _l("No-shows"),
    "held": _l("Email not confirmed"),
    "waitlisted": _l("Waiting list"),
    "cancelled": _l("Cancelled"),
    "active": _l("Registered"),
}


def count_word(name: str) -> str:
    """The word of a counter (a name in domain.insight.counts.NAMES) in the current language."""
    return str(COUNT_WORDS[name])
