"""The offline desk's copy of the event (issue 14): the desk page and scanner apps keep the roster
on the device and refresh it by deltas (domain.reception.roster_sync). Needs the ``desk``
capability on the event, like every desk endpoint.

GET /api/v1/events/<event_id>/roster?since=<cursor>

Never an email, a phone number or an answer (web/checkin_json.roster_row). ``store_key`` is only
for a staff session: derived from that session's secret, so a bearer token (a scanner app keeps
its own storage) gets null.
"""

from __future__ import annotations

import gzip
import json

from flask import current_app, g, request

from ... import clock
from ...domain.access.permissions import Capability
from ...domain.people import gojuon, search
from ...domain.reception import roster_sync
from ...domain.reception.checkin import RESULT_OF_STATUS
from ...domain.registration import passes
from ...models import Event
from ...models.registration import changed_now
from ..checkin_json import roster_row, session_json
from ..desk_words import conflict_json, task_json
from .core import bp, endpoint
from .roster_schemas import RosterQuery, RosterSchema

GZIP_FROM = 1024  # bytes: a small delta is sent as it is


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _json(body: dict):
    """The answer as UTF-8 (a name in \\u escapes takes twice the bytes), gzipped when the client
    takes it: the full roster of 2,000 people is about 1 MB of JSON and 70 kB gzipped, over a
    venue's guest Wi-Fi or a phone's tether (the app may run without a compressing proxy)."""
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    response = current_app.response_class(data, mimetype="application/json")
    response.vary.add("Accept-Encoding")
    if len(data) >= GZIP_FROM and "gzip" in request.accept_encodings:
        response.set_data(gzip.compress(data, 6))
        response.headers["Content-Encoding"] = "gzip"
    return response


@bp.route("/events/<int:event_id>/roster", methods=["GET"], tags=["desk"])
@endpoint(Capability.desk)
@bp.arguments(RosterQuery, location="query")
@bp.response(200, RosterSchema, description="The roster, all of it or what changed since `since`.")
def roster(event: Event, args: dict):
    """The event's roster for an offline desk (everyone, or a delta)

    Send the last answer's `cursor` as `since` to get only the registrations changed since (a
    few seconds more, for transactions that were still committing). `full` says whether `rows`
    is everyone; after a delta, a device whose count differs from `total` asks again without
    `since`. Never email, phone or answers.
    """
    found = roster_sync.roster(event, args["since"], now_us=changed_now())
    tz = event.timezone
    secret = g.api_user.session_secret if g.via == "desk" else None
    sessions = {s.id: session_json(s, event) for s in event.sessions}
    return _json({
        "event": {"id": event.id, "title": event.title, "timezone": tz,
                  "ends_at": _iso(found.ends_at), "wipe_after": _iso(found.wipe_after)},
        "key": {"algorithm": "Ed25519", "event_id": event.id, "public_key": passes.public_key(event)},
        "store_key": roster_sync.store_key(secret, event.id) if secret else None,
        "cursor": str(found.cursor), "full": found.full, "total": found.total,
        "rows": [roster_row(r, event, r.id in found.unlisted, sessions) for r in found.rows],
        "sessions": [{**sessions[s.id], "capacity": s.capacity, "seats_left": s.seats_left} for s in event.sessions],
        "result_of_status": {status.value: result.value for status, result in RESULT_OF_STATUS.items()},
        "fold": search.tables(),
        "kana_rows": {row: list(gojuon.row_range(row)) for row in gojuon.ROWS},
        "conflicts": [conflict_json(c, event) for c in found.conflicts],
        "tasks": [task_json(t, event) for t in found.tasks],
        "server_time": clock.utcnow().isoformat(),
    })
