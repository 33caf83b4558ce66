"""Fonts for the badge the desk prints from the browser (static/desk/badge.js), made small.

A phone or laptop at the desk may have no font with 𠮷, 髙 or 﨑, and an offline desk cannot ask the
server for a PDF. So the desk gets the PDF chain's own fonts (adapters.fonts: Noto Sans LGC,
IPAexGothic, Noto Sans CJK JP, docs/fonts.md), cut down with fontTools to the characters it may
print: the event's names, kana, organizations and title, plus BASE (ASCII, kana, punctuation,
full-width forms) for what a walk-in types. Each character goes to the first font of the chain
that has it, as WeasyPrint chooses; each font's part becomes one WOFF2 face of the family
FAMILY, limited by unicode-range to its characters, and renamed, so that a browser's print of the
card can be told apart from a system font (tests read the font names back from a PDF).

A character no font of the chain has is left out: the form refuses such names (docs/fonts.md).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache

from fontTools import subset as ft_subset
from fontTools.ttLib import TTFont

from . import fonts

FAMILY = "Eventreg Badge"
BASE = "".join(map(chr, [*range(0x20, 0x7F), *range(0x3000, 0x3040), *range(0x3041, 0x3097),
                         *range(0x30A0, 0x3100), *range(0xFF01, 0xFF5F), 0x00D7, 0x00B7, 0x2010,
                         0x2015, 0x2026, 0x203B, 0x301C]))


@dataclass(frozen=True)
class Face:
    name: str      # "<digest>.woff2": the URL's last part, a hash of the font it is cut from (alike on every server)
    version: str   # a hash of the characters cut: the URL's ?v=, so a cache never keeps an older cut
    ranges: str    # CSS unicode-range
    data: bytes    # WOFF2


def _unicode_range(codes: list[int]) -> str:
    runs: list[list[int]] = []
    for code in sorted(codes):
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return ", ".join(f"U+{a:X}" if a == b else f"U+{a:X}-{b:X}" for a, b in runs)


def _cut(font: fonts.ChainFont, codes: list[int], part: int) -> bytes:
    options = ft_subset.Options()
    options.hinting = False                # printed at 300 dpi and more: hints only add bytes
    options.name_IDs = []                  # names are set below
    options.notdef_outline = True
    name = f"EventregBadge{part}"
    out = io.BytesIO()
    # recalcTimestamp off: the same cut gives the same bytes in every process and on every server.
    with TTFont(font.file, fontNumber=font.index, lazy=True, recalcTimestamp=False, recalcBBoxes=False) as ttf:
        subsetter = ft_subset.Subsetter(options)
        subsetter.populate(unicodes=codes)
        subsetter.subset(ttf)
        for name_id, value in ((1, name), (2, "Regular"), (4, name), (6, name)):
            ttf["name"].setName(value, name_id, 3, 1, 0x409)
        ttf.flavor = "woff2"
        ttf.save(out)
    return out.getvalue()


@lru_cache(maxsize=64)
def faces(text: str) -> tuple[Face, ...]:
    """The faces that draw ``text`` (and BASE) with the PDF chain's fonts, first font first."""
    wanted = sorted({ord(ch) for ch in text + BASE if not ch.isspace() or ch == " "})
    chain = fonts.chain_fonts()
    parts: dict[int, list[int]] = {}
    for code in wanted:
        for i, font in enumerate(chain):
            if font.covers(chr(code)):
                parts.setdefault(i, []).append(code)
                break
    made = []
    for i, codes in sorted(parts.items()):
        data = _cut(chain[i], codes, i + 1)
        # Named by the font it is cut from, not by its bytes or characters: every worker and server
        # names a face alike, and a stylesheet read before a walk-in added a name still names a face
        # the server has (now cut with more characters: a superset of what that stylesheet asks
        # for). Until then a face named by its characters answered 404 (CI: the desk's second walk-in).
        source = f"{chain[i].file}\0{chain[i].index}".encode()
        version = hashlib.sha256(",".join(map(str, codes)).encode()).hexdigest()[:12]
        made.append(Face(hashlib.sha256(source).hexdigest()[:20] + ".woff2", version, _unicode_range(codes), data))
    return tuple(made)
