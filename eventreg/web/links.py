"""Absolute links for a registration, built by the edge (the domain never spells a URL).

They are always built from BASE_URL (``url_for(..., _external=True)`` in a request context made
from it), also inside a request: what goes into a PDF, a calendar file or an email must carry the
site's canonical address, never the Host header a client sent.
"""

from __future__ import annotations

from flask import current_app, url_for

from ..domain.communication import opt_outs
from ..domain.registration import holds
from ..models import Registration


def confirmation_proof(token: str) -> str:
    """The proof the confirmation link carries (domain.registration.holds): in the mail only."""
    return holds.confirmation_proof(token, current_app.config["SECRET_KEY"])


def unsubscribe_key(registration: Registration) -> str:
    """The key of the registration's unsubscribe link (domain.communication.opt_outs): in its mail only."""
    return opt_outs.key(registration, current_app.config["SECRET_KEY"])


def _links(registration: Registration) -> dict[str, str]:
    token = registration.token
    # A person who signed up in another language than the site's default gets links that open in
    # it (web.i18n remembers it), also on a device whose browser prefers another.
    lang = registration.language
    carried = {"lang": lang} if lang in current_app.config["LANGUAGES"] and lang != current_app.config[
        "BABEL_DEFAULT_LOCALE"] else {}
    return {
        "registration": url_for("public.registration", token=token, _external=True, **carried),
        "cancel": url_for("public.cancel", token=token, _external=True, **carried),
        "pdf": url_for("public.pass_pdf", token=token, _external=True),
        "ics": url_for("public.calendar", token=token, _external=True),
        "confirm": url_for("public.confirm_email", token=token, proof=confirmation_proof(token), _external=True,
                           **carried),
        "event": url_for("public.event_page", slug=registration.event.slug, _external=True, **carried),
        "unsubscribe": url_for("public.unsubscribe", key=unsubscribe_key(registration), _external=True, **carried),
    }


def registration_links(registration: Registration) -> dict[str, str]:
    """The links ``domain.registration.passes.pass_context`` takes: registration, cancel, pdf, ics, event,
    unsubscribe (organizer messages only).

    All but ``event`` carry a secret: they go into emails only, never onto a pass.
    """
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        return _links(registration)


MASK = "••••••"  # what a staff preview shows in place of the management secret


def masked_links(registration: Registration) -> dict[str, str]:
    """``registration_links`` for a staff preview: where each link goes, the secrets masked.

    Staff read previews (a viewer too); the management secret cancels and switches the
    registration, so it is shown to nobody but the attendee's mailbox.
    """
    secrets = (registration.token, confirmation_proof(registration.token), unsubscribe_key(registration))
    masked = {}
    for name, link in registration_links(registration).items():
        for secret in secrets:
            link = link.replace(secret, MASK)
        masked[name] = link
    return masked


def survey_link(registration: Registration) -> str:
    """The registration's personal survey link (/s/<key>: domain.insight.surveys), for the invitation
    mail only; it opens in the language the person signed up in."""
    from ..domain.insight import surveys  # appended part (issue 17): its import stays with it

    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        lang = registration.language
        carried = {"lang": lang} if lang in current_app.config["LANGUAGES"] and lang != current_app.config[
            "BABEL_DEFAULT_LOCALE"] else {}
        return url_for("survey.answer", key=surveys.invitation_key(registration, current_app.config["SECRET_KEY"]),
                       _external=True, **carried)
