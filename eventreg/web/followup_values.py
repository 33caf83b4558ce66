"""What the post-event loop's mails say to one person, beyond the registration's own values
(domain.registration.passes.pass_context): the survey link, the organizer's no-show words, the
materials link, the unsubscribe header. Used by the worker at delivery and by the organizer's
preview, so the preview is the email, except that a preview never carries a secret: its survey
and unsubscribe links are placeholders (web.links.MASK).
"""

from __future__ import annotations

from flask import current_app

from ..domain.communication import followups
from ..models import Event, MailKind, Registration
from . import links

try:  # helper `survey`'s link (issue 17); until main has it, no survey invitation is queued
    from .links import survey_link
except ImportError:  # pragma: no cover - gone once main has merged it
    survey_link = None

KIND_NAMES = {kind.value: part for part, kind in followups.KINDS.items()}


def values(registration: Registration, kind: str, ctx: dict, *, preview: bool = False) -> dict:
    """The extra template values of a ``followup_*`` mail of ``registration``; ``ctx`` is its
    pass_context (its ``links`` masked for a preview)."""
    event: Event = registration.event
    part = KIND_NAMES[kind]
    found = {"followup": {"part": part, "noshow_text": event.noshow_text or "",
                          "materials_url": event.materials_url or ""}}
    if part == "survey":
        found["survey_link"] = _survey_link(registration, preview)
    if part in followups.ORGANIZER_MESSAGES:  # organizer messages: the unsubscribe link and header
        found["list_unsubscribe"] = ctx["links"]["unsubscribe"]
    return found


def _survey_link(registration: Registration, preview: bool) -> str:
    if not preview and survey_link is None:
        raise LookupError("no survey link on this installation")  # never send a dead link
    if preview:
        base = current_app.config["BASE_URL"].rstrip("/")
        return f"{base}/s/{links.MASK}"
    return survey_link(registration)


def is_followup(kind: MailKind | str) -> bool:
    return (kind.value if isinstance(kind, MailKind) else kind) in KIND_NAMES


def certificate_page(registration: Registration, lang: str) -> dict:
    """The certificate's page as plain values, read at delivery (helper `certs`' web.certificates)."""
    raise LookupError("certificates are not on this installation yet")


def certificate_pdf(page: dict) -> bytes:
    """The certificate PDF of one page (adapters.certificates through helper `certs`' words)."""
    raise LookupError("certificates are not on this installation yet")
