"""The event editor's forms, and the words for domain.backoffice.events' codes.

The forms only render fields and carry what was typed: every check is domain.backoffice.events'
``clean_*`` (the same one the YAML/TOML import uses), whose problems land on the fields here.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields import Field

from eventreg.domain.backoffice import event_checks, hybrid
from eventreg.domain.backoffice.event_checks import InvalidValues, Problem
from eventreg.domain.registration import holds
from eventreg.domain.timing import deadlines

from ...models import AttendanceMode, Event, EventSession, Question
from ..error_words import message, words
from ..forms import PageForm
from ..rule_words import rule_words as words_for_rule
from ..status_words import STATUS_WORDS


def refusal(exc) -> str:
    """The words for a DomainError raised by a change (detail filled in)."""
    return message(exc.code, exc.detail)


def problem_words(problem: Problem) -> str:
    return words(problem.code, **problem.params)


def put_problems(form, exc: InvalidValues, rename: dict | None = None) -> None:
    """Shows each problem under its field (unknown fields: on the form's first field). A form's
    ``problem_fields`` says where a problem of a field it does not show goes (the deadline editor)."""
    rename = {**getattr(form, "problem_fields", {}), **(rename or {})}
    for problem in exc.problems:
        name = rename.get(problem.field, problem.field)
        target: Field = form[name] if name in form else next(iter(form))
        target.errors = [*target.errors, problem_words(problem)]


LANGUAGE_CHOICES = [("ja", "日本語"), ("en", "English")]
DEADLINE_KINDS = [
    ("days_before", _l("Days before the start, at a time")),
    ("business_days_before", _l("Business days before, at a time")),
    ("hours_before", _l("Hours before the start")),
    ("absolute", _l("A date and time")),
    ("none", _l("No deadline: until the session starts")),
]
SESSION_DEADLINE_KINDS = [("event", _l("As the event's deadline")), *DEADLINE_KINDS]
_NUMBER = {"inputmode": "numeric", "maxlength": 6, "size": 4, "autocomplete": "off"}
_TIME = {"type": "time", "maxlength": 5}
# The editor's parts per kind: (kind, days, at, hours, when) field name suffixes.
_PARTS = {"days_before": ("days", "days_at"), "business_days_before": ("business_days", "business_at"),
          "hours_before": ("hours",), "absolute": ("when",)}
_PART_KEYS = {"days": "days", "days_at": "at", "business_days": "days", "business_at": "at", "hours": "hours",
              "when": "when"}


def deadline_parts(form, prefix: str = "deadline") -> dict | str:
    """What the deadline editor sent, as the parts domain.backoffice.event_checks reads: the kind
    and only the inputs of that kind. Without a kind (a scripted post): the text field's rule."""
    kind_field = form[f"{prefix}_kind"]
    if prefix in form and form[prefix].raw_data and not kind_field.raw_data:
        return form[prefix].data or ""
    kind = kind_field.data or ""
    parts = {"kind": kind}
    for suffix in _PARTS.get(kind, ()):
        parts[_PART_KEYS[suffix]] = form[f"{prefix}_{suffix}"].data or ""
    return parts


def deadline_form_data(rule, tz: str, prefix: str = "deadline", none: str = "none") -> dict:
    """The editor's initial values for ``rule`` (None: ``none``, the "no rule" kind)."""
    if rule is None:
        return {f"{prefix}_kind": none}
    if rule.kind == "hours_before" and rule.hours == 0:
        return {f"{prefix}_kind": "none"}
    data = {f"{prefix}_kind": rule.kind}
    if rule.kind == "absolute":
        data[f"{prefix}_when"] = rule.at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")
    elif rule.kind == "hours_before":
        data[f"{prefix}_hours"] = f"{rule.hours:g}"
    else:
        part = "days" if rule.kind == "days_before" else "business"
        data[f"{prefix}_{'days' if part == 'days' else 'business_days'}"] = str(rule.days)
        if rule.hhmm:
            data[f"{prefix}_{part}_at"] = rule.hhmm
    return data


class EventForm(PageForm):
    title = StringField(_l("Title"), render_kw={"maxlength": 200, "required": True})
    description_md = TextAreaField(_l("Description (Markdown)"), render_kw={"rows": 12, "maxlength": 20000},
                                   description=_l("Paragraphs, **bold**, lists with -, ### headings and links. Use “Preview” to see it."))
    venue_name = StringField(_l("Venue"), render_kw={"maxlength": 200})
    venue_address = StringField(_l("Address"), render_kw={"maxlength": 300})
    access_notes = TextAreaField(_l("How to find the reception"), render_kw={"rows": 3, "maxlength": 2000},
                                 description=_l("e.g. 2階正面玄関裏手のセミナー受付"))
    organizer = StringField(_l("Organizer"), render_kw={"maxlength": 200})
    contact_name = StringField(_l("Contact name"), render_kw={"maxlength": 200})
    contact_phone = StringField(_l("Contact phone"), render_kw={"maxlength": 50})
    contact_email = StringField(_l("Contact email"), render_kw={"maxlength": 254},
                                description=_l("Receives the numbers when registration closes."))
    fee_note = StringField(_l("Fee"), render_kw={"maxlength": 200}, description=_l("e.g. 参加費無料"))
    language = SelectField(_l("Language of the emails"), choices=LANGUAGE_CHOICES)
    timezone = SelectField(_l("Time zone"), default=event_checks.DEFAULT_TIMEZONE)
    privacy_notice = TextAreaField(_l("Privacy notice"), render_kw={"rows": 4, "maxlength": 5000})
    waitlist_enabled = BooleanField(_l("Waiting list when full"), default=True)
    confirm_email = BooleanField(_l("Ask people to confirm their email address"), default=False,
                                 description=_l("The seat is only held until the person clicks the link in the email; "
                                                "unconfirmed, it goes to the next person waiting."))
    hold_minutes = StringField(_l("Minutes to confirm"), default="60",
                               render_kw={"inputmode": "numeric", "maxlength": 4},
                               description=_l("%(min)s to %(max)s minutes.", min=holds.MIN_MINUTES, max=holds.MAX_MINUTES))
    registration_opens = StringField(_l("Registration opens"), render_kw={"type": "datetime-local"},
                                     description=_l("Local time of the event. Empty: open as soon as the event is published."))
    # The deadline editor's fields (deadline_kind, deadline_days, …) are added below the class.
    # A rule as text ("1d@12:00", 「前日12:00」), for a scripted post without the editor's parts.
    deadline = StringField(_l("Registration deadline"), render_kw={"maxlength": 40})
    problem_fields = {"deadline": "deadline_kind"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = [(name, name) for name in event_checks.timezones()]


class NewEventForm(EventForm):
    slug = StringField(_l("Web address (optional)"), render_kw={"maxlength": 80, "spellcheck": "false"},
                       description=_l("The end of the public address /e/…: a–z, 0–9 and hyphens. Empty: one is made for you."))


def event_values(form: EventForm) -> dict:
    names = [*event_checks.TEXT_FIELDS, "contact_email", "language", "timezone", "registration_opens"]
    values = {name: form[name].data for name in names}
    values["deadline"] = deadline_parts(form)
    values["waitlist_enabled"] = bool(form.waitlist_enabled.data)
    values["confirm_email"] = bool(form.confirm_email.data)
    values["hold_minutes"] = form.hold_minutes.data
    if "slug" in form:
        values["slug"] = form.slug.data
    return values


def event_data(event: Event) -> dict:
    """The form's initial values for ``event``."""
    data = {name: getattr(event, name) for name in (*event_checks.TEXT_FIELDS, "contact_email", "language", "timezone",
                                                    "waitlist_enabled", "confirm_email")}
    data["hold_minutes"] = str(event.hold_minutes)
    opens = event.registration_opens_at
    data["registration_opens"] = opens.astimezone(ZoneInfo(event.timezone)).strftime("%Y-%m-%dT%H:%M") if opens else ""
    data.update(deadline_form_data(deadlines.event_rule(event), event.timezone))
    return data


class SessionForm(PageForm):
    # Its own id: the edit page also holds the event's form, whose title is #title (the name stays "title").
    title = StringField(_l("Name of the session"), id="session_title", render_kw={"maxlength": 200},
                        description=_l("e.g. 第1回 (may stay empty with one session)"))
    date = StringField(_l("Date"), render_kw={"type": "date", "required": True})
    doors = StringField(_l("Doors open"), render_kw={"type": "time"}, description=_l("Empty: at the start."))
    start = StringField(_l("Start"), render_kw={"type": "time", "required": True})
    end = StringField(_l("End"), render_kw={"type": "time", "required": True})
    capacity = StringField(_l("Capacity"), render_kw={"type": "number", "min": 0, "max": event_checks.MAX_CAPACITY,
                                                       "inputmode": "numeric", "required": True})
    # How people attend (domain.backoffice.hybrid): "both" makes an online twin with its own seats.
    mode = RadioField(_l("Attendance"), default="onsite",
                      choices=[(m.value, w) for m, w in STATUS_WORDS[AttendanceMode].items()]
                      + [("both", _l("Both (on site and online)"))])
    online_capacity = StringField(_l("Online capacity"), default="300",
                                  render_kw={"type": "number", "min": 0, "max": event_checks.MAX_CAPACITY,
                                             "inputmode": "numeric"},
                                  description=_l("For “both”: the online seats; the capacity above is the venue's."))
    # Never filled in from the stored value: the meeting URL is a secret staff replace, not read.
    meeting_url = StringField(_l("Meeting URL"), render_kw={"inputmode": "url", "autocomplete": "off", "spellcheck": "false", "maxlength": 2000},
                              description=_l("Sent to nobody: each online registrant's join link opens it from doors-open "
                                             "to the end. Empty: keep the one set."))
    # The session's own deadline (optional): the same editor, with "as the event's" first, added
    # below the class under its own names (the edit page holds the event's editor too).
    problem_fields = {"deadline": "session_deadline_kind"}


def _add_deadline_editor(form_class, prefix: str, label, choices, default: str) -> None:
    """The deadline editor's fields on ``form_class``: ``<prefix>_kind`` and its parts."""
    fields = {
        "kind": RadioField(label, choices=choices, default=default),
        "days": StringField(_l("Days before"), default="1", render_kw=_NUMBER),
        "days_at": StringField(_l("Time"), default="12:00", render_kw=_TIME),
        "business_days": StringField(_l("Business days before"), default="3", render_kw=_NUMBER),
        "business_at": StringField(_l("Time"), default="17:00", render_kw=_TIME),
        "hours": StringField(_l("Hours before"), default="2", render_kw={**_NUMBER, "inputmode": "decimal"}),
        "when": StringField(_l("Date and time"), render_kw={"type": "datetime-local"}),
    }
    for suffix, unbound in fields.items():
        setattr(form_class, f"{prefix}_{suffix}", unbound)  # WTForms' FormMeta takes fields added so


_add_deadline_editor(EventForm, "deadline", _l("Registration deadline"), DEADLINE_KINDS, "none")
_add_deadline_editor(SessionForm, "session_deadline", _l("Deadline of this session"), SESSION_DEADLINE_KINDS, "event")


def session_values(form: SessionForm) -> dict:
    """The session form's values; its own deadline only when the editor was sent (a post without
    it, e.g. a script changing the capacity, leaves the session's own deadline as it is)."""
    values = {name: form[name].data for name in ("title", "date", "doors", "start", "end", "capacity",
                                                 "mode", "online_capacity", "meeting_url")}
    if form.session_deadline_kind.raw_data != []:
        values["deadline"] = deadline_parts(form, "session_deadline")
    return values


def session_data(session: EventSession, tz: str) -> dict:
    local = {name: getattr(session, f"{name}_at").astimezone(ZoneInfo(tz)) for name in ("doors", "starts", "ends")}
    return {"title": session.title, "date": local["starts"].date().isoformat(), "doors": local["doors"].strftime("%H:%M"),
            "start": local["starts"].strftime("%H:%M"), "end": local["ends"].strftime("%H:%M"),
            "capacity": str(session.capacity), "mode": hybrid.mode_of(session),
            "online_capacity": str(twin.capacity) if (twin := hybrid.twin_of(session)) is not None else "300",
            **deadline_form_data(deadlines.session_rule(session), tz, "session_deadline", none="event")}


KIND_CHOICES = [
    ("text", _l("Text")), ("single", _l("One choice")), ("multiple", _l("Several choices")),
    ("checkbox", _l("Yes/no checkbox")),
]


class QuestionForm(PageForm):
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES)
    label = StringField(_l("Question"), render_kw={"maxlength": 300, "required": True})
    help = StringField(_l("Help text"), render_kw={"maxlength": 500})
    choices = TextAreaField(_l("Choices, one per line"), render_kw={"rows": 4},
                            description=_l("For “one choice” and “several choices”."))
    required = BooleanField(_l("An answer is required"))


def question_values(form: QuestionForm) -> dict:
    return {"kind": form.kind.data, "label": form.label.data, "help": form.help.data,
            "choices": form.choices.data or "", "required": bool(form.required.data)}


def question_data(question: Question) -> dict:
    return {"kind": question.kind.value, "label": question.label, "help": question.help,
            "choices": "\n".join(question.choices or []), "required": question.required}


class CloneForm(PageForm):
    first_date = StringField(_l("Date of the first session"), render_kw={"type": "date", "required": True})
    title = StringField(_l("Title"), render_kw={"maxlength": 200, "required": True})
    slug = NewEventForm.slug
    keep_team = BooleanField(_l("Keep the team: everyone with a role on this event gets the same role on the copy"),
                             default=True)


class DeleteForm(PageForm):
    confirm = BooleanField(_l("Yes, delete this event, its sessions and questions for good."))


def rule_words(event: Event, session: EventSession | None = None) -> str:
    """The deadline rule in words: 「前日12:00」, 「3営業日前の17:00」, 「開始2時間前」, 「開始時刻まで」, a
    date: the session's own when it has one, else the event's."""
    rule = deadlines.deadline_rule(event, session) if session else deadlines.event_rule(event)
    if rule is not None and rule.kind == "hours_before" and rule.hours == 0:
        rule = None  # a session's "until the start" (stored as "0h")
    return words_for_rule(rule, event.timezone, session.starts_at if session else None)


ACTION_WORDS = {
    "event_created": _l("Event created"), "event_edited": _l("Details changed"),
    "event_published": _l("Published"), "event_closed": _l("Registration closed"),
    "event_reopened": _l("Registration reopened"), "event_unpublished": _l("Back to draft"),
    "event_cloned": _l("Copied from another event"),
    "session_added": _l("Session added"), "session_edited": _l("Session changed"),
    "session_removed": _l("Session removed"),
    "question_added": _l("Question added"), "question_edited": _l("Question changed"),
    "question_hidden": _l("Question hidden"), "question_shown": _l("Question asked again"),
    "question_deleted": _l("Question deleted"),
    "reminder_added": _l("Reminder added"), "reminder_removed": _l("Reminder removed"),
    "seats_recounted": _l("Seats taken recounted (the counter differed from the registrations)"),
    "desk_task_done": _l("Desk task marked as done"),
    "staff_password_reset": _l("Password reset through the emailed link"),
    "capacity_raised_by_walk_in": _l("Capacity raised by one: an offline desk registered a walk-in when no seat was left"),
}
FIELD_WORDS = {
    "title": _l("Title"), "description_md": _l("Description (Markdown)"), "venue_name": _l("Venue"),
    "venue_address": _l("Address"), "access_notes": _l("How to find the reception"), "organizer": _l("Organizer"),
    "contact_name": _l("Contact name"), "contact_phone": _l("Contact phone"), "contact_email": _l("Contact email"),
    "fee_note": _l("Fee"), "privacy_notice": _l("Privacy notice"), "language": _l("Language of the emails"),
    "timezone": _l("Time zone"), "waitlist_enabled": _l("Waiting list when full"),
    "confirm_email": _l("Ask people to confirm their email address"), "hold_minutes": _l("Minutes to confirm"),
    "registration_opens_at": _l("Registration opens"), "deadline_at": _l("Registration deadline"),
    "deadline_days_before": _l("Registration deadline"), "deadline_time": _l("Registration deadline"),
    "deadline_business_days": _l("Registration deadline"), "deadline_hours_before": _l("Registration deadline"),
    "deadline_rule": _l("Deadline of this session"),
    "doors_at": _l("Doors open"), "starts_at": _l("Start"), "ends_at": _l("End"), "capacity": _l("Capacity"),
    "status": _l("Status"), "label": _l("Question"), "kind": _l("Kind"), "choices": _l("Choices, one per line"),
    "required": _l("An answer is required"), "help": _l("Help text"), "hidden": _l("Hide"),
}
_NOT_SHOWN = ("session_id", "question_id", "slug", "cloned_from", "days_shifted", "notified")


def action_words(action: str) -> str:
    """An audit entry's action for people (other parts' codes: as they are until they add words)."""
    return str(ACTION_WORDS.get(action, action))


def changed_words(changes: dict) -> str:
    """The fields an entry changed, by their form labels, each once: 「タイトル、定員」."""
    names = []
    for key in changes or {}:
        if key in _NOT_SHOWN:
            continue
        label = str(FIELD_WORDS.get(key, key)).split("(")[0].split(",")[0]
        if label not in names:
            names.append(label)
    return str(_(", ")).join(names)
