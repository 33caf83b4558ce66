"""Name badges as PDFs: one 91 × 55 mm card for the reception desk, or A4 sheets of 10.

A card fits a standard business-card name holder. The sheet places 2 × 5 cards edge to edge with
14 mm side and 11 mm top/bottom margins, the layout of common perforated A4 10-up card stock,
with hairline cut guides; cards come in the order given (the caller sorts by furigana).

**Rendered with typst** (templates/pdf/badge.typ through adapters.typst_pdf), chosen by measuring
the same 1,000 badges three ways in one run (bench/documents.py; docs/fonts.md has the figures and
the reasons): typst lays out the sheet in ~1 CPU-second in one process and keeps every glyph of
the font chain (𠮷 falls back to Noto Sans CJK JP); reportlab is about as fast but has no font
fallback, no Japanese line breaking, and cannot embed Noto Sans CJK JP (CFF outlines);
WeasyPrint needed ~16 CPU-seconds and ~200 MB more.

**Text fitting stays in Python** (``fit_text``): an estimate of each text's width (East Asian wide
characters 1 em, others 0.55 em) wrapped greedily at its break opportunities with kinsoku, the
largest size (in half points) that needs at most ``max_lines`` lines, never below a floor. typst
draws the lines chosen here when they break between words, and otherwise wraps the text itself
at its real widths; it measures a text only when the estimate says even the floor is too big,
to draw the ellipsis only if it is needed (measuring every text at each size doubled the layout
time: docs/fonts.md).

**The QR code** of each pass is its kept code (domain.registration.pass_qr, encoded once when the
pass is issued): a context carries it as ``qr_code`` (size, SVG path data), drawn as a 1-bit PNG
(adapters.qr.png), so a sheet encodes nothing. A context without one (a preview, a test) is
encoded here.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

from . import qr, typst_pdf

PT_PER_MM = 72 / 25.4
TEMPLATE = "badge.typ"
# The links for passes.pass_context: a badge prints none (building the masked ones costs 0.4 ms a
# person, 0.4 s of a 1,000-badge sheet).
NO_LINKS = dict.fromkeys(("registration", "cancel", "pdf", "ics"), "")
CARDS_PER_PAGE = 10  # 2 columns × 5 rows
CHUNK_PAGES = 5  # pages per typst document of a sheet: 10 pages held ~18 MB more at the peak of a 1,000-badge job

# Widths inside the card, in mm; they must match badge.typ.
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
    return _wrap(_segments(text, phrases), width_em, phrases)


def _wrap(segments, width_em: float, phrases: bool) -> list[str] | None:
    lines: list[list] = []  # [text, width in em]
    used = 0.0
    for piece, width, space in segments:
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
    lines: list[str]  # the estimated lines (shared by the cache: never changed by a caller)
    phrases: bool  # True: lines break only between space-separated words (no word is cut)
    fits: bool  # False: even at the floor it needs more than max lines (the template clips it)


@lru_cache(maxsize=4096)  # a sheet repeats its title and many organizations
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
        fit = _largest_fitting(_segments(text, by_words), by_words, width_pt, sizes, max_lines)
        if fit is not None:
            return fit
    return Fit(min_pt, wrap(text, width_pt / min_pt), False, False)


def _largest_fitting(segments, by_words: bool, width_pt: float, sizes: list[float],
                     max_lines: int) -> Fit | None:
    """fit_text for one way of breaking: fewest lines first, then the largest size (from
    ``sizes``, largest first). Smaller sizes never need more lines, so each line count's largest
    size is found by bisection, and each size is wrapped at most once."""
    wrapped: dict[float, list[str] | None] = {}

    def lines_at(size: float) -> list[str] | None:
        if size not in wrapped:
            wrapped[size] = _wrap(segments, width_pt / size, by_words)
        return wrapped[size]

    for allowed in range(1, max_lines + 1):
        low, high = 0, len(sizes)
        while low < high:
            middle = (low + high) // 2
            lines = lines_at(sizes[middle])
            if lines is not None and len(lines) <= allowed:
                high = middle
            else:
                low = middle + 1
        if low < len(sizes):
            return Fit(sizes[low], lines_at(sizes[low]), by_words, True)
    return None


def _fit(text: str | None, width_mm: float, spec: tuple[float, float, int], phrases=True) -> Fit:
    max_pt, min_pt, max_lines = spec
    return fit_text(text or "", width_mm, max_pt=max_pt, min_pt=min_pt, max_lines=max_lines,
                    phrases=phrases)


# Vertical room of the text column, and the line pitch (em) and gap above (mm) of each text in badge.typ.
WHO_HEIGHT_MM = 40.0
_LINE_PITCH = {"kana": 1.25, "name": 1.15, "org": 1.25, "dept": 1.25}
_GAP_MM = {"kana": 0.0, "name": 0.6, "org": 2.0, "dept": 0.3}
_SPECS = {"kana": KANA_FIT, "name": NAME_FIT, "org": ORG_FIT, "dept": DEPT_FIT}
ELLIPSIS = "…"


@lru_cache(maxsize=4096)  # the title on every card, many organizations
def _breakable(text: str, size_pt: float, width_mm: float = TEXT_WIDTH_MM) -> list:
    """``text`` as one line for typst to wrap: its pieces, each piece too long for a box
    ``width_mm`` wide at ``size_pt`` marked ``{"w": piece}``, which badge.typ lets break between
    any two characters (CSS overflow-wrap: anywhere; typst itself never breaks inside a word,
    it would run out of the box). Cached: never changed by a caller."""
    width_em = width_mm * PT_PER_MM / size_pt
    parts: list = []
    for piece, width, _space in _segments(text):
        if width > width_em:
            parts.append({"w": piece})
        elif parts and isinstance(parts[-1], str):
            parts[-1] += piece
        else:
            parts.append(piece)
    return [parts]


def _drawn(text: str, fit: Fit, max_lines: int) -> dict:
    """What badge.typ draws for a text: its size, its lines (the estimated lines when they break
    between words, else the whole text for typst to wrap at its real widths, as a browser would)
    and the most lines it may take; when the estimate says even the floor needs more, also the
    estimated lines cut to ``max_lines`` with an ellipsis (``e``), which typst draws only if its
    real wrapping needs more lines too (CSS line-clamp)."""
    drawn: dict = {"s": fit.size_pt, "n": max_lines}
    if fit.fits and fit.phrases:
        drawn["l"] = fit.lines
        return drawn
    drawn["l"] = _breakable(text, fit.size_pt)
    if not fit.fits:
        lines = fit.lines[:max_lines]
        drawn["e"] = [*lines[:-1], lines[-1][:-1].rstrip() + ELLIPSIS]
    return drawn


def card(ctx: dict) -> dict:
    """What badge.typ needs for one card: each text's size, lines and most lines, the top
    padding that centres the text column vertically, and the QR code as a PNG."""
    attendee, event = ctx["attendee"], ctx["event"]
    texts = {"kana": attendee.get("full_kana"), "name": attendee["full_name"],
             "org": attendee.get("organization"), "dept": attendee.get("department")}
    out, height = {}, 0.0
    for key, text in texts.items():
        if not text and key != "name":
            out[key] = None
            continue
        max_lines = _SPECS[key][2]
        fit = _fit(text, TEXT_WIDTH_MM, _SPECS[key])
        out[key] = _drawn(text or "", fit, max_lines)
        lines = min(max(len(fit.lines), 1), max_lines)
        height += _GAP_MM[key] + lines * fit.size_pt / PT_PER_MM * _LINE_PITCH[key]
    code = ctx.get("qr_code") or qr.symbol(ctx["qr_payload"])
    size, path = (code["size"], code["path"]) if isinstance(code, dict) else (code.size, code.path)
    title = _fit(event["title"], TITLE_WIDTH_MM, TITLE_FIT, phrases=False).size_pt
    out.update(
        title={"s": title, "l": _breakable(event["title"], title, TITLE_WIDTH_MM)},
        pad=round(max(0.0, (WHO_HEIGHT_MM - height) / 2), 1),
        qr=list(qr.png(size, path)),  # JSON has no bytes: typst reads them back with bytes(array)
    )
    return out


def _document(cards: list[dict], sheet: bool, language: str) -> bytes:
    return typst_pdf.render(TEMPLATE, {"sheet": sheet, "lang": language, "cards": cards})


def _open_print_dialog(body: bytes) -> bytes:
    """The viewer opens the print dialog on opening (Chrome's and Firefox's PDF viewers run this
    one call) and prints at 100 %, not shrunk to the printer's paper."""
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter(clone_from=io.BytesIO(body))
    action = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Action"), NameObject("/S"): NameObject("/JavaScript"),
        NameObject("/JS"): TextStringObject("this.print({bUI: true, bSilent: false, bShrinkToFit: false});"),
    }))
    writer._root_object[NameObject("/OpenAction")] = action
    writer._root_object[NameObject("/ViewerPreferences")] = DictionaryObject(
        {NameObject("/PrintScaling"): NameObject("/None")})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def render_badge(ctx: dict, *, print_dialog: bool = True) -> bytes:
    """One 91 × 55 mm page. With ``print_dialog`` the PDF asks its viewer to print on opening."""
    body = _document([card(ctx)], False, ctx["event"].get("language") or "ja")
    return _open_print_dialog(body) if print_dialog else body


def render_badge_sheet(ctxs: list[dict], *, progress: Callable[[int], None] | None = None) -> bytes:
    """A4 pages of 10 cards (2 columns × 5 rows), in the order of ``ctxs``.

    Laid out in chunks of CHUNK_PAGES pages, typst's memoized work dropped after each
    (typst_pdf.forget): one typst document of 1,000 cards holds ~150 MB while it is laid out, a
    chunk of 50 ~15 MB. typst lays out a chunk on a second thread (it lets go of the GIL) while
    this one prepares the next chunk's cards, so a sheet uses two cores in one process. The
    chunks are joined with pypdf (each embeds its own font subsets: a few hundred KB more for
    1,000 badges). ``progress(cards_done)`` is called after each chunk; an exception it raises
    stops the rendering (the chunk being laid out is finished and dropped) and propagates.
    """
    language = (ctxs[0]["event"].get("language") if ctxs else None) or "ja"
    if not ctxs:
        return _document([], True, language)
    chunk = CARDS_PER_PAGE * CHUNK_PAGES

    def lay_out(cards: list[dict]) -> bytes:
        body = _document(cards, True, language)
        typst_pdf.forget()
        return body

    parts: list[bytes] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="badge-sheet") as typst_thread:
        pending = None
        for start in range(0, len(ctxs), chunk):
            cards = [card(c) for c in ctxs[start:start + chunk]]
            if pending is not None:
                parts.append(pending.result())
                if progress:
                    progress(start)
            pending = typst_thread.submit(lay_out, cards)
        parts.append(pending.result())
    if progress:
        progress(len(ctxs))
    if len(parts) == 1:
        return parts[0]
    from pypdf import PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(io.BytesIO(part))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
