"""Every error code the API answers with: its HTTP status and when (one table; the OpenAPI
document and tests/web/test_openapi.py read it).

Errors are ``{"error": {"code": ..., "message": ..., "fields"?: {name: [messages]}}}``. Scan
*results* (ok, already_checked_in, …) are not errors: they come with 200 from /checkins and /checkin.
"""

from __future__ import annotations

from ...domain.errors import DomainError

ERRORS: dict[str, tuple[int, str]] = {
    "invalid_request": (400, "The request does not match this document: the body is not a JSON object (or "
                             "is nested too deeply to read), a required field is missing, a field or query "
                             "parameter has the wrong type or a value its enum or range does not allow, a query "
                             "parameter is given twice, text holds a NUL character or lone UTF-16 surrogates, "
                             "or the URL holds bytes that are not UTF-8 (see error.fields: field name -> messages)."),
    "csrf_failed": (400, "Session (desk page) authentication only: the X-CSRFToken header is missing "
                         "or invalid on a POST."),
    "unauthorized": (401, "No valid bearer token and no signed-in staff session (unknown or revoked "
                          "token, or its user was deactivated)."),
    "forbidden": (403, "The user (or the token's role) works on this event but may not do this: the "
                       "desk endpoints need the `desk` capability (owner, editor, reception), the "
                       "registration list and the summary export `view` (owner, editor, viewer), the exports "
                       "with personal data `export_personal` (owner, editor)."),
    "not_found": (404, "No such event for this user (staff see only the events they have a role on; "
                       "a token limited to another event sees none), or no such registration in this "
                       "event."),
    "unknown_pass": (404, "Lookup only: the payload is not a pass of this event."),
    "method_not_allowed": (405, "The HTTP method is not allowed here."),
    "too_large": (413, "The request body is larger than the server accepts (256 KiB by default)."),
    "invalid_input": (422, "The request matches this document but refers to something this event does not "
                           "have (a session_id or question_id of another event), a desk name holds a control, "
                           "zero-width or bidi character, or, for a walk-in, the form "
                           "refuses the values (an empty name, furigana not in kana, an unknown sector, an "
                           "invalid email…); see error.fields."),
    "cp932_unmappable": (422, "CP932 exports only: some characters of the data do not exist in Windows-31J; "
                              "error.problems lists them (row, column, character) and no file is made "
                              "(nothing is replaced silently). Ask for csv (UTF-8) or xlsx instead."),
    "not_checked_in": (409, "Undo only: the person is not checked in."),
    "session_full": (409, "Walk-in only: no free seat in the session."),
    "already_registered": (409, "Walk-in only: this email already holds an active registration for the "
                                "session; search for the name and check them in instead."),
    "event_changed": (409, "Walk-in only: the session was removed (event replaced) meanwhile."),
    "walk_in_duplicate": (409, "Walk-in only: someone of this name (and email, when given) was registered as a "
                               "walk-in at this event already; error.message asks whether to enter them "
                               "again. Send the same body with confirm: true to do so."),
    "unavailable": (503, "The database cannot be reached for a moment (an outage, a restart): nothing was "
                         "changed. Try again after the Retry-After header's seconds."),
}

# The HTTP status of each domain error the API passes on.
DOMAIN_STATUS = {
    "not_found": 404,
    "not_checked_in": 409,
    "session_full": 409,
    "already_registered": 409,
    "event_changed": 409,
    "walk_in_duplicate": 409,
}
# A domain code not listed above (a new rule nobody documented yet) is never a KeyError and a
# 500: domain errors refuse a valid request because of the state of things, which is 409 Conflict.
DEFAULT_DOMAIN_STATUS = 409


class ApiError(Exception):
    def __init__(self, status: int, code: str, detail: str | None = None, fields: dict | None = None,
                 **more):
        super().__init__(code)
        self.status, self.code, self.detail, self.fields, self.more = status, code, detail, fields, more


def not_of_this_event(field: str) -> ApiError:
    """A well-formed id that names nothing of this event (a session or question of another)."""
    return ApiError(422, "invalid_input", f"{field} is not of this event.", fields={field: ["Not of this event."]})


def domain_error(exc: DomainError, detail: str | None = None) -> ApiError:
    return ApiError(DOMAIN_STATUS.get(exc.code, DEFAULT_DOMAIN_STATUS), exc.code, detail)


def by_status(codes) -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = {}
    for code in codes:
        grouped.setdefault(ERRORS[code][0], []).append(code)
    return dict(sorted(grouped.items()))
