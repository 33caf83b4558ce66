"""Building an event from a plain mapping (an imported YAML/TOML file, or the demo).

Times in the file are local to the event's time zone: ``date: 2019-02-08``, ``start: "14:00"``.
See docs/example-event.yaml for every key. The values go through the same checks as the
back-office forms (domain.backoffice.events.clean_event / clean_session / clean_question); a problem is a
DomainError("invalid_event_file") whose detail names the place ("session 1: end: ...").
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import select, update

from eventreg.domain.backoffice import event_checks, events
from eventreg.domain.communication import building_list_sheet, followups, reminders
from eventreg.domain.errors import DomainError
from eventreg.domain.people import text
from eventreg.domain.timing import rules, schedule
from eventreg.extensions import db
from eventreg.models import ApiToken, Event, EventMember, EventStatus, Invitation, SecurityFormat, StaffUser

_TEXT_KEYS = (
    "title", "venue_name", "venue_address", "access_notes", "organizer",
    "contact_name", "contact_phone", "contact_email", "fee_note", "privacy_notice",
)


def _bad(detail: str):
    return DomainError("invalid_event_file", detail)


def _text(value) -> str:
    """A date or date-time read by YAML/TOML back to the text the checks take."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return "" if value is None else str(value)


def _deadline(deadline, where: str = "deadline") -> str:
    """The file's ``deadline`` as rule text for the checks (domain.timing.rules reads it): a rule
    as typed ("1d@12:00", "3bd@17:00", "2h", 「前日12:00」), or a mapping with ``at`` (a local
    date-time), ``days_before`` or ``business_days_before`` (with ``time``), or ``hours_before``;
    omitted: "" (until the start)."""
    if deadline is None or deadline == "":
        return ""
    if isinstance(deadline, (str, datetime)):
        return _text(deadline)
    if not isinstance(deadline, dict):
        raise _bad(f"{where}: must be a rule such as 1d@12:00, or a mapping with days_before "
                   "(and time), business_days_before (and time), hours_before or at")
    if "at" in deadline:
        return _text(deadline["at"])
    if "hours_before" in deadline:
        hours = deadline["hours_before"]
        if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 <= hours <= rules.MAX_HOURS:
            raise _bad(f"{where}.hours_before: must be a number from 0 to {rules.MAX_HOURS}")
        return rules.TimeRule.hours_before(hours).text()
    for key, low, high in (("days_before", 0, rules.MAX_DAYS), ("business_days_before", 1, rules.MAX_BUSINESS_DAYS)):
        if key in deadline:
            days = deadline[key]
            if isinstance(days, bool) or not isinstance(days, int) or not low <= days <= high:
                raise _bad(f"{where}.{key}: must be a whole number from {low} to {high}")
            hhmm = deadline.get("time", "00:00")
            if isinstance(hhmm, int) and not isinstance(hhmm, bool):  # YAML 1.1: 12:00 unquoted is 720
                hhmm = f"{hhmm // 60:02d}:{hhmm % 60:02d}"
            try:
                parts = rules.from_parts(key, days=str(days), at=_text(hhmm))
            except DomainError:
                raise _bad(f"{where}.time: must be HH:MM") from None
            return parts.text()
    return ""


def _checked(where: str, check, *args):
    try:
        return check(*args)
    except event_checks.InvalidValues as exc:
        raise _bad(f"{where}{exc.detail}") from None


def build_event(spec: dict, *, now: datetime | None = None) -> Event:
    """A new, unsaved Event with its sessions and questions; raises DomainError if invalid.
    ``now``: when its reminder rules were made (see domain.backoffice.events.build)."""
    if not isinstance(spec, dict):
        raise _bad("the file must hold a mapping")
    for key in ("slug", "title", "sessions"):
        if not spec.get(key):
            raise _bad(f"missing key: {key}")
    if not isinstance(spec["sessions"], list):
        raise _bad("sessions: must be a list")
    values = {key: _text(spec.get(key, "")) for key in _TEXT_KEYS}
    values.update(
        slug=str(spec["slug"]), description_md=_text(spec.get("description", "")),
        language=spec.get("language", "ja"), timezone=spec.get("timezone", event_checks.DEFAULT_TIMEZONE),
        waitlist_enabled=bool(spec.get("waitlist", True)),
        confirm_email=bool(spec.get("confirm_email", False)),
        hold_minutes=spec.get("hold_minutes", 60),
        registration_opens=_text(spec.get("registration_opens")) or None,
        deadline=_deadline(spec.get("deadline")),
    )
    # The slug may be taken: replace_event deletes the event it names.
    event_values = _checked("", lambda v: event_checks.clean_event(v, unique_slug=False), values)
    sessions = []
    for i, s in enumerate(spec["sessions"], 1):
        if not isinstance(s, dict):
            raise _bad(f"session {i}: must be a mapping")
        for key in ("date", "start", "end", "capacity"):
            if key not in s:
                raise _bad(f"session {i}: missing {key}")
        sessions.append(_checked(f"session {i}: ", event_checks.clean_session, {
            "title": s.get("title", ""), "date": s["date"], "doors": s.get("doors", s["start"]),
            "start": s["start"], "end": s["end"], "capacity": s["capacity"],
            "deadline": _deadline(s.get("deadline"), f"session {i}: deadline"),
        }, event_values["timezone"]))
    questions = []
    for i, q in enumerate(spec.get("questions") or [], 1):
        if not isinstance(q, dict):
            raise _bad(f"question {i}: a mapping with a label is required")
        questions.append(_checked(f"question {i}: ", event_checks.clean_question, q))
    try:
        status = EventStatus(spec.get("status", "published" if spec.get("published", True) else "draft"))
    except ValueError:
        raise _bad("status: must be draft, published or closed") from None
    event = events.build(event_values, sessions, questions, status=status,
                         reminder_rules=_reminders(spec.get("reminders", [reminders.DEFAULT_RULE])), now=now)
    _security(event, spec.get("security"))
    _after_event(event, spec.get("after_event"))
    return event


def _reminders(value) -> list[str]:
    """The file's ``reminders`` list of rule texts ("1d@10:00", "2h"); absent: the default one,
    ``[]``: none."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _bad("reminders: must be a list of rules such as 1d@10:00 or 2h")
    for i, item in enumerate(value, 1):
        try:
            reminders.check_rule(_text(item))
        except DomainError as exc:
            raise _bad(f"reminder {i}: {_text(item)[:40]!r} is not a rule such as 1d@10:00 or 2h "
                       f"(days before at a time, or hours before; at most {reminders.MAX_DAYS} days)"
                       + ("" if exc.code != "reminder_not_relative" else ", not a fixed date")) from None
    if len(value) > reminders.MAX_RULES:
        raise _bad(f"reminders: at most {reminders.MAX_RULES}")
    return [_text(item) for item in value]


def _security(event: Event, security) -> None:
    """The file's ``security`` mapping: the building-security list's contact, columns, format and
    send rule, with the settings page's checks (domain.communication.building_list)."""
    if not security:
        return
    if not isinstance(security, dict):
        raise _bad("security: must be a mapping with email (and columns, format, send_rule)")
    try:
        event.security_email = text.normalize_email(_text(security.get("email")))
    except DomainError:
        raise _bad("security.email: not an email address") from None
    if "columns" in security:
        try:
            event.security_columns = building_list_sheet.check_columns([str(c) for c in security["columns"] or []])
        except (DomainError, TypeError):
            raise _bad(f"security.columns: choose from {', '.join(building_list_sheet.COLUMNS)}") from None
    if "format" in security:
        try:
            event.security_format = SecurityFormat(security["format"])
        except ValueError:
            raise _bad("security.format: must be xlsx, csv or csv_cp932") from None
    if security.get("send_rule"):
        try:
            event.security_send_rule = rules.parse(_text(security["send_rule"])).text()
        except DomainError:
            raise _bad("security.send_rule: a rule such as 1d@12:00 or 2h") from None


def _after_event(event: Event, after) -> None:
    """The file's ``after_event`` mapping: the post-event loop's rule, its three parts (absent:
    on, as for any new event), the no-show note's text and the materials link, with the 開催後
    tab's checks (domain.communication.followups)."""
    if after is None:
        return
    if not isinstance(after, dict):
        raise _bad("after_event: must be a mapping with rule, survey, noshow, certificate, noshow_text, materials_url")
    for part in followups.PARTS:
        if part in after:
            if not isinstance(after[part], bool):
                raise _bad(f"after_event.{part}: must be true or false")
            setattr(event, f"followup_{part}", after[part])
    if after.get("rule"):
        try:
            rule = followups.check_rule(_text(after["rule"]))
        except DomainError:
            raise _bad("after_event.rule: a time after the end, such as end+30m") from None
        event.followup_rule = None if rule == schedule.FOLLOWUP_DEFAULT else rule
    try:
        event.materials_url = followups.check_url(_text(after.get("materials_url", "")))
    except DomainError:
        raise _bad("after_event.materials_url: one http(s) link") from None
    text = _text(after.get("noshow_text", "")).strip()
    if len(text) > followups.MAX_NOSHOW_TEXT:
        raise _bad(f"after_event.noshow_text: at most {followups.MAX_NOSHOW_TEXT} characters")
    event.noshow_text = text


def replace_event(spec: dict, *, now: datetime | None = None) -> Event:
    """Adds the event, first deleting an existing one with the same slug (its registrations go
    with it). Its team stays: staff roles, open invitations and API tokens limited to it move to
    the new event, so nobody has to be invited and accept again."""
    event = build_event(spec, now=now)
    old = db.session.scalar(select(Event).where(Event.slug == event.slug))
    if old is not None:
        old.slug = f"~replaced-{old.id}"  # frees the unique slug until the old event is gone below
        db.session.flush()
    db.session.add(event)
    db.session.flush()
    if old is not None:
        _move_team(old, event)
        db.session.delete(old)
        db.session.flush()
    schedule.reschedule(event)
    return event


def _move_team(old: Event, new: Event) -> None:
    for model in (EventMember, Invitation, ApiToken):
        db.session.execute(update(model).where(model.event_id == old.id).values(event_id=new.id)
                           .execution_options(synchronize_session=False))
    # Roles already loaded (a user's memberships) would still name the old event: read them again.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, EventMember):
            db.session.expunge(obj)
        elif isinstance(obj, StaffUser):
            db.session.expire(obj, ["memberships"])
