"""The schemas of the offline desk's roster (GET /events/<id>/roster, web/api/desk_roster.py): the
query it takes and the answer it gives, for the OpenAPI document and the tests that check real
answers against it. Kept next to schemas.py, whose base classes and fields they use."""

from __future__ import annotations

from marshmallow import fields, validate

from ...domain.people import gojuon
from ...models import ScanResult, Status
from .schemas import RegistrationSchema, RequestSchema, ResponseSchema, SessionSchema, Text, _doc, _nullable


class RosterQuery(RequestSchema):
    since = Text(load_default="", metadata=_doc(
        "The `cursor` of the device's last answer: only registrations changed since then are sent (a delta). "
        "Empty, unreadable, of another event, or when the building's list was sent since: everything (`full`)."))


class RosterEventSchema(ResponseSchema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    timezone = fields.String(required=True, metadata={"example": "Asia/Tokyo"})
    ends_at = _nullable(fields.DateTime, "The end of the event's last session, UTC.")
    wipe_after = _nullable(fields.DateTime, "The device deletes its copy of the roster after this time "
                                            "(the last session's end + 6 hours).")


class RosterKeySchema(ResponseSchema):
    algorithm = fields.String(required=True, validate=validate.OneOf(["Ed25519"]))
    event_id = fields.Integer(required=True)
    public_key = fields.String(required=True, metadata=_doc("The raw 32-byte public key that signs the "
                                                            "event's passes, base64url without padding."))


class RosterRowSchema(RegistrationSchema):
    """A person as the device keeps them (web/checkin_json.roster_row): never an email, a phone
    number or an answer."""

    entry_id = fields.String(required=True, metadata=_doc("The id inside the person's pass."))
    v = fields.Integer(required=True, metadata=_doc("The entry version: a pass of an older one is refused."))
    session_id = fields.Integer(required=True)
    family_name = fields.String(required=True)
    given_name = fields.String(required=True)
    family_kana = fields.String(required=True)
    given_kana = fields.String(required=True)
    sort_key = fields.String(required=True, metadata=_doc(
        "五十音 order: sort by it (compared by code point), then by id; a kana row is a range of it (kana_rows)."))
    search = fields.String(required=True, metadata=_doc(
        "What the search finds the person by (name, furigana, organization), folded, one per line."))


class RosterSessionSchema(SessionSchema):
    capacity = fields.Integer(required=True)
    seats_left = fields.Integer(required=True)


class FoldTablesSchema(ResponseSchema):
    """What static/desk/fold.js needs to fold text as the server does (domain.people.search.tables)."""

    unicode = fields.String(required=True, metadata=_doc("The server's Unicode version."))
    refused = fields.List(fields.Integer(), required=True, metadata=_doc(
        "Code points dropped (controls, format, private use, unassigned): start, length, gap, length …"))
    selectors = fields.List(fields.Integer(), required=True, metadata=_doc("Variation selectors, as `refused`."))
    spaces = fields.String(required=True, metadata=_doc("The characters that separate words."))
    casefold = fields.Dict(keys=fields.String(), values=fields.String(), required=True, metadata=_doc(
        "Characters whose case folding is not their lower case."))
    kana = fields.Dict(keys=fields.String(), values=fields.String(), required=True, metadata=_doc(
        "Hiragana -> katakana."))
    itaiji = fields.Dict(keys=fields.String(), values=fields.String(), required=True, metadata=_doc(
        "異体字 -> the common form."))
    max_query = fields.Integer(required=True, metadata=_doc("Characters of a query that are looked at."))
    max_words = fields.Integer(required=True, metadata=_doc("Words of a query that are looked at."))


class ConflictSchema(ResponseSchema):
    id = fields.Integer(required=True)
    registration_id = fields.Integer(required=True)
    name = fields.String(required=True)
    kept_at = fields.DateTime(required=True, metadata=_doc("The admission that counts (the earlier), UTC."))
    kept_desk = fields.String(required=True)
    other_at = fields.DateTime(required=True, metadata=_doc("The other admission, UTC."))
    other_desk = fields.String(required=True)
    text = fields.String(required=True, metadata={"example": "13:42:05 受付1 / 13:43:10 受付2"})


class DeskTaskSchema(ResponseSchema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata=_doc("seat_overflow or walk_in_duplicate."))
    text = fields.String(required=True, metadata=_doc("What to look at, for people."))


class RosterSchema(ResponseSchema):
    event = fields.Nested(RosterEventSchema, required=True)
    key = fields.Nested(RosterKeySchema, required=True)
    store_key = _nullable(fields.String, "Staff session only (null for a bearer token): the key "
                                         "(base64url, 32 bytes) the desk page encrypts its copy with; a new "
                                         "sign-in gives a new key.")
    cursor = fields.String(required=True, metadata=_doc("Send it as `since` next time."))
    full = fields.Boolean(required=True, metadata=_doc("True: `rows` is everyone (replace the copy); "
                                                       "false: only the changed rows (update by id)."))
    total = fields.Integer(required=True, metadata=_doc(
        "Registrations of the event now: a device whose count differs after a delta asks again without `since`."))
    rows = fields.List(fields.Nested(RosterRowSchema), required=True, metadata=_doc(
        "In 五十音 order; cancelled registrations included (their passes are refused)."))
    sessions = fields.List(fields.Nested(RosterSessionSchema), required=True)
    result_of_status = fields.Dict(
        keys=fields.String(validate=validate.OneOf([s.value for s in Status])),
        values=fields.String(validate=validate.OneOf([r.value for r in ScanResult])), required=True,
        metadata=_doc("The scan result of a current pass of a registration in each status."))
    fold = fields.Nested(FoldTablesSchema, required=True)
    kana_rows = fields.Dict(keys=fields.String(validate=validate.OneOf(list(gojuon.ROWS))),
                            values=fields.List(fields.String(), validate=validate.Length(equal=2)), required=True,
                            metadata=_doc("Each 五十音 row as sort keys [low, high)."))
    conflicts = fields.List(fields.Nested(ConflictSchema), required=True, metadata=_doc(
        "The same person admitted at two desks while apart."))
    tasks = fields.List(fields.Nested(DeskTaskSchema), required=True, metadata=_doc("Not done yet."))
    server_time = fields.DateTime(required=True)
