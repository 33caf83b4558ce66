"""Rate limits of public sign-ups (Flask-Limiter): per client address and per email address.

The limits are configuration (RATELIMIT_SIGNUP_PER_ADDRESS, RATELIMIT_SIGNUP_PER_EMAIL) and count
sign-up POSTs only: reading an event page is never limited. The client address is
``request.remote_addr``, which ProxyFix sets from X-Forwarded-For when PROXY_COUNT says a proxy
of ours is in front. The email key is the form's address normalised as the registration stores
it (domain.people.text.normalize_email), so "A@Example.org " and "a@example.org" count together; a form
without a valid address is not counted per email (it fails validation anyway).
A refused POST is a 429 page in the visitor's language with Retry-After (errors.py).
A copy of a form that already made its registration (its signup_key) is no new sign-up: its count
is given back (``give_back_email_count``).
"""

from __future__ import annotations

from flask import current_app, g, request

from ..domain.errors import DomainError
from ..domain.people.text import normalize_email
from ..extensions import limiter


@limiter.request_filter
def _switched_off() -> bool:
    """RATELIMIT_ENABLED of the app serving this request decides. Flask-Limiter keeps one switch
    and one storage per process (the last app bound); a process serves one app, but tests make
    several, and one with limits on must not switch them on for the others."""
    return not current_app.config.get("RATELIMIT_ENABLED", True)


def _email() -> str:
    """The form's email as stored, once per request (the key and the exemption both ask)."""
    if "limited_email" not in g:
        try:
            g.limited_email = normalize_email(request.form.get("email", ""))
        except (DomainError, ValueError):
            g.limited_email = ""
    return g.limited_email


def _prefix() -> str:
    # Read per request: Flask-Limiter keeps the key prefix of the first app it was bound to.
    return str(current_app.config["RATELIMIT_PREFIX"])


def _email_key() -> str:
    return f"{_prefix()}:email:{_email()}"


def _address_key() -> str:
    return f"{_prefix()}:addr:{request.remote_addr or ''}"


def _per_address() -> str:
    return current_app.config["RATELIMIT_SIGNUP_PER_ADDRESS"]


def _per_email() -> str:
    return current_app.config["RATELIMIT_SIGNUP_PER_EMAIL"]


def signup(view):
    """Both sign-up limits, on POST only."""
    view = limiter.limit(_per_email, key_func=_email_key, methods=["POST"], scope=EMAIL_SCOPE,
                         exempt_when=lambda: not _email())(view)
    return limiter.limit(_per_address, key_func=_address_key, methods=["POST"], scope="signup-address")(view)


EMAIL_SCOPE = "signup-email"


def give_back_email_count() -> None:
    """Takes this request's count off its email's limit. Counted on arrival (one atomic step,
    so a burst cannot slip past the limit), given back once the view knows the POST repeated an
    earlier one. Fixed windows (the default strategy) only: a count is a plain counter."""
    for counted in limiter.current_limits:
        if counted.request_args[-1].endswith(EMAIL_SCOPE):
            try:
                limiter.limiter.hit(counted.limit, *counted.request_args, cost=-1)
            except Exception as exc:  # noqa: BLE001 - a storage outage costs this person one count, never an error
                current_app.logger.warning("rate limit storage: could not give a count back: %s", type(exc).__name__)
