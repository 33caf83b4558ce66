"""What a certificate of attendance prints, worded and formatted, and its PDF.

The words come from the catalogues in the certificate's language (the registrant's, kept on the
certificate), the dates from the same filters as the pages; adapters.certificates draws them.
The verify URL is built from BASE_URL, as every link that leaves the site (web.links).

- ``certificate_pdf(certificate)``: one issued certificate (the registration page's download, the
  post-event loop's attachment);
- ``certificates_pdf(certificates)``: many, one PDF for printing (the worker's job);
- ``sample_pdf(event, registration=None)``: a preview that issues nothing: 見本 / SAMPLE across the
  page and a code that verifies nothing; a real attendee's name and session, or a made-up person.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache

from flask import current_app, url_for
from flask_babel import force_locale, gettext

from ..adapters import certificates as drawn
from ..domain.registration import certificates
from ..models import Certificate, Event, Registration
from .filters import day, hm, local, zone

SAMPLE_CODE = "0000-0000-0000"  # a preview's code: never issued (it has no random part to guess)


@lru_cache(maxsize=4)
def _words(lang: str) -> dict:
    with force_locale(lang):
        return {
            "heading": gettext("Certificate of attendance"),
            "honorific": "様" if lang == "ja" else "",
            "sentence": gettext("This certifies that the person named above attended the following event."),
            "when": gettext("Date and time"), "venue": gettext("Venue"), "organizer": gettext("Organizer"),
            "issued": gettext("Issued on"), "code": gettext("Verification code"),
            "check": gettext("Scan the code or open this address to check the certificate:"),
            "sample": gettext("SAMPLE"), "online": gettext("Online"),
        }


def words(lang: str) -> dict:
    """The certificate's fixed words in ``lang`` (cached per process: the catalogues do not change)."""
    return _words(lang if lang in ("ja", "en") else "ja")


def when(starts: datetime, ends: datetime, tz: str, lang: str) -> str:
    """「2026年12月7日(月) 14:00–17:00(日本時間)」 / "Mon, 7 Dec 2026, 14:00–17:00 JST"; both days
    when it ends on another."""
    same_day = local(starts, tz).date() == local(ends, tz).date()
    end = hm(ends, tz) if same_day else f"{day(ends, tz, lang)} {hm(ends, tz)}"
    if lang == "ja":
        return f"{day(starts, tz, 'ja')} {hm(starts, tz)}–{end}({zone(starts, tz, 'ja')})"
    return f"{day(starts, tz, 'en')}, {hm(starts, tz)}–{end} {zone(starts, tz, 'en')}"


def verify_url(code: str) -> str:
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        return url_for("verify.certificate", code=code, _external=True)


def page_data(values: dict, code: str, url: str) -> dict:
    """One page from a certificate's printed values (Certificate's columns, or
    domain.registration.certificates.as_printed's)."""
    lang = values["language"] if values["language"] in ("ja", "en") else "ja"
    tz = values["timezone"]
    return {
        "lang": lang, "name": values["holder_name"], "title": values["event_title"],
        "session": values["session_title"],
        "when": when(values["starts_at"], values["ends_at"], tz, lang),
        "venue": words(lang)["online"] if values["online"] else values["venue"],
        "organizer": values["organizer"], "issued": day(values["issued_at"], tz, lang),
        "code": code, "url": url,
    }


COLUMNS = ("holder_name", "language", "event_title", "organizer", "session_title", "venue", "online",
           "timezone", "starts_at", "ends_at", "issued_at")


def _page(certificate: Certificate, base: str | None = None) -> dict:
    code = certificates.formatted(certificate.code)
    url = f"{base}{code}" if base else verify_url(code)
    return page_data({name: getattr(certificate, name) for name in COLUMNS}, code, url)


def certificate_pdf(certificate: Certificate) -> bytes:
    """The PDF of one issued certificate."""
    page = _page(certificate)
    return drawn.render_certificate(page, words(page["lang"]), page["lang"])


def pages(issued: list[Certificate]) -> list[dict]:
    """Plain pages of many certificates (the verify URL's base built once)."""
    base = verify_url(SAMPLE_CODE).removesuffix(SAMPLE_CODE)
    return [_page(c, base) for c in issued]


def certificates_pdf(page_list: list[dict], progress=None) -> bytes:
    """One PDF of ``page_list`` (``pages``), for printing."""
    return drawn.render_certificates(page_list, words, progress=progress)


def sample_pdf(event: Event, registration: Registration | None = None, now: datetime | None = None) -> bytes:
    """A preview: the certificate ``registration`` would get (or a made-up attendee's, in the
    event's language, for its first session), marked SAMPLE, with a code that verifies nothing."""
    now = now or datetime.now(timezone.utc)
    if registration is not None:
        values = certificates.as_printed(registration)
    else:
        session = event.sessions[0]
        lang = event.language if event.language in ("ja", "en") else "ja"
        name = "山田 花子" if lang == "ja" else "Hanako Yamada"  # a made-up person
        values = {"holder_name": name, "language": lang, "event_title": event.title,
                  "organizer": event.organizer or "", "session_title": session.title or "",
                  "venue": event.venue_name or "", "timezone": event.timezone,
                  "online": session.attendance_mode.value == "online",
                  "starts_at": session.starts_at, "ends_at": session.ends_at}
    page = page_data({**values, "issued_at": now}, SAMPLE_CODE, verify_url(SAMPLE_CODE))
    return drawn.render_certificate(page, words(page["lang"]), page["lang"], sample=True)
