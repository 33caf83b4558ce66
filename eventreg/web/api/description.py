"""The words at the top of the OpenAPI document (info.description)."""

from __future__ import annotations

from .errors import ERRORS

DESCRIPTION = """\
For scanner apps and the desk page (tag `desk`), and for organizers' scripts (tag `organizer`).

**Authentication.** Either `Authorization: Bearer <token>` (create one on the event's staff page,
limited to that event and a role, or with `flask --app wsgi api-tokens create EMAIL --name "iPad at
desk 2"`; it is shown once and stored hashed; revoke it there or with `api-tokens revoke ID`), or a signed-in staff session cookie (the desk page), in
which case every POST must carry the session's CSRF token in the `X-CSRFToken` header (else 400
`csrf_failed`).

**Access.** Every endpoint under `/api/v1/events/{event_id}/` needs one capability on that event:
the desk endpoints `desk` (owner, editor, reception), the registration list, one registration
and the summary export (counts only) `view` (owner, editor, viewer), the exports with personal
data `export_personal` (owner, editor). A token limited to an event and a role has no more than that role there (and never more than its user's own role); a
token limited to reception can call only the desk endpoints, a viewer's cannot export. An event the
caller has no role on (or a token limited to another event) answers 404 `not_found`, as if it did
not exist; a role without the capability answers 403 `forbidden`.

**Personal data.** Callers without `export_personal` (the viewer role) get the list and one
registration without email, phone and answers (null, and `personal_data: false`).

**Errors** are `{"error": {"code": "...", "message": "...", "fields"?: {...}}}` with a stable
snake_case `code` (`fields`: field name -> messages, for invalid_request and invalid_input):
""" + "\n".join(f"* `{code}` ({status}): {text}" for code, (status, text) in ERRORS.items()) + """

Any other domain code a newer rule may produce answers 409 with that code, never a 500. URLs and
methods under /api/v1 that match no route answer 404/405 in the same JSON shape.

**Privacy.** Pass tokens travel only in request bodies, never in URLs. A pass of another event gives
`wrong_event` with `registration: null`.
"""
