"""The OpenAPI 3.0 document of /api/v1 (served at /api/v1/openapi.json).

Plain data, kept next to the code it describes; tests/web/test_openapi.py checks that every route,
method, path parameter and error code of web/api.py is here (and nothing else), and that real
responses validate against these schemas.
"""

from __future__ import annotations

from ..models import ScanMethod, Sector, Status

# The values a client may send in X-Scan-Method: how the pass was read. Made from the model's
# enum (walk_in and undo are written by their own endpoints, never claimed by a client).
HEADER_SCAN_METHODS = tuple(m.value for m in ScanMethod if m not in (ScanMethod.walk_in, ScanMethod.undo))

# Every error code the API answers with, its HTTP status, and when. Scan *results* (ok,
# already_checked_in, …) are not errors: they come with 200 from /checkins and /checkin.
ERRORS: dict[str, tuple[int, str]] = {
    "invalid_request": (400, "The body is not a JSON object, or a field has the wrong type or value "
                             "(payload not a string or longer than 500 characters, session_id not a "
                             "session of this event, desk not a string, NUL characters in desk or q, text with lone "
                             "UTF-16 surrogates; walk-in values not strings)."),
    "csrf_failed": (400, "Session (desk page) authentication only: the X-CSRFToken header is missing "
                         "or invalid on a POST."),
    "unauthorized": (401, "No valid bearer token and no signed-in staff session (unknown or revoked "
                          "token, or its user was deactivated)."),
    "not_found": (404, "No such event for this user (reception staff see only the events they are "
                       "assigned to), or no such registration in this event."),
    "unknown_pass": (404, "Lookup only: the payload is not a pass of this event."),
    "method_not_allowed": (405, "The HTTP method is not allowed here."),
    "too_large": (413, "The request body is larger than the server accepts (256 KiB by default)."),
    "invalid_input": (422, "Walk-in only: form fields failed validation; see error.fields."),
    "not_checked_in": (409, "Undo only: the person is not checked in."),
    "session_full": (409, "Walk-in only: no free seat in the session."),
    "already_registered": (409, "Walk-in only: this email already holds an active registration for the "
                                "session; search for the name and check them in instead."),
    "event_changed": (409, "Walk-in only: the session was removed (event replaced) meanwhile."),
    "walk_in_duplicate": (409, "Walk-in only: someone of this name (and email, when given) was registered as a "
                               "walk-in at this event already; error.message asks whether to enter them "
                               "again. Send the same body with confirm: true to do so."),
}
# Any other domain code the server may produce one day (a rule newer than this document) answers
# 409 with that code (web/api.py DEFAULT_DOMAIN_STATUS), never a 500.

# Outcomes of a check-in (HTTP 200). "ok" is the only one that let someone in.
SCAN_RESULTS = {
    "ok": "Checked in now.",
    "already_checked_in": "Was checked in before (registration.checked_in_at/desk tell when and where).",
    "cancelled": "The registration was cancelled.",
    "waitlisted": "On the waiting list, not confirmed.",
    "wrong_event": "A valid pass of another event; registration is null (nothing about that person).",
    "wrong_session": "A pass of this event but another session than session_id.",
    "unknown_pass": "Not a pass (damaged, mistyped or unknown); registration is null.",
    "superseded": "An older pass of a registration that was moved to another session; a newer pass exists.",
}

JSON = "application/json"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _error_schema(codes: list[str]) -> dict:
    return {
        "type": "object", "required": ["error"], "additionalProperties": False,
        "properties": {"error": {
            "type": "object", "required": ["code", "message"], "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "enum": codes},
                "message": {"type": "string", "description": "For people, in the user's language."},
                "fields": {"type": "object", "description": "invalid_input only: field name → messages.",
                           "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            },
        }},
    }


def _errors(*codes: str) -> dict:
    """Responses for the given error codes, grouped by HTTP status, each with only its codes."""
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(ERRORS[code][0], []).append(code)
    return {str(status): _json(_error_schema(group), "; ".join(f"`{c}`: {ERRORS[c][1]}" for c in group))
            for status, group in sorted(by_status.items())}


# Every authenticated route can answer these.
COMMON_GET = ("unauthorized", "not_found", "invalid_request")
COMMON_POST = COMMON_GET + ("csrf_failed", "too_large")

# Path ids are what the app's URL converter accepts (web/__init__.py): 1 … 2^31 − 1; anything
# else matches no route and answers 404 not_found.
ROW_ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
EVENT_ID = {"name": "event_id", "in": "path", "required": True, "schema": ROW_ID,
            "description": "The event's id (shown in the desk URL /desk/<event_id>)."}
REGISTRATION_ID = {"name": "registration_id", "in": "path", "required": True, "schema": ROW_ID,
                   "description": "A registration id from search, lookup or a scan result."}
SESSION_QUERY = {"name": "session_id", "in": "query", "required": False, "schema": {"type": "integer"},
                 "description": "Only this session of the event."}

SCHEMAS = {
    "Session": {
        "type": "object", "required": ["id", "title", "when"], "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string", "description": "May be empty for a one-session event."},
            "when": {"type": "string", "description": "Date, times and doors, formatted for people."},
        },
    },
    "Registration": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "name", "kana", "organization", "department", "status", "walk_in", "session",
                     "checked_in_at", "checked_in_time", "checked_in_desk"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string", "example": "山田 花子"},
            "kana": {"type": "string", "example": "ヤマダ ハナコ"},
            "organization": {"type": "string"},
            "department": {"type": "string"},
            "status": {"type": "string", "enum": [s.value for s in Status]},
            "walk_in": {"type": "boolean"},
            "session": _ref("Session"),
            "checked_in_at": {"type": "string", "format": "date-time", "nullable": True,
                              "description": "UTC, ISO 8601; null when not checked in."},
            "checked_in_time": {"type": "string", "nullable": True, "example": "13:42",
                                "description": "HH:MM in the event's time zone."},
            "checked_in_desk": {"type": "string", "nullable": True},
            "not_on_security_list": {"type": "boolean",
                                     "description": "True when the building-security list of the person's "
                                                    "session was sent and they are not on it: the building has "
                                                    "no pass for them."},
        },
    },
    "ScanOutcome": {
        "type": "object", "required": ["result", "ok", "message", "registration"], "additionalProperties": False,
        "properties": {
            "result": {"type": "string", "enum": list(SCAN_RESULTS),
                       "description": "; ".join(f"`{k}`: {v}" for k, v in SCAN_RESULTS.items())},
            "ok": {"type": "boolean", "description": "True only for result ok: show green."},
            "message": {"type": "string", "description": "What to show the desk volunteer."},
            "registration": {"allOf": [_ref("Registration")], "nullable": True,
                             "description": "Null for unknown_pass and wrong_event."},
        },
    },
    "Undone": {
        "type": "object", "required": ["result", "message", "registration"], "additionalProperties": False,
        "properties": {
            "result": {"type": "string", "enum": ["undone"]},
            "message": {"type": "string"},
            "registration": _ref("Registration"),
        },
    },
    "WalkIn": {
        "type": "object", "required": ["result", "ok", "message", "registration"], "additionalProperties": False,
        "properties": {
            "result": {"type": "string", "enum": ["walk_in"]},
            "ok": {"type": "boolean", "enum": [True]},
            "message": {"type": "string"},
            "registration": _ref("Registration"),
        },
    },
    "Lookup": {
        "type": "object", "required": ["registration"], "additionalProperties": False,
        "properties": {"registration": _ref("Registration")},
    },
    "Counts": {
        "type": "object", "required": ["expected", "checked_in", "walk_ins"], "additionalProperties": False,
        "properties": {
            "expected": {"type": "integer", "description": "Confirmed registrations made beforehand "
                                                           "(walk-ins are not expected)."},
            "checked_in": {"type": "integer", "description": "Everyone who arrived: the expected people "
                                                             "checked in plus the walk-ins."},
            "walk_ins": {"type": "integer", "description": "Registered at the desk and checked in."},
        },
    },
    "PassKey": {
        "type": "object", "required": ["event_id", "algorithm", "format", "public_key"], "additionalProperties": False,
        "properties": {
            "event_id": {"type": "integer"},
            "algorithm": {"type": "string", "enum": ["Ed25519"]},
            "format": {"type": "string", "enum": ["ER2"]},
            "public_key": {"type": "string", "description": "The raw 32-byte public key, base64url without padding."},
        },
    },
    "SearchResults": {
        "type": "object", "required": ["results"], "additionalProperties": False,
        "properties": {"results": {"type": "array", "maxItems": 30, "items": _ref("Registration")}},
    },
    "Error": _error_schema(list(ERRORS)),
}

DESK = {"type": "string", "maxLength": 50,
        "description": "Desk name for the log (longer is cut to 50); default: the user's name."}
SESSION_ID = {"type": "integer", "nullable": True,
              "description": "Check in for this session only (else: wrong_session). Not a boolean."}
PAYLOAD = {"type": "string", "maxLength": 500,
           "description": "Exactly what the scanner read: the entry credential `ER2:<base32>` (any letter "
                          "case). See `/events/{event_id}/pass-key` for its format."}

BODIES = {
    "Payload": {"type": "object", "required": ["payload"], "properties": {"payload": PAYLOAD}},
    "Scan": {"type": "object", "required": ["payload"],
             "properties": {"payload": PAYLOAD, "session_id": SESSION_ID, "desk": DESK}},
    "CheckIn": {"type": "object", "properties": {"session_id": SESSION_ID, "desk": DESK}},
    "Undo": {"type": "object", "properties": {"desk": DESK}},
    "WalkIn": {
        "type": "object",
        "required": ["session_id", "family_name", "given_name", "family_kana", "given_kana", "sector"],
        "properties": {
            "session_id": {"type": "integer"},
            "family_name": {"type": "string", "maxLength": 50},
            "given_name": {"type": "string", "maxLength": 50},
            "family_kana": {"type": "string", "description": "Katakana or hiragana."},
            "given_kana": {"type": "string"},
            "organization": {"type": "string", "maxLength": 100},
            "sector": {"type": "string",
                       "enum": [s.value for s in Sector]},
            "email": {"type": "string", "description": "Optional; with one, the pass is emailed."},
            "desk": DESK,
            "confirm": {"type": "boolean", "default": False,
                        "description": "Enter the person although a walk-in of the same name exists."},
        },
    },
}


def _body(name: str, description: str) -> dict:
    return {"required": True, "description": description, "content": {JSON: {"schema": BODIES[name]}}}


PATHS = {
    "/openapi.json": {"get": {
        "summary": "This document", "security": [], "parameters": [],
        "responses": {"200": {"description": "OpenAPI 3.0 document.", "content": {JSON: {"schema": {"type": "object"}}}}},
    }},
    "/events/{event_id}/counts": {"get": {
        "summary": "Live counters: expected, checked in, walk-ins",
        "parameters": [EVENT_ID, SESSION_QUERY],
        "responses": {"200": _json(_ref("Counts"), "Counts of confirmed registrations."),
                      **_errors(*COMMON_GET)},
    }},
    "/events/{event_id}/search": {"get": {
        "summary": "Find people without a pass (name, furigana, organization, email)",
        "description": "Active (not cancelled) registrations, at most 30, ordered by furigana. "
                       "Several words must all match; hiragana matches katakana.",
        "parameters": [
            EVENT_ID,
            {"name": "q", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 100},
             "description": "Words (longer is cut to 100 characters)."},
            {"name": "row", "in": "query", "required": False,
             "schema": {"type": "string", "enum": ["a", "ka", "sa", "ta", "na", "ha", "ma", "ya", "ra", "wa"]},
             "description": "Only family furigana starting in this kana row (あ か さ …); other values are ignored."},
            SESSION_QUERY,
        ],
        "responses": {"200": _json(_ref("SearchResults"), "Matching registrations."), **_errors(*COMMON_GET)},
    }},
    "/events/{event_id}/lookup": {"post": {
        "summary": "What a pass is, without checking anyone in",
        "parameters": [EVENT_ID],
        "requestBody": _body("Payload", "The scanned payload."),
        "responses": {"200": _json(_ref("Lookup"), "The pass's registration."),
                      **_errors(*COMMON_POST, "unknown_pass")},
    }},
    "/events/{event_id}/checkins": {"post": {
        "summary": "Check in the holder of a scanned pass",
        "description": "Always logged. Every outcome answers 200 with a `result` (see ScanOutcome); only "
                       "`ok` means the person was let in now. The same pass scanned at two desks at once "
                       "gives one `ok` and one `already_checked_in`. Send the header "
                       "`X-Scan-Method` to tell the log how the pass was read (another value logs `api`). "
                       "A pass whose entry version is older than the registration's answers `cancelled` "
                       "(cancelled since) or `superseded` (moved to another session).",
        "parameters": [EVENT_ID, {"name": "X-Scan-Method", "in": "header", "required": False,
                                  "schema": {"type": "string", "enum": list(HEADER_SCAN_METHODS)}}],
        "requestBody": _body("Scan", "The scanned payload, optionally a session and desk name."),
        "responses": {"200": _json(_ref("ScanOutcome"), "The outcome (also for passes that are not let in)."),
                      **_errors(*COMMON_POST)},
    }},
    "/events/{event_id}/registrations/{registration_id}/checkin": {"post": {
        "summary": "Check in a person found by search",
        "description": "Outcomes as for /checkins, except unknown_pass and wrong_event (a registration of "
                       "another event is `not_found`).",
        "parameters": [EVENT_ID, REGISTRATION_ID],
        "requestBody": _body("CheckIn", "Optional session and desk; send {} for neither."),
        "responses": {"200": _json(_ref("ScanOutcome"), "The outcome."), **_errors(*COMMON_POST)},
    }},
    "/events/{event_id}/registrations/{registration_id}/undo": {"post": {
        "summary": "Take a check-in back (logged)",
        "parameters": [EVENT_ID, REGISTRATION_ID],
        "requestBody": _body("Undo", "Optional desk; send {} for none."),
        "responses": {"200": _json(_ref("Undone"), "Not checked in any more."),
                      **_errors(*COMMON_POST, "not_checked_in")},
    }},
    "/events/{event_id}/walk-ins": {"post": {
        "summary": "Register someone at the desk and check them in",
        "description": "Needs a free seat (no waiting list, no deadline). Values must be strings, "
                       "session_id an integer; null counts as absent.",
        "parameters": [EVENT_ID],
        "requestBody": _body("WalkIn", "The short walk-in form."),
        "responses": {"201": _json(_ref("WalkIn"), "Registered and checked in."),
                      **_errors(*COMMON_POST, "invalid_input", "session_full", "already_registered",
                                "walk_in_duplicate",
                                "event_changed")},
    }},
}

PATHS["/events/{event_id}/pass-key"] = {"get": {
    "summary": "The public key that signs this event's passes (for an offline desk)",
    "description": "A pass's QR code carries `ER2:` + base32 (RFC 4648, no padding) of 85 bytes: version "
                   "(1 byte, 2), event id (4 bytes), entry id (12 bytes), entry version (4 bytes), all "
                   "big-endian, then the Ed25519 signature (64 bytes) of `eventreg entry pass\\0` followed "
                   "by the 21 bytes before it. A pass that verifies with this key was issued by this "
                   "server; whether it is still current (not cancelled or moved) only the server knows.",
    "parameters": [EVENT_ID],
    "responses": {"200": _json(_ref("PassKey"), "The event's public key."), **_errors(*COMMON_GET)},
}}

DESCRIPTION = """\
For scanner apps and the desk page.

**Authentication.** Either `Authorization: Bearer <token>` (create one with
`flask --app wsgi api-tokens create EMAIL --name "iPad at desk 2"`; it is shown once and stored
hashed; revoke with `api-tokens revoke ID`), or a signed-in staff session cookie (the desk page), in
which case every POST must carry the session's CSRF token in the `X-CSRFToken` header (else 400
`csrf_failed`). Organizers may use every event; reception staff only the events they are assigned
to (any other event answers 404 `not_found`, as if it did not exist).

**Errors** are `{"error": {"code": "...", "message": "..."}}` with a stable snake_case `code`:
""" + "\n".join(f"* `{code}` ({status}): {text}" for code, (status, text) in ERRORS.items()) + """

URLs and methods under /api/v1 that match no route answer 404/405 in the same JSON shape.

**Privacy.** Pass tokens travel only in request bodies, never in URLs. A pass of another event gives
`wrong_event` with `registration: null`.
"""


def spec(base_url: str) -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "eventreg scanner API", "version": "1", "description": DESCRIPTION},
        "servers": [{"url": base_url.rstrip("/") + "/api/v1"}],
        "security": [{"bearerAuth": []}, {"deskSession": []}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "A token from `flask --app wsgi api-tokens create`."},
                "deskSession": {"type": "apiKey", "in": "cookie", "name": "session",
                                "description": "The staff session of the desk page; POSTs also need "
                                               "the X-CSRFToken header."},
            },
        },
    }
