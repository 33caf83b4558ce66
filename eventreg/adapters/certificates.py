"""Certificates of attendance as PDFs: templates/pdf/certificate.typ through adapters.typst_pdf.

The pages come worded and formatted (web.certificates): plain strings, the verify URL and its
code; here each URL becomes a QR code (adapters.qr, a 1-bit PNG as on the badges) and typst lays
the pages out. Nothing is decided or translated here.

Many certificates (the 1,000-certificate job) are laid out as the badge sheet is
(adapters.badges.render_badge_sheet): in chunks of CHUNK pages, typst on a second thread while
this one encodes the next chunk's QR codes (pure Python, ~1.5 ms a code: most of this side's
work), typst's memoized work dropped after each chunk (typst_pdf.forget), the untagged chunks
joined byte for byte (adapters.pdf_join).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from . import pdf_join, qr, typst_pdf

TEMPLATE = "certificate.typ"
CHUNK = 50  # pages per typst document of a batch


def _page(page: dict) -> dict:
    code = qr.symbol(page["url"])
    return {**page, "qr": list(qr.png(code.size, code.path))}  # JSON has no bytes: typst reads an array


def _document(pages: list[dict], words: dict, lang: str, sample: bool, tags: bool = True) -> bytes:
    return typst_pdf.render(TEMPLATE, {"lang": lang, "words": words, "sample": sample, "pages": pages}, tags=tags)


def render_certificate(page: dict, words: dict, lang: str, *, sample: bool = False) -> bytes:
    """One certificate (a page of web.certificates.page_data), tagged for screen readers.
    ``sample``: a preview, 見本 / SAMPLE across the page."""
    return _document([_page(page)], words, lang, sample)


def render_certificates(pages: list[dict], words_of: Callable[[str], dict], *,
                        progress: Callable[[int], None] | None = None) -> bytes:
    """Every page of ``pages`` in one PDF, for printing, in their order; each in its own language
    (``words_of(lang)``: the words of that language). ``progress(done)`` after each chunk."""
    if not pages:
        return _document([], words_of("ja"), "ja", False)

    def lay_out(chunk: list[dict], words: dict) -> bytes:
        body = _document(chunk, words, chunk[0]["lang"], False, tags=False)
        typst_pdf.forget()
        return body

    chunks: list[list[dict]] = []
    for page in pages:  # a chunk is one language: its words are the template's, once
        if not chunks or len(chunks[-1]) == CHUNK or chunks[-1][0]["lang"] != page["lang"]:
            chunks.append([])
        chunks[-1].append(page)
    parts: list[bytes] = []
    done = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="certificates") as typst_thread:
        pending = None
        for chunk in chunks:
            ready = [_page(p) for p in chunk]
            if pending is not None:
                parts.append(pending.result())
                if progress:
                    progress(done)
            pending = typst_thread.submit(lay_out, ready, words_of(chunk[0]["lang"]))  # words: here, with the app
            done += len(chunk)
        parts.append(pending.result())
    if progress:
        progress(done)
    return parts[0] if len(parts) == 1 else pdf_join.join(parts)
