"""What the post-event loop's mails say to one person, beyond the registration's own values
(domain.registration.passes.pass_context): the survey link, the organizer's no-show words, the
materials link, the unsubscribe header. Used by the worker at delivery and by the organizer's
preview, so the preview is the email, except that a preview never carries a secret: its survey
and unsubscribe links are placeholders (web.links.MASK).
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from ..adapters import certificates as drawn_certificates
from ..domain.communication import followups
from ..domain.insight import surveys
from ..extensions import db
from ..models import Certificate, Event, MailKind, Registration
from . import certificates as certificate_pages
from . import links

KIND_NAMES = {kind.value: part for part, kind in followups.KINDS.items()}


def values(registration: Registration, kind: str, ctx: dict, *, lang: str, preview: bool = False) -> dict:
    """The extra template values of a ``followup_*`` mail of ``registration`` in ``lang`` (the
    mail's language); ``ctx`` is its pass_context (its ``links`` masked for a preview)."""
    event: Event = registration.event
    part = KIND_NAMES[kind]
    found = {"followup": {"part": part, "noshow_text": event.noshow_text or "",
                          "materials_url": event.materials_url or ""}}
    if part == "survey":
        found["survey_link"] = _survey_link(registration, preview)
        survey = surveys.survey_of(event.id)
        # The survey's title in the mail's language: its English for an English mail when set.
        found["survey_title"] = surveys.in_language(survey.title, survey.title_en, lang) if survey else ""
    if part in followups.ORGANIZER_MESSAGES:  # organizer messages: the unsubscribe link and header
        found["list_unsubscribe"] = ctx["links"]["unsubscribe"]
    return found


def _survey_link(registration: Registration, preview: bool) -> str:
    if preview:
        base = current_app.config["BASE_URL"].rstrip("/")
        return f"{base}/s/{links.MASK}"
    return links.survey_link(registration)


def is_followup(kind: MailKind | str) -> bool:
    return (kind.value if isinstance(kind, MailKind) else kind) in KIND_NAMES



class CertificateWithdrawn(LookupError):
    """The mail's certificate was withdrawn after the mail was queued: it is never sent (the worker
    gives the message up at once instead of retrying it)."""


def certificate_page(registration: Registration, lang: str) -> dict:
    """The certificate's page as plain values, read at delivery from the certificate the loop
    issued when it queued the mail (web.certificates, helper `certs`). LookupError when there is
    none: the message is retried, never sent without its certificate; CertificateWithdrawn when it
    was withdrawn since (domain.registration.certificates.withdraw)."""
    issued = db.session.scalar(select(Certificate).where(Certificate.registration_id == registration.id))
    if issued is None:
        raise LookupError(f"registration #{registration.id} has no certificate")
    if issued.revoked_at is not None:
        raise CertificateWithdrawn(f"registration #{registration.id}'s certificate was withdrawn")
    return certificate_pages.pages([issued])[0]


def certificate_pdf(page: dict) -> bytes:
    """The certificate PDF of one page (adapters.certificates, in the certificate's language)."""
    return drawn_certificates.render_certificate(page, certificate_pages.words(page["lang"]), page["lang"])
