"""The entry pass and the reception list as PDFs: typst templates (templates/pdf/pass.typ,
reception_list.typ) through adapters.typst_pdf.

The data comes worded and formatted (web.document_words); nothing here decides or translates.
The badge and the badge sheet are adapters.badges.
"""

from __future__ import annotations

from . import typst_pdf


def render_pass(data: dict) -> bytes:
    """The entry pass of web.document_words.pass_data's ``data``."""
    return typst_pdf.render("pass.typ", data)


def render_reception_list(data: dict) -> bytes:
    """The 受付名簿 of web.document_words.reception_list_data's ``data``."""
    return typst_pdf.render("reception_list.typ", data)
