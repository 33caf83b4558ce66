"""The marshmallow schemas of /api/v1: request schemas validate what clients send (through
flask-smorest's ``@bp.arguments``), response schemas describe (desk) or serialise (organizer) what
comes back, and apispec generates the OpenAPI document from both.

Request schemas ignore unknown keys (as the API always did); response schemas are closed
(``additionalProperties: false`` in the document), so tests catch a field the document lacks.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import ValidationError, fields, validate

from ...domain.backoffice import roster
from ...domain.people import gojuon
from ...models import AttendanceMode, QuestionKind, ScanMethod, Sector, Status
from .errors import ERRORS

# The values a client may send in X-Scan-Method: how the pass was read. Made from the model's
# enum (walk_in and undo are written by their own endpoints, never claimed by a client).
HEADER_SCAN_METHODS = tuple(m.value for m in ScanMethod if m not in (ScanMethod.walk_in, ScanMethod.undo, ScanMethod.join))

# Outcomes of a check-in (HTTP 200). "ok" is the only one that let someone in.
SCAN_RESULTS = {
    "ok": "Checked in now.",
    "already_checked_in": "Was checked in before (registration.checked_in_at/desk tell when and where).",
    "cancelled": "The registration was cancelled.",
    "waitlisted": "On the waiting list, not confirmed.",
    "unconfirmed": "Signed up with email confirmation and never confirmed: the seat is only held.",
    "wrong_event": "A valid pass of another event; registration is null (nothing about that person).",
    "wrong_session": "A pass of this event but another session than session_id.",
    "unknown_pass": "Not a pass (damaged, mistyped or unknown); registration is null.",
    "superseded": "An older pass of a registration that was moved to another session; a newer pass exists.",
}

MAX_PER_PAGE = 500


def _doc(text: str, **more) -> dict:
    return {"description": text, **more}


# --- fields ----------------------------------------------------------------------------------


NO_NUL = "^[^\\u0000]*$"  # the document's pattern for text: anything but NUL


class Text(fields.String):
    """A string a database column can store: PostgreSQL refuses NUL, so it is refused here
    (a 400), never a 500 there, and the document says so (a pattern). (Lone surrogates are
    refused for the whole body by the parser.)"""

    def __init__(self, **kwargs):
        super().__init__(**{**kwargs, "metadata": {"pattern": NO_NUL, **kwargs.get("metadata", {})}})

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in value:
            raise ValidationError("Must not contain NUL characters.")
        return value


# An id as the document states it: a row id (PostgreSQL's integer), or "" for none.
ID_OR_EMPTY = {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 2**31 - 1}, {"type": "string", "enum": [""]}]}


class QueryId(fields.Field):
    """An id in a query string: ASCII digits of 1 .. 2^31-1 ("abc", "１", "-1", "0", "true" are
    refused, so a typo never means "all sessions"); empty means none (the document says both)."""

    def __init__(self, **kwargs):
        super().__init__(**{**kwargs, "metadata": {**ID_OR_EMPTY, **kwargs.get("metadata", {})}})

    def _deserialize(self, value, attr, data, **kwargs):
        if value in ("", None):
            return None
        number = roster.parse_id(value) if isinstance(value, str) and value.isdigit() else None
        if number is None:
            raise ValidationError("Not a valid id.")
        return number


class BodyId(fields.Field):
    """An id in a JSON body: an integer of 1 .. 2^31-1, not a boolean (Python's True is 1), not a
    string of digits; null or "" mean none (the document says all of it)."""

    def __init__(self, **kwargs):
        super().__init__(allow_none=True, load_default=None,
                         **{**kwargs, "metadata": {**ID_OR_EMPTY, **kwargs.get("metadata", {})}})

    def _deserialize(self, value, attr, data, **kwargs):
        if value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2**31 - 1:
            raise ValidationError("Not a valid id.")
        return value


class FormSessionId(fields.Field):
    """The walk-in form's session: an integer or a string of it (the desk page sends the form's
    strings); the form decides whether it is a session of this event."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValidationError("Must be an integer or a string of digits.")
        if isinstance(value, str) and "\x00" in value:
            raise ValidationError("Must not contain NUL characters.")
        return str(value)


# --- request schemas -------------------------------------------------------------------------


class RequestSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE


SESSION_QUERY = _doc("Only this session of the event (another event's session is 422 invalid_input).")


class CountsQuery(RequestSchema):
    session_id = QueryId(load_default=None, metadata=SESSION_QUERY)


class SearchQuery(RequestSchema):
    q = Text(load_default="", metadata=_doc("Words (longer is cut to 100 characters). Several words must "
                                            "all match; hiragana matches katakana, 高 matches 髙 (異体字); "
                                            "% and _ are plain letters. The attendee list's q is the same search."))
    row = fields.String(load_default="", validate=validate.OneOf(["", *gojuon.ROWS]), metadata=_doc(
        "Only people whose reading starts in this kana row (a: あ行, ka: か行 …); empty: every row."))
    session_id = QueryId(load_default=None, metadata=SESSION_QUERY)


PAYLOAD = _doc("Exactly what the scanner read: the entry credential, decimal digits starting with `3` "
               "(passes mailed before: `ER2:<base32>`, any letter case). "
               "See `/api/v1/events/{event_id}/pass-key` for its format.")
DESK = _doc("Desk name for the log (spaces collapsed, longer is cut to 50); default: the user's name. A control, "
             "zero-width or bidi character is refused: 422 invalid_input with error.fields.desk.")
SESSION_ID = _doc("Check in for this session only (else: wrong_session). An integer, not a boolean; "
                  "a session of another event is 422 invalid_input.")


def _desk():
    return Text(load_default="", metadata=DESK)


class LookupRequest(RequestSchema):
    payload = fields.String(required=True, validate=validate.Length(max=500), metadata=PAYLOAD)


class ScanRequest(LookupRequest):
    session_id = BodyId(metadata=SESSION_ID)
    desk = _desk()


class CheckInRequest(RequestSchema):
    session_id = BodyId(metadata=SESSION_ID)
    desk = _desk()


class UndoRequest(RequestSchema):
    desk = _desk()


def _form_text(text: str = "", **kwargs):
    return Text(allow_none=True, load_default=None, metadata=_doc(text or "A string; null counts as absent."),
                **kwargs)


def _required_text(text: str):
    return Text(required=True, metadata=_doc(text))


class WalkInRequest(RequestSchema):
    """Types and the required fields (missing or null: 400 invalid_request); the walk-in form
    (web/forms.WalkInForm, the same rules as the public form) checks the values and answers 422
    invalid_input with error.fields."""

    session_id = FormSessionId(required=True, metadata=_doc(
        "A session of this event (an integer, or its digits as a string); another is 422 invalid_input.",
        oneOf=[{"type": "integer"}, {"type": "string"}]))
    family_name = _required_text("At most 50 characters; empty is 422 invalid_input.")
    given_name = _required_text("At most 50 characters; empty is 422 invalid_input.")
    family_kana = _required_text("Katakana or hiragana; empty or other letters are 422 invalid_input.")
    given_kana = _required_text("Katakana or hiragana; empty or other letters are 422 invalid_input.")
    organization = _form_text("At most 100 characters.")
    sector = Text(required=True, metadata=_doc(
        "Another value (or empty) is 422 invalid_input.", enum=[s.value for s in Sector]))
    email = _form_text("Optional; with one, the pass is emailed.")
    confirm = fields.Boolean(load_default=False, truthy={True}, falsy={False}, metadata=_doc(
        "Enter the person although a walk-in of the same name exists (after 409 walk_in_duplicate)."))
    desk = _desk()


class EventPath(RequestSchema):
    """/events/<event_id>/…, for a view that reads its path before flask-smorest's wrappers run
    (scanner.scan_by_token; the route's converter has made it an id already)."""

    event_id = fields.Integer(required=True)


class ScanHeaders(RequestSchema):
    # Any text: a scan is never refused over how the client says it read the pass.
    scan_method = fields.String(data_key="X-Scan-Method", metadata=_doc(
        "How the pass was read, for the log: " + ", ".join(f"`{m}`" for m in HEADER_SCAN_METHODS)
        + ". Any other value is accepted and logs `api` (or `desk` for the desk page).",
        **{"x-known-values": list(HEADER_SCAN_METHODS)}))


class FilterQuery(RequestSchema):
    """The attendee list's filters: domain.backoffice.roster.ListFilter, field for field."""

    session_id = QueryId(load_default=None, metadata=SESSION_QUERY)
    status = fields.String(load_default="", validate=validate.OneOf(roster.STATUSES), metadata=_doc(
        "Empty: everyone still registered (confirmed or waitlisted). checked_in / not_arrived / no_show "
        "(not arrived at a session that has ended) are about confirmed people."))
    sector = fields.String(load_default="", validate=validate.OneOf(["", *(s.value for s in Sector)]))
    walk_in = fields.Boolean(load_default=None, allow_none=True,
                             metadata=_doc("true: only walk-ins; false: only people who registered before."))
    question_id = QueryId(load_default=None, metadata=_doc(
        "With `answer`: only people whose answer to this question of the event matches (a question of "
        "another event is 422 invalid_input)."))
    answer = Text(load_default="", metadata=_doc(
        "For a choice question one of its choices, for a checkbox yes or no, for a text question text "
        "the answer contains; empty: answered at all. Ignored without question_id."))
    q = Text(load_default="", metadata=_doc(
        "Free text (name, furigana in any kana form, organization, email); every word must match."))
    sort = fields.String(load_default="kana", validate=validate.OneOf(roster.SORTS), metadata=_doc(
        "kana: 五十音 order; organization; created: newest first; arrival: first to arrive first."))


class RegistrationsQuery(FilterQuery):
    """The filters and a page."""

    page = fields.Integer(load_default=1, validate=validate.Range(1, 1_000_000))
    per_page = fields.Integer(load_default=100, validate=validate.Range(1, MAX_PER_PAGE),
                              metadata=_doc(f"At most {MAX_PER_PAGE}."))


# --- response schemas ------------------------------------------------------------------------


class ResponseSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE  # the document says additionalProperties: false


class SessionSchema(ResponseSchema):
    id = fields.Integer(required=True)
    title = fields.String(required=True, metadata=_doc("May be empty for a one-session event."))
    when = fields.String(required=True, metadata=_doc("Date, times and doors, formatted for people."))
    mode = fields.String(validate=validate.OneOf([m.value for m in AttendanceMode]), metadata=_doc(
        "How the session is attended: `onsite` or `online` (a hybrid date is two sessions). In the "
        "organizer API's registrations; never the meeting's address."))


def _nullable(field_class, text: str, **kwargs):
    return field_class(required=True, allow_none=True, metadata=_doc(text), **kwargs)


class RegistrationSchema(ResponseSchema):
    """A person as the desk sees them (web/checkin_json.registration_json)."""

    id = fields.Integer(required=True)
    name = fields.String(required=True, metadata={"example": "山田 花子"})
    kana = fields.String(required=True, metadata={"example": "ヤマダ ハナコ"})
    organization = fields.String(required=True)
    department = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in Status]))
    walk_in = fields.Boolean(required=True)
    session = fields.Nested(SessionSchema, required=True)
    checked_in_at = _nullable(fields.DateTime, "UTC, ISO 8601; null when not checked in.")
    checked_in_time = _nullable(fields.String, "HH:MM in the event's time zone.")
    checked_in_desk = _nullable(fields.String, "Where the person was checked in.")
    not_on_security_list = fields.Boolean(required=True, metadata=_doc(
        "True when the building-security list of the person's session was sent to the venue and they "
        "are not on it: the building has no pass for them (reception tells them)."))


class ScanOutcomeSchema(ResponseSchema):
    result = fields.String(required=True, validate=validate.OneOf(list(SCAN_RESULTS)),
                           metadata=_doc("; ".join(f"`{k}`: {v}" for k, v in SCAN_RESULTS.items())))
    ok = fields.Boolean(required=True, metadata=_doc("True only for result ok: show green."))
    message = fields.String(required=True, metadata=_doc("What to show the desk volunteer."))
    registration = fields.Nested(RegistrationSchema, required=True, allow_none=True,
                                 metadata=_doc("Null for unknown_pass and wrong_event."))


class UndoneSchema(ResponseSchema):
    result = fields.String(required=True, validate=validate.OneOf(["undone"]))
    message = fields.String(required=True)
    registration = fields.Nested(RegistrationSchema, required=True)


class WalkInSchema(ResponseSchema):
    result = fields.String(required=True, validate=validate.OneOf(["walk_in"]))
    ok = fields.Boolean(required=True, validate=validate.OneOf([True]))
    message = fields.String(required=True)
    registration = fields.Nested(RegistrationSchema, required=True)


class LookupSchema(ResponseSchema):
    registration = fields.Nested(RegistrationSchema, required=True)


class CountsSchema(ResponseSchema):
    """The counters of docs/statistics.md, the same numbers the back office shows."""
    confirmed = fields.Integer(required=True, metadata=_doc(
        "Confirmed registrations, walk-ins included: checked_in + not_arrived."))
    checked_in = fields.Integer(required=True, metadata=_doc(
        "Confirmed and checked in now (walk-ins included): registered_arrivals + walk_ins."))
    not_arrived = fields.Integer(required=True, metadata=_doc(
        "Confirmed and not checked in now (a walk-in whose check-in was taken back included)."))
    walk_ins = fields.Integer(required=True, metadata=_doc("Registered at the desk and checked in now."))
    registered_arrivals = fields.Integer(required=True, metadata=_doc(
        "Registered beforehand and checked in now: checked_in - walk_ins."))
    no_shows = fields.Integer(required=True, metadata=_doc("Not arrived in a session that has ended."))
    held = fields.Integer(required=True, metadata=_doc("Seats held until the email is confirmed."))
    waitlisted = fields.Integer(required=True, metadata=_doc("On the waiting list."))
    cancelled = fields.Integer(required=True, metadata=_doc("Cancelled."))
    active = fields.Integer(required=True, metadata=_doc("Still registered: confirmed + held + waitlisted."))


class PassKeySchema(ResponseSchema):
    event_id = fields.Integer(required=True)
    algorithm = fields.String(required=True, validate=validate.OneOf(["Ed25519"]))
    format = fields.String(required=True, validate=validate.OneOf(["3"]), metadata=_doc(
        "The format passes are issued in (ER2 passes are still accepted)."))
    public_key = fields.String(required=True, metadata=_doc("The raw 32-byte public key, base64url without padding."))


class SearchResultsSchema(ResponseSchema):
    results = fields.List(fields.Nested(RegistrationSchema), required=True, validate=validate.Length(max=30))


class AttendeeSchema(ResponseSchema):
    """A registration as the organizer's list shows it. email and phone are null for a caller
    without personal data (see personal_data)."""

    id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in Status]))
    session = fields.Nested(SessionSchema, required=True)
    name = fields.String(required=True, metadata={"example": "山田 花子"})
    kana = fields.String(required=True, metadata={"example": "ヤマダ ハナコ"})
    family_name = fields.String(required=True)
    given_name = fields.String(required=True)
    family_kana = fields.String(required=True)
    given_kana = fields.String(required=True)
    kana_row = fields.String(required=True, validate=validate.OneOf(gojuon.ALL_HEADINGS),
                             metadata=_doc("The 五十音 heading of the person's reading (あ行 … わ行, 他)."))
    organization = fields.String(required=True)
    department = fields.String(required=True)
    sector = fields.String(required=True, validate=validate.OneOf([s.value for s in Sector]))
    walk_in = fields.Boolean(required=True)
    language = fields.String(required=True, metadata=_doc("The language the person registered in."))
    created_at = fields.DateTime(required=True, metadata=_doc("Sign-up time, UTC."))
    confirmed_at = _nullable(fields.DateTime, "When the seat was confirmed (null while waiting).")
    cancelled_at = _nullable(fields.DateTime, "When it was cancelled.")
    checked_in_at = _nullable(fields.DateTime, "Arrival, UTC; null when not checked in.")
    checked_in_desk = _nullable(fields.String, "Where the person was checked in.")
    email = _nullable(fields.String, "Null without personal data, or for a walk-in who gave none.")
    phone = _nullable(fields.String, "Null without personal data. A string: keeps its leading zero.")


class AnswerSchema(ResponseSchema):
    question_id = fields.Integer(required=True)
    label = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in QuestionKind]))
    hidden = fields.Boolean(required=True, metadata=_doc("The form no longer asks it; its answers stay."))
    value = fields.Raw(required=True, allow_none=True, metadata=_doc(
        "text / single: a string; multiple: a list of strings; checkbox: true or false; null: not answered."))


class AttendeeDetailSchema(AttendeeSchema):
    answers = fields.List(fields.Nested(AnswerSchema), required=True, allow_none=True, metadata=_doc(
        "Every question of the event (hidden ones too), in the form's order; null without personal data."))


PERSONAL = _doc("False when the caller may not see personal data (the viewer role, or a token limited "
                "to it): email, phone and answers are then null.")


class AttendeePageSchema(ResponseSchema):
    total = fields.Integer(required=True, metadata=_doc("How many match the filter (all pages)."))
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    pages = fields.Integer(required=True, metadata=_doc("The number of pages (0 when nobody matches)."))
    personal_data = fields.Boolean(required=True, metadata=PERSONAL)
    registrations = fields.List(fields.Nested(AttendeeSchema), required=True)


class OneAttendeeSchema(ResponseSchema):
    personal_data = fields.Boolean(required=True, metadata=PERSONAL)
    registration = fields.Nested(AttendeeDetailSchema, required=True)


class ProblemSchema(ResponseSchema):
    row = fields.Integer(required=True, metadata=_doc("1 is the first row after the header."))
    column = fields.String(required=True)
    character = fields.String(required=True)
    code_point = fields.String(required=True, metadata={"example": "U+20BB7"})


class ErrorBodySchema(ResponseSchema):
    code = fields.String(required=True, validate=validate.OneOf(list(ERRORS)),
                         metadata=_doc("Stable, snake_case: what clients switch on."))
    message = fields.String(required=True, metadata=_doc("For people, in the server's language."))
    fields_ = fields.Dict(data_key="fields", keys=fields.String(), values=fields.List(fields.String()),
                          metadata=_doc("invalid_request / invalid_input: field name -> messages."))
    problems = fields.List(fields.Nested(ProblemSchema), metadata=_doc(
        "cp932_unmappable: the characters Windows-31J cannot carry (at most 500 listed)."))
    total = fields.Integer(metadata=_doc("cp932_unmappable: how many there are in all."))


class ErrorSchema(ResponseSchema):
    error = fields.Nested(ErrorBodySchema, required=True)
