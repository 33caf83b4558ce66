"""Words for domain error codes. The codes are stable; these are what people read."""

from flask_babel import lazy_gettext as _l

MESSAGES = {
    "control_characters": _l("Please remove invisible or control characters."),
    "too_long": _l("This is too long."),
    "not_katakana": _l("Please enter furigana in katakana or hiragana."),
    "invalid_email": _l("Please enter a valid email address."),
    "invalid_phone": _l("Please enter a phone number using digits, spaces, hyphens or +."),
    "registration_not_open": _l("Registration for this session has not opened yet."),
    "registration_closed": _l("Registration for this session has closed."),
    "session_full": _l("This session is full."),
    "session_started": _l("This session has already started, so the registration can no longer be cancelled online."),
    "event_changed": _l("This event was just updated. Please reload the page and register again."),
    "already_cancelled": _l("This registration has already been cancelled."),
}


def message(code: str) -> str:
    return str(MESSAGES.get(code, code))
