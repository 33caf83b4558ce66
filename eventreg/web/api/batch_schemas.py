"""The schemas of POST /events/<event_id>/desk-batches (web/api/desk_batches.py): the batch, each
kind of operation (loaded one by one, so a malformed operation is answered alone, as
invalid_input, and never refuses its batch), and the answer."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate

from ...domain.reception import desk_batches
from .roster_schemas import ConflictSchema, DeskTaskSchema, RosterRowSchema
from .schemas import BodyId, RequestSchema, ResponseSchema, Text, _desk, _doc, _nullable

KINDS = ", ".join(f"`{k}`" for k in desk_batches.KINDS)


class StrictInteger(fields.Integer):
    """An integer, not a boolean and not a string of digits."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("Not a valid integer.")
        return super()._deserialize(value, attr, data, **kwargs)


class RequiredId(BodyId):
    """BodyId that must be there: an integer of 1 .. 2^31-1."""

    def __init__(self, **kwargs):
        fields.Field.__init__(self, required=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if value == "":
            raise ValidationError("Not a valid id.")
        return super()._deserialize(value, attr, data, **kwargs)


class DeskBatchRequest(RequestSchema):
    device = Text(load_default="", validate=validate.Length(max=64), metadata=_doc("The device's own random id."))
    desk = _desk()
    sent_at = fields.AwareDateTime(required=True, format="iso", metadata=_doc(
        "The device's clock when it sent the batch (ISO 8601 with offset). More than 5 minutes off the "
        "server's clock: every operation is flagged and its time corrected by the difference; more than a "
        "year off: 422 invalid_input."))
    operations = fields.List(fields.Raw(allow_none=True, metadata={"type": "object"}), required=True, validate=validate.Length(max=desk_batches.MAX_OPERATIONS),
                             metadata=_doc(
        f"At most {desk_batches.MAX_OPERATIONS}, applied in `seq` order, each once by its `id`. Every "
        f"operation has `id` (the client's, 1-64 characters, unique in the event), `seq` (integer), `at` "
        f"(device time, ISO 8601 with offset) and `kind` ({KINDS}). scan: `payload`, `session_id`?, "
        "`method` (`camera` | `keyboard`), `verdict`?. checkin: `registration_id`, `session_id`?, `verdict`?. walk_in: `fields` "
        "(the walk-in form: session_id, family_name, given_name, family_kana, given_kana, organization, "
        "sector, email) and `confirm`. undo: `registration_id`. An operation that does not match is "
        "answered alone with result `invalid_input` (and `fields`)."))


class OperationSchema(RequestSchema):
    id = Text(required=True, validate=validate.Length(min=1, max=64))
    seq = StrictInteger(required=True, validate=validate.Range(0, 2**31 - 1))
    at = fields.AwareDateTime(required=True, format="iso")
    kind = fields.String(required=True, validate=validate.OneOf(desk_batches.KINDS))


VERDICT = _doc("Optional: the result the device showed. `already_checked_in` (it knew of an earlier check-in "
               "and admitted nobody) is never a conflict; absent or anything else: the device admitted them.")


def _verdict():
    return fields.String(load_default=None, allow_none=True, validate=validate.Length(max=24), metadata=VERDICT)


class ScanOperation(OperationSchema):
    payload = Text(required=True, validate=validate.Length(max=500))
    session_id = BodyId()
    method = fields.String(load_default="keyboard", validate=validate.OneOf(["camera", "keyboard"]))
    verdict = _verdict()


class CheckinOperation(OperationSchema):
    registration_id = RequiredId()
    session_id = BodyId()
    verdict = _verdict()


class WalkInOperation(OperationSchema):
    fields_ = fields.Dict(data_key="fields", required=True)
    confirm = fields.Boolean(load_default=False, truthy={True}, falsy={False})


class UndoOperation(OperationSchema):
    registration_id = RequiredId()


OPERATION_SCHEMAS = {"scan": ScanOperation(), "checkin": CheckinOperation(), "walk_in": WalkInOperation(),
                     "undo": UndoOperation()}


# --- the answer --------------------------------------------------------------------------------


RESULTS = {
    "ok": "Checked in at the operation's (corrected) device time.",
    "already_checked_in": "Checked in before at the same desk.",
    "conflict": "Checked in at another desk too; the earliest admission counts (see conflict).",
    "walk_in": "Registered and checked in (a task when another desk registered the same name).",
    "walk_in_overflow": "Registered and checked in with no free seat: the capacity was raised; see task.",
    "undone": "The check-in was taken back.",
    "invalid_input": "The operation does not match this document (see fields); nothing was stored.",
}


class OperationResultSchema(ResponseSchema):
    id = _nullable(fields.String, "The operation's id (null when it had none).")
    result = fields.String(required=True, metadata=_doc(
        "; ".join(f"`{k}`: {v}" for k, v in RESULTS.items()) + ". Also every scan result of /checkins "
        "(cancelled, wrong_session, unknown_pass …) and the refusals of the online endpoints "
        "(not_found, not_checked_in, walk_in_duplicate, already_registered, event_changed)."))
    message = fields.String(required=True, metadata=_doc("What to show the desk volunteer."))
    registration = fields.Nested(RosterRowSchema, required=True, allow_none=True)
    conflict = fields.Nested(ConflictSchema, required=True, allow_none=True)
    task = fields.Nested(DeskTaskSchema, required=True, allow_none=True)
    fields_ = fields.Dict(data_key="fields", keys=fields.String(), values=fields.List(fields.String()),
                          metadata=_doc("invalid_input: field name -> messages."))


class DeskBatchSchema(ResponseSchema):
    results = fields.List(fields.Nested(OperationResultSchema), required=True, metadata=_doc(
        "One per operation, in the order sent."))
    clock_skew_seconds = _nullable(fields.Integer, "Device minus server, when more than 5 minutes (flagged).")
    received_at = fields.DateTime(required=True, metadata=_doc("The server's clock on arrival, UTC."))
