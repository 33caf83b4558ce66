"""Absolute links for a registration, built by the edge (the domain never spells a URL).

Inside a request ``url_for(..., _external=True)`` builds them from that request. Outside one
(the outbox worker, the CLI) they are built in a request context made from BASE_URL.
"""

from __future__ import annotations

from flask import current_app, has_request_context, url_for

from ..models import Registration


def _links(registration: Registration) -> dict[str, str]:
    token = registration.token
    return {
        "registration": url_for("public.registration", token=token, _external=True),
        "cancel": url_for("public.cancel", token=token, _external=True),
        "pdf": url_for("public.pass_pdf", token=token, _external=True),
        "ics": url_for("public.calendar", token=token, _external=True),
        "event": url_for("public.event_page", slug=registration.event.slug, _external=True),
    }


def registration_links(registration: Registration) -> dict[str, str]:
    """The links ``domain.passes.pass_context`` takes: registration, cancel, pdf, ics, event.

    The first four carry the management secret: they go into emails only, never onto a pass.
    """
    if has_request_context():
        return _links(registration)
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        return _links(registration)
