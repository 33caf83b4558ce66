"""The words of what offline desks left to look at (domain.reception.desk_followups): conflicts,
desk tasks and clock skew, as the check-in log, the event overview, the batch API's answers and the
desk's roster show them. One table, so the same thing has the same name everywhere."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..models import CheckinConflict, DeskTask, Event
from .filters import hms, person_name, session_name

TASK_WORDS = {
    "seat_overflow": _l("%(name)s was registered at %(desk)s when %(session)s had no free seat: the capacity "
                        "was raised by one. Find them a seat, or lower the capacity again once someone leaves."),
    "walk_in_duplicate": _l("%(name)s was registered as a walk-in at %(desk)s while another desk had registered "
                            "someone of the same name: if it is the same person, cancel one of the two."),
}
SECTION_WORDS = {
    "conflicts": _l("Admitted at two desks"),
    "conflicts_help": _l("The same person was checked in at two desks that could not see each other. The earlier "
                         "check-in counts (first); the other is listed after it."),
    "tasks": _l("To do at the desk"),
    "skew": _l("Device clock off"),
    "skew_help": _l("These operations came from a device whose clock was off by more than 5 minutes; their "
                    "times were corrected by the difference."),
    "done": _l("Done"),
    "overview": _l("%(tasks)s desk tasks open · %(conflicts)s admitted at two desks"),
}


def word(name: str, **params) -> str:
    """A word of SECTION_WORDS in the current language."""
    text = str(SECTION_WORDS[name])
    return text % params if params else text


def conflict_text(conflict: CheckinConflict, tz: str) -> str:
    """「13:42:05 受付1 / 13:43:10 受付2」: the admission that counts first (times in the event's zone)."""
    return (f"{hms(conflict.kept_at, tz)} {conflict.kept_desk} / "
            f"{hms(conflict.other_at, tz)} {conflict.other_desk}")


def task_text(task: DeskTask, event: Event) -> str:
    registration = task.registration
    session = next((x for x in event.sessions if x.id == task.session_id), None)
    return str(TASK_WORDS[task.kind]) % {
        "name": person_name(registration) if registration is not None else "—",
        "desk": task.desk or "—",
        "session": session_name(session, event.timezone) if session is not None else "—",
    }


def conflict_json(conflict: CheckinConflict, event: Event) -> dict:
    return {"id": conflict.id, "registration_id": conflict.registration_id,
            "name": person_name(conflict.registration) if conflict.registration is not None else "",
            "kept_at": conflict.kept_at.isoformat(), "kept_desk": conflict.kept_desk,
            "other_at": conflict.other_at.isoformat(), "other_desk": conflict.other_desk,
            "text": conflict_text(conflict, event.timezone)}


def task_json(task: DeskTask, event: Event) -> dict:
    return {"id": task.id, "kind": task.kind, "text": task_text(task, event)}


def skew_text(seconds: int) -> str:
    """「+7分12秒」: how far the device's clock was off (ahead +, behind −)."""
    sign = "+" if seconds >= 0 else "−"
    minutes, rest = divmod(abs(seconds), 60)
    return _("%(sign)s%(minutes)s min %(seconds)s s", sign=sign, minutes=minutes, seconds=rest)
