"""Rate limits of public sign-ups (Flask-Limiter): per email, per address and event, per address.

The limits are configuration and count sign-up POSTs only: reading an event page is never limited.

- RATELIMIT_SIGNUP_PER_EMAIL (5/hour): the form's address normalised as the registration stores
  it (domain.people.text.normalize_email), so "A@Example.org " and "a@example.org" count
  together; a form without a valid address is not counted per email (it fails validation anyway).
- RATELIMIT_SIGNUP_PER_EVENT (20 per 10 minutes): one client address signing up to one event,
  the shape of a script filling an event; the short window keeps a refused person's wait short.
- RATELIMIT_SIGNUP_PER_ADDRESS (300/hour): a ceiling over all events that colleagues behind one
  office NAT do not meet in normal use.

The client address is ``request.remote_addr``, which ProxyFix sets from X-Forwarded-For when
PROXY_COUNT says a proxy of ours is in front. Every count is taken on arrival (one atomic step,
so a burst cannot slip past a limit) and given back when the POST registered nothing new: a form
with errors (the page again, 400) or a copy of a form that already made its registration (its
signup_key). A refused POST is a 429 that keeps the form and says when to try again
(public.signup_refused_for_now, Retry-After by Flask-Limiter).
"""

from __future__ import annotations

from functools import wraps

from flask import current_app, g, request
from flask_limiter.util import get_qualified_name

from ..domain.errors import DomainError
from ..domain.people.text import normalize_email
from ..extensions import limiter

SCOPES = ("signup-email", "signup-event", "signup-address")


@limiter.request_filter
def _switched_off() -> bool:
    """RATELIMIT_ENABLED of the app serving this request decides. Flask-Limiter keeps one switch
    and one storage per process (the last app bound); a process serves one app, but tests make
    several, and one with limits on must not switch them on for the others."""
    return not current_app.config.get("RATELIMIT_ENABLED", True)


@limiter.request_filter
def _names_no_limit() -> bool:
    """Only a few routes name a limit (the sign-up, /verify). For every other one Flask-Limiter
    would still work out, on each request, that none applies: about 5 % of a scanner check-in's
    time (bench/profile_checkin.py). Whether a route has a limit is fixed once the app is built,
    so it is asked once per endpoint, of the limiter's own records, and kept with the app."""
    endpoint = request.endpoint
    known = current_app.extensions.setdefault("eventreg.unlimited", {})
    if endpoint not in known:
        view = current_app.view_functions.get(endpoint or "")
        manager = limiter.limit_manager
        known[endpoint] = view is not None and not (
            manager.default_limits or manager.application_limits or manager.has_hints(endpoint or "")
            or manager.decorated_limits(get_qualified_name(view))
            or manager.blueprint_limits(current_app, request.blueprint))
    return known[endpoint]


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


def _event_key() -> str:
    slug = (request.view_args or {}).get("slug", "")
    return f"{_prefix()}:event:{slug}:{request.remote_addr or ''}"


def _address_key() -> str:
    return f"{_prefix()}:addr:{request.remote_addr or ''}"


def _per_address() -> str:
    return current_app.config["RATELIMIT_SIGNUP_PER_ADDRESS"]


def _per_event() -> str:
    return current_app.config["RATELIMIT_SIGNUP_PER_EVENT"]


def _per_email() -> str:
    return current_app.config["RATELIMIT_SIGNUP_PER_EMAIL"]


def signup(view):
    """The three sign-up limits, on POST only; a POST with form errors gives its counts back."""
    view = _form_errors_not_counted(view)
    view = limiter.limit(_per_email, key_func=_email_key, methods=["POST"], scope=SCOPES[0],
                         exempt_when=lambda: not _email())(view)
    view = limiter.limit(_per_event, key_func=_event_key, methods=["POST"], scope=SCOPES[1])(view)
    return limiter.limit(_per_address, key_func=_address_key, methods=["POST"], scope=SCOPES[2])(view)


def _form_errors_not_counted(view):
    @wraps(view)
    def counted_if_registered(*args, **kwargs):
        answer = view(*args, **kwargs)
        status = answer[1] if isinstance(answer, tuple) else getattr(answer, "status_code", 200)
        if request.method == "POST" and status == 400:  # the form again: nothing was registered
            give_back_counts()
        return answer
    return counted_if_registered


def give_back_counts() -> None:
    """Takes this request's counts off the sign-up limits, once the view knows the POST made no
    new registration. Fixed windows (the default strategy) only: a count is a plain counter."""
    for counted in limiter.current_limits:
        if counted.request_args[-1].endswith(SCOPES):
            try:
                limiter.limiter.hit(counted.limit, *counted.request_args, cost=-1)
            except Exception as exc:  # noqa: BLE001 - a storage outage costs this person one count, never an error
                current_app.logger.warning("rate limit storage: could not give a count back: %s", type(exc).__name__)
