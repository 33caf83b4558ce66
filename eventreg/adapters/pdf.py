"""PDFs from plain-value contexts: the entry pass and the reception list with typst
(adapters.typst_pdf, templates/pdf/*.typ); ``html_to_pdf`` with WeasyPrint for HTML templates.

The typst documents get their data as JSON: every date and every localized word is formatted
here, with the same filters and catalogs as the pages (eventreg.web.filters, Babel), so a
template only lays out strings. A pass draws the QR code it is given (the kept code of
domain.registration.pass_qr); without one it encodes the pass's text (tests, tools).

WeasyPrint is imported on first use (about 0.9 s) and then kept for the life of the process,
so a request never pays for the import twice. Each thread also keeps one font configuration
(building it rescans fontconfig and drops Pango's loaded fonts: a third of a one-page pass) and
one parsed copy of templates/pdf/pdf.css, which html_to_pdf applies to every PDF; templates
need not link it.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from flask_babel import gettext

from ..web.field_words import field_titles
from ..web.filters import day, hm, when
from . import fonts, qr, typst_pdf

PDF_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "pdf"
STYLESHEET = PDF_TEMPLATES / "pdf.css"

_per_thread = threading.local()


@lru_cache(maxsize=1)
def _weasyprint():
    import weasyprint

    class LocalOnlyFetcher(weasyprint.URLFetcher):
        """Only data: URIs, files under templates/pdf and the font files of the chain (for
        pdf.css's @font-face); never the network or the disk at large."""

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            parts = urlsplit(url)
            if parts.scheme == "file" and parts.netloc in ("", "localhost"):
                # Decode %2e%2e and friends before checking, as the file opener would.
                path = Path(url2pathname(parts.path)).resolve()
                if path.is_relative_to(PDF_TEMPLATES) and path.is_file():
                    return super().fetch(path.as_uri(), headers)
                # An @font-face src: local(…) of pdf.css, resolved by fontconfig to a chain font.
                if str(path) in _chain_font_files():
                    return super().fetch(path.as_uri(), headers)
            raise ValueError(f"blocked resource: {url[:80]}")

    return weasyprint, LocalOnlyFetcher


@lru_cache(maxsize=1)
def _chain_font_files() -> frozenset[str]:
    return frozenset(str(Path(font.file).resolve()) for font in fonts.chain_fonts())


def _font_config():
    """This thread's FontConfiguration (Pango font maps are not shared between threads)."""
    config = getattr(_per_thread, "font_config", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = _per_thread.font_config = FontConfiguration()
    return config


def _stylesheet(path: Path = STYLESHEET):
    """This thread's parsed copy of ``path`` (a file in templates/pdf), parsed again when the
    file changes (saves ~10 ms a PDF)."""
    weasyprint, fetcher_class = _weasyprint()
    version = path.stat().st_mtime_ns
    cache = getattr(_per_thread, "stylesheets", None)
    if cache is None:
        cache = _per_thread.stylesheets = {}
    cached = cache.get(path)
    if cached is None or cached[0] != version:
        css = weasyprint.CSS(filename=str(path), url_fetcher=fetcher_class(),
                             font_config=_font_config())
        cached = cache[path] = (version, css)
    return cached[1]


def html_to_pdf(html: str, *, stylesheets: tuple[str, ...] = (), finisher=None) -> bytes:
    """A PDF of ``html``, styled by templates/pdf/pdf.css; relative URLs resolve in templates/pdf.

    ``stylesheets`` names further files in templates/pdf (e.g. "badge.css"), applied after
    pdf.css and cached per thread like it; ``finisher(document, pydyf_pdf)`` may edit the PDF's
    objects before it is written (WeasyPrint's hook).
    """
    weasyprint, fetcher_class = _weasyprint()
    # A fetcher per document (about 0.5 ms): urllib's opener keeps per-request state.
    document = weasyprint.HTML(
        string=html, base_url=PDF_TEMPLATES.as_uri() + "/", url_fetcher=fetcher_class()
    )
    sheets = [_stylesheet()] + [_stylesheet(PDF_TEMPLATES / name) for name in stylesheets]
    return document.write_pdf(stylesheets=sheets, font_config=_font_config(), finisher=finisher)


def pass_data(ctx: dict, code: qr.Symbol) -> dict:
    """What templates/pdf/pass.typ prints, from domain.registration.passes.pass_context's values."""
    event, session, attendee = ctx["event"], ctx["session"], ctx["attendee"]
    lang = ctx.get("language") or event["language"]
    return {
        "lang": lang, "event_lang": event["language"],
        "event": {key: event.get(key) or "" for key in (
            "title", "venue_name", "venue_address", "access_notes", "fee_note", "organizer",
            "contact_name", "contact_phone", "contact_email")},
        "session_title": session.get("title") or "",
        "when": when(session, event["timezone"], lang),
        "attendee": {key: attendee.get(key) or "" for key in (
            "full_name", "full_kana", "organization", "department")},
        "qr": qr.svg_markup(code.size, code.path),
    }


def render_pass(ctx: dict, code: qr.Symbol | None = None) -> bytes:
    """The entry pass of ``ctx``; ``code`` is the pass's kept QR code (models.PassQr or a
    qr.Symbol of ``ctx["qr_payload"]``), encoded here when not given."""
    return typst_pdf.render("pass.typ", pass_data(ctx, code or qr.symbol(ctx["qr_payload"])))


def reception_list_data(ctx: dict) -> dict:
    """What templates/pdf/reception_list.typ prints, from domain.backoffice.exports.reception_list's
    context, worded in the current locale (the worker forces the event's language)."""
    zone, lang = ctx["timezone"], ctx["language"]
    titles = field_titles()
    made = f"{day(ctx['made_at'], zone, lang)} {hm(ctx['made_at'], zone)}"
    return {
        "lang": lang, "title": ctx["title"],
        "sessions": " / ".join(
            f"{s['title'] + ' ' if s['title'] else ''}{day(s['starts_at'], zone, lang)} {hm(s['starts_at'], zone)}"
            for s in ctx["sessions"]),
        "heading": gettext("Reception list"),
        "facts": [ctx["title"] + (f" · {ctx['venue']}" if ctx["venue"] else ""),
                  gettext("%(n)s people, in 五十音 order. Made %(when)s.", n=ctx["count"], when=made)],
        "columns": [gettext("Arrived"), titles["kana"], titles["name"], titles["organization"],
                    *([titles["session"]] if ctx["several_sessions"] else [])],
        "groups": [{"heading": group["heading"], "people": [
            [p["kana"], p["name"], p["organization"] or "", p["department"] or "",
             *([p["session"]] if ctx["several_sessions"] else [])] for p in group["people"]]}
            for group in ctx["groups"]],
        "empty": "" if ctx["count"] else gettext("Nobody is confirmed yet."),
    }


def render_reception_list(ctx: dict) -> bytes:
    """The 受付名簿 (templates/pdf/reception_list.typ) of domain.backoffice.exports.reception_list's context."""
    return typst_pdf.render("reception_list.typ", reception_list_data(ctx))
