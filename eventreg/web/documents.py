"""The entry pass and the reception list: what they print, worded and formatted, and the PDFs.

Every date and every localized word is made here, with the same filters and catalogs as the
pages (web.filters, Babel), so a template only lays out strings and the adapter decides nothing.
"""

from __future__ import annotations

from flask_babel import gettext

from ..adapters import pdf, qr
from ..domain.registration import pass_qr
from ..extensions import db
from .field_words import field_titles
from .filters import day, hm, when


def pass_symbol(registration) -> qr.Symbol:
    """The pass's QR code as kept when its mail issued it (domain.registration.pass_qr). A pass
    with none yet (its mail not sent yet, or issued before codes were kept) is encoded for this
    answer only: a page or a document a GET asks for writes nothing (the mail and the badge
    sheet job keep codes)."""
    kept = pass_qr.symbol(registration, qr.symbol)
    code = qr.Symbol(kept.size, kept.path)
    if kept in db.session.new or kept in db.session.dirty:
        db.session.expunge(kept)
    return code


def pass_data(ctx: dict, code: qr.Symbol | None = None) -> dict:
    """What templates/pdf/pass.typ prints, from domain.registration.passes.pass_context's values.

    ``code`` is the pass's kept QR code (models.PassQr or a qr.Symbol of ``ctx["qr_payload"]``);
    without one the pass's text is encoded here (tests, tools).
    """
    code = code or qr.symbol(ctx["qr_payload"])
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


def pass_pdf(ctx: dict, code: qr.Symbol | None = None) -> bytes:
    """The entry pass PDF of ``ctx`` (see ``pass_data``)."""
    return pdf.render_pass(pass_data(ctx, code))


def reception_list_pdf(ctx: dict) -> bytes:
    """The 受付名簿 PDF of domain.backoffice.exports.reception_list's context, in the current locale."""
    return pdf.render_reception_list(reception_list_data(ctx))
