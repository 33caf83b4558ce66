"""Name badges as PDFs: one 91 × 55 mm card for the reception desk, or A4 sheets of 10.

A card fits a standard business-card name holder. The sheet places 2 × 5 cards edge to edge with
14 mm side and 11 mm top/bottom margins, the layout of common perforated A4 10-up card stock,
with hairline cut guides; cards come in the order given (the caller sorts by furigana).

WeasyPrint has no fit-text, so each text gets a font size from ``fit_text``: an estimate of its
width (East Asian wide characters 1 em, others 0.55 em) wrapped greedily at its break
opportunities, the largest size (in half points) that needs at most ``max_lines`` lines, never
below a floor. Anything still too long is cut by the template's ``max-lines`` with an ellipsis,
so nothing leaves the card.

HTML is rendered in the caller's process with Flask's ``render_template`` (an app context is
needed, as for ``pdf.render_pass``); worker processes get plain HTML strings and never need Flask.
"""

from __future__ import annotations

import multiprocessing
import os
import unicodedata
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from io import BytesIO

from flask import render_template

from . import pdf, qr

PT_PER_MM = 72 / 25.4
BADGE_CSS = ("badge.css",)
CARDS_PER_PAGE = 10  # 2 columns × 5 rows
# Pages per worker task. WeasyPrint's cost per page grows with the document (measured, CPU per
# page: 5 pages 0.118 s, 10 pages 0.128 s, 20 pages 0.143 s, 25 pages 0.157 s), small chunks keep
# a worker's memory low, and 20 tasks for 1,000 attendees let 2 workers finish together.
PAGES_PER_CHUNK = 5
# One PNG pixel per QR module, scaled up by the PDF viewer without smoothing
# (image-rendering: pixelated): the smallest image to decode and embed.
QR_BOX_SIZE = 1

# Widths inside the card, in mm; they must match badge.css.
TEXT_WIDTH_MM = 58.0   # left column: kana, name, organization, department
TITLE_WIDTH_MM = 83.0  # the event title across the top

# (max pt, floor pt, max lines) per text.
TITLE_FIT = (8.0, 6.0, 2)
KANA_FIT = (9.0, 6.0, 2)
NAME_FIT = (24.0, 11.0, 3)  # a name is never cut short: a third line before an ellipsis
ORG_FIT = (10.5, 7.0, 2)
DEPT_FIT = (8.5, 6.5, 1)

# Characters that may not start a line (kinsoku): they stay with the character before them.
_NO_BREAK_BEFORE = set("、。，．,.・：；:;！？!?)）」』】〕〉》ーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々ゝゞヽヾ")
_NO_BREAK_AFTER = set("(（「『【〔〈《")


def char_em(ch: str) -> float:
    """Estimated advance width of ``ch`` in em: wide (and ambiguous) East Asian 1, others 0.55."""
    return 1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.55


def _segments(text: str, phrases: bool = False) -> list[tuple[str, float, float]]:
    """The unbreakable pieces of ``text`` with their trailing spaces: (piece, width in em,
    width of the trailing spaces in em).

    A line may break after a space or a hyphen and, unless ``phrases``, on either side of a wide
    character, except before closing punctuation and small kana or after an opening bracket
    (kinsoku). With ``phrases`` a space-separated run of wide characters stays whole.
    """
    pieces: list[list] = []
    prev = " "
    for ch in text:
        if ch.isspace():
            if pieces:
                pieces[-1][0] += " "
                pieces[-1][2] += char_em(" ")
            prev = " "
            continue
        breakable = (
            prev == " " or prev in "-‐" or (not phrases and (_wide(prev) or _wide(ch)))
        ) and ch not in _NO_BREAK_BEFORE and prev not in _NO_BREAK_AFTER
        if breakable or not pieces:
            pieces.append([ch, char_em(ch), 0.0])
        else:
            pieces[-1][0] += ch
            pieces[-1][1] += char_em(ch)
        prev = ch
    return [(piece, width, space) for piece, width, space in pieces]


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


def wrap(text: str, width_em: float, phrases: bool = False) -> list[str] | None:
    """``text`` wrapped greedily at its break opportunities into lines ``width_em`` wide.

    A piece wider than the box is cut anywhere (overflow-wrap: anywhere), or with ``phrases``,
    where no word may be cut, makes the text unfit: None.
    """
    lines: list[list] = []  # [text, width in em]
    used = 0.0
    for piece, width, space in _segments(text, phrases):
        if lines and used + width <= width_em:
            lines[-1][0] += piece
            used += width + space
            continue
        if width > width_em:
            if phrases:
                return None
            # Box-wide slices; the last one starts a line like any piece.
            while width > width_em:
                cut, taken = _cut(piece, width_em)
                lines.append([cut, taken])
                piece, width = piece[len(cut):], width - taken
        lines.append([piece, width])
        used = width + space
    return [line.rstrip() for line, _ in lines]


def _cut(piece: str, width_em: float) -> tuple[str, float]:
    """The longest start of ``piece`` (at least one character) no wider than ``width_em``."""
    taken, end = 0.0, 0
    for end, ch in enumerate(piece):
        if end and taken + char_em(ch) > width_em:
            return piece[:end], taken
        taken += char_em(ch)
    return piece, taken


@dataclass(frozen=True)
class Fit:
    size_pt: float
    lines: list[str]  # the estimated lines; with ``phrases`` the template breaks exactly there
    phrases: bool  # True: lines break only between space-separated words (no word is cut)
    fits: bool  # False: even at the floor it needs more than max lines (the template clips it)


def fit_text(text: str, width_mm: float, *, max_pt: float, min_pt: float, max_lines: int = 2,
             phrases: bool = True, slack: float = 0.94) -> Fit:
    """The font size for ``text`` in a box ``width_mm`` wide: the largest, in steps of 0.5 pt
    from ``max_pt`` down to ``min_pt``, at which it needs at most ``max_lines`` lines (fewest
    lines first). Lines that break only between words (「特定非営利活動法人 / ちば…」) are
    preferred to lines that cut a word, as long as the floor allows them (unless ``phrases`` is
    false: then any break the browser may take counts). ``slack`` keeps a margin for the width
    estimate."""
    width_pt = width_mm * PT_PER_MM * slack
    sizes = [max_pt - 0.5 * i for i in range(int((max_pt - min_pt) / 0.5) + 1)]
    for by_words in (True, False) if phrases else (False,):
        for allowed in range(1, max_lines + 1):
            for size in sizes:
                lines = wrap(text, width_pt / size, by_words)
                if lines is not None and len(lines) <= allowed:
                    return Fit(size, lines, by_words, True)
    return Fit(min_pt, wrap(text, width_pt / min_pt), False, False)


def _fit(text: str | None, width_mm: float, spec: tuple[float, float, int], phrases=True) -> Fit:
    max_pt, min_pt, max_lines = spec
    return fit_text(text or "", width_mm, max_pt=max_pt, min_pt=min_pt, max_lines=max_lines,
                    phrases=phrases)


# Vertical room of the text column and the line heights and gaps of badge.css, in mm.
WHO_HEIGHT_MM = 40.0
_LINE_HEIGHT = {"kana": 1.25, "name": 1.15, "org": 1.25, "dept": 1.25}
_GAP_MM = {"kana": 0.0, "name": 0.6, "org": 2.0, "dept": 0.3}


def card(ctx: dict) -> dict:
    """What the template needs for one card: texts, their font sizes, the top padding that
    centres the text column vertically, and the QR image."""
    attendee, event = ctx["attendee"], ctx["event"]
    texts = {
        "kana": (attendee.get("full_kana") or "", KANA_FIT),
        "name": (attendee["full_name"], NAME_FIT),
        "org": (attendee.get("organization") or "", ORG_FIT),
        "dept": (attendee.get("department") or "", DEPT_FIT),
    }
    size, lines_of, height = {}, {}, 0.0
    for key, (text, spec) in texts.items():
        fit = _fit(text, TEXT_WIDTH_MM, spec)
        size[key] = fit.size_pt
        # Breaks between words are placed by us (white-space: pre-line in the template): a
        # <span> per word would cost a fifth of the sheet's layout time.
        if fit.phrases and len(fit.lines) > 1:
            lines_of[key] = fit.lines
        if text or key == "name":
            lines = min(len(fit.lines), spec[2])
            height += _GAP_MM[key] + lines * fit.size_pt / PT_PER_MM * _LINE_HEIGHT[key]
    size["title"] = _fit(event["title"], TITLE_WIDTH_MM, TITLE_FIT, phrases=False).size_pt
    return {
        "title": event["title"],
        "kana": texts["kana"][0], "name": texts["name"][0],
        "org": texts["org"][0], "dept": texts["dept"][0],
        "lang": event.get("language") or "ja",
        "size": size,
        "lines": lines_of,
        "pad_mm": round(max(0.0, (WHO_HEIGHT_MM - height) / 2), 1),
        "qr_src": qr.png_data_uri(ctx["qr_payload"], box_size=QR_BOX_SIZE),
    }


def _open_print_dialog(document, pdf_file) -> None:
    """WeasyPrint finisher: the viewer opens the print dialog (Chrome's and Firefox's PDF viewers
    run this one call) and prints at 100 %, not shrunk to the printer's paper."""
    import pydyf

    action = pydyf.Dictionary({
        "Type": "/Action", "S": "/JavaScript",
        "JS": pydyf.String("this.print({bUI: true, bSilent: false, bShrinkToFit: false});"),
    })
    pdf_file.add_object(action)
    pdf_file.catalog["OpenAction"] = action.reference
    pdf_file.catalog["ViewerPreferences"] = pydyf.Dictionary({"PrintScaling": "/None"})


def render_badge(ctx: dict, *, print_dialog: bool = True) -> bytes:
    """One 91 × 55 mm page. With ``print_dialog`` the PDF asks its viewer to print on opening."""
    html = render_template("pdf/badge.html", pages=[[card(ctx)]], sheet=False)
    return pdf.html_to_pdf(html, stylesheets=BADGE_CSS,
                           finisher=_open_print_dialog if print_dialog else None)


def render_badge_sheet(ctxs: list[dict], *, workers: int | None = None,
                       progress: Callable[[int], None] | None = None) -> bytes:
    """A4 pages of 10 cards (2 columns × 5 rows), in the order of ``ctxs``.

    ``progress(cards_done)`` is called after each chunk of PAGES_PER_CHUNK pages; an exception
    it raises stops the rendering (chunks not started are dropped) and propagates.
    """
    if len(ctxs) <= CARDS_PER_PAGE * PAGES_PER_CHUNK:  # one chunk: no pool, no merge
        body = pdf.html_to_pdf(_sheet_html([card(c) for c in ctxs]), stylesheets=BADGE_CSS)
        if progress:
            progress(len(ctxs))
        return body
    return _render_chunks(ctxs, workers or min(2, os.cpu_count() or 1), progress)


def _sheet_html(cards: list[dict]) -> str:
    pages = [cards[i:i + CARDS_PER_PAGE] for i in range(0, len(cards), CARDS_PER_PAGE)]
    return render_template("pdf/badge.html", pages=pages, sheet=True)


def _render_chunks(ctxs: list[dict], workers: int, progress: Callable[[int], None] | None = None) -> bytes:
    """Chunks of PAGES_PER_CHUNK pages laid out in worker processes, joined with pypdf.

    WeasyPrint's layout is the cost (about 0.12 s of CPU a page) and runs on one core, so it is
    split across processes. Document.copy(pages) would join pages into one PDF with a single font
    subset, but laid-out pages cannot leave the process that made them (they hold Pango
    objects), so it cannot use the second core, and it keeps every page's layout in memory;
    pypdf joins finished chunk PDFs instead (each embeds its own IPAexGothic subset: about
    1.5 MB for 100 pages). The parent builds each chunk's cards (QR codes: ~5 ms each the first
    time, then cached) and HTML while the workers lay out earlier chunks, keeping two chunks per
    worker queued: chunks are joined (and ``progress`` reported) in order as they finish.
    Workers are forked from a "forkserver": a clean process that imported WeasyPrint once, not a
    fork of a possibly multi-threaded web process holding Pango and fontconfig state. It is
    started with the first big sheet and stays for the life of the process; the workers end
    with each sheet.
    """
    from pypdf import PdfWriter

    chunk = CARDS_PER_PAGE * PAGES_PER_CHUNK
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["eventreg.adapters.pdf", "weasyprint"])
    starts = iter(range(0, len(ctxs), chunk))
    writer = PdfWriter()
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:

        def submit_next(pending: deque) -> None:
            start = next(starts, None)
            if start is not None:
                html = _sheet_html([card(c) for c in ctxs[start:start + chunk]])
                pending.append((start, pool.submit(pdf.html_to_pdf, html, stylesheets=BADGE_CSS)))

        try:
            pending: deque = deque()
            for _ in range(2 * workers):  # enough queued that no worker waits for the parent
                submit_next(pending)
            while pending:
                start, future = pending.popleft()
                submit_next(pending)  # the parent builds the next chunk while the workers lay out
                writer.append(BytesIO(future.result()))
                if progress:
                    progress(min(start + chunk, len(ctxs)))
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
