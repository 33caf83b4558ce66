"""The offline desk's queue upload (the rules: domain.reception.desk_batches).

POST /api/v1/events/<event_id>/desk-batches    {"device", "desk", "sent_at", "operations": [...]}

Each operation is read alone (a malformed one is answered ``invalid_input`` and never refuses its
batch), applied once by its client id, and committed alone: what a batch cut off half-way did
stays, and its resend answers those operations from what was stored.
"""

from __future__ import annotations

from flask import g, jsonify
from marshmallow import ValidationError

from ... import clock
from ...domain.access.permissions import Capability
from ...domain.errors import DomainError
from ...domain.reception import desk_batches
from ...domain.reception.desk_batches import Applied, Batch, Operation
from ...extensions import db
from ...models import Event, ScanMethod
from ..checkin_json import duplicate_walk_in_message, roster_row, session_json
from ..desk_words import conflict_json, task_json
from ..error_words import message
from . import batch_schemas as b
from . import schemas as s
from .core import bp, endpoint
from .errors import ApiError
from .scanner import _desk, _session_id, read_walk_in

DESK = Capability.desk


@bp.route("/events/<int:event_id>/desk-batches", methods=["POST"], tags=["desk"])
@endpoint(DESK, "invalid_input", post=True)
@bp.arguments(b.DeskBatchRequest, description="A desk's queued operations.")
@bp.response(200, b.DeskBatchSchema, description="One result per operation, in the order sent.")
def desk_batch(event: Event, body: dict):
    """Upload a desk's queue (offline desks): each operation applied once

    Idempotent by each operation's `id`: an operation stored already answers from what was stored and
    changes nothing (the same batch twice, a lost response and the batch resent, two resends at once).
    A person admitted at two desks: the earliest device time is the check-in, the other admission a
    conflict. A walk-in with no free seat is still registered (result `walk_in_overflow`, a task).
    """
    received_at = clock.utcnow()
    try:
        skew = desk_batches.skew_seconds(body["sent_at"], received_at)
    except DomainError as exc:
        raise ApiError(422, "invalid_input", message(exc.code), fields={"sent_at": [message(exc.code)]}) from None
    batch = Batch(event_id=event.id, device=body["device"], desk=_desk(body), user_id=g.api_user.id,
                  received_at=received_at, skew_seconds=skew)
    results: list[dict | None] = [None] * len(body["operations"])
    ready = []
    for i, raw in enumerate(body["operations"]):
        try:
            ready.append((i, _operation(raw, event, body["sent_at"])))
        except ApiError as exc:
            results[i] = _invalid(raw, exc.fields or {})
    db.session.commit()  # end the read transaction: each operation gets its own
    for i, op in sorted(ready, key=lambda pair: pair[1].seq):
        results[i] = _result(op.client_id, desk_batches.apply(op, event=event, batch=batch), event)
        db.session.commit()
    return jsonify({"results": results, "clock_skew_seconds": skew, "received_at": received_at.isoformat()})


def _operation(raw, event: Event, sent_at) -> Operation:
    """One operation, checked as the online endpoints check theirs; ApiError invalid_input otherwise."""
    if not isinstance(raw, dict):
        raise ApiError(422, "invalid_input", fields={"_": ["Not an object."]})
    schema = b.OPERATION_SCHEMAS.get(raw.get("kind"), b.OperationSchema())
    try:
        data = schema.load(raw)
    except ValidationError as exc:
        raise ApiError(422, "invalid_input", fields=_messages(exc.messages)) from None
    if not desk_batches.plausible_time(data["at"], sent_at):
        raise ApiError(422, "invalid_input", fields={"at": ["Not a time of this batch's queue."]})
    common = {"client_id": data["id"], "seq": data["seq"], "at": data["at"], "kind": data["kind"]}
    if data["kind"] == desk_batches.WALK_IN:
        try:
            typed = s.WalkInRequest().load(data["fields_"])
        except ValidationError as exc:
            raise ApiError(422, "invalid_input", fields=_messages(exc.messages)) from None
        session, applicant = read_walk_in(event, typed)
        return Operation(**common, session_id=session.id, applicant=applicant, confirm=data["confirm"])
    return Operation(**common, payload=data.get("payload", ""), method=ScanMethod(data.get("method", "keyboard")),
                     registration_id=data.get("registration_id"), session_id=_session_id(event, data.get("session_id")),
                     admitted=data.get("verdict") != "already_checked_in")


def _messages(messages) -> dict:
    return {str(name): [str(m) for m in (problems if isinstance(problems, list) else [problems])]
            for name, problems in (messages.items() if isinstance(messages, dict) else [("_", messages)])}


def _invalid(raw, fields: dict) -> dict:
    client_id = raw.get("id") if isinstance(raw, dict) else None
    return {"id": client_id if isinstance(client_id, str) else None, "result": "invalid_input",
            "message": message("invalid_input"), "registration": None, "conflict": None, "task": None,
            "fields": fields}


def _result(client_id: str, applied: Applied, event: Event) -> dict:
    """Built before the operation's commit: after it every loaded row would be read again."""
    result, registration = applied.result, applied.registration
    if result == desk_batches.WALK_IN_DUPLICATE and registration is not None:
        words = duplicate_walk_in_message(registration, event)
    else:
        words = message(result)
    return {"id": client_id, "result": result, "message": words,
            "registration": _row(applied, event) if registration is not None else None,
            "conflict": conflict_json(applied.conflict, event) if applied.conflict is not None else None,
            "task": task_json(applied.tasks[0], event) if applied.tasks else None}


def _row(applied: Applied, event: Event) -> dict:
    """The person as the desk keeps them, from what the scan read where it read it (no query)."""
    unlisted = False if applied.list_sent is False else None
    sessions = {applied.session["id"]: session_json(applied.session, event)} if applied.session else None
    return roster_row(applied.registration, event, unlisted, sessions)
