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

from . import badges, pdf_join, qr, typst_pdf

TEMPLATE = "certificate.typ"
CHUNK = 25  # pages per typst document of a batch: 50 held ~20 MB more at the peak of a 1,000-page job

# The boxes of certificate.typ (width in mm) and, per number of lines, the largest size (pt) whose
# lines fit the box's height; the badge's text fitting (adapters.badges.fit_text) picks the size.
NAME_BOX = (200.0, ((1, 26.0), (2, 15.0)), 11.0)
TITLE_BOX = (220.0, ((1, 20.0), (2, 15.0), (3, 11.0)), 8.0)


def size_for(text: str, box) -> float:
    """The largest size at which ``text`` fits ``box`` in the fewest lines (the floor: it wraps
    and the box clips)."""
    width, steps, floor = box
    for lines, max_pt in steps:
        fit = badges.fit_text(text, width, max_pt=max_pt, min_pt=floor, max_lines=lines, phrases=False)
        if fit.fits:
            return fit.size_pt
    return floor


def _page(page: dict, version: int | None = None) -> dict:
    code = qr.symbol(page["url"], version)
    return {**page, "qr": list(qr.png(code.size, code.path)),  # JSON has no bytes: typst reads an array
            "name_size": size_for(page["name"], NAME_BOX), "title_size": size_for(page["title"], TITLE_BOX)}


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

    lengths = {len(page["url"]) for page in pages}
    # One verify-URL length (one site, one code length): one QR version for all, found once.
    version = qr.version(pages[0]["url"]) if len(lengths) == 1 else None
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
            ready = [_page(p, version) for p in chunk]
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
