"""Which characters the PDFs can draw: the fonts of templates/pdf/pdf.css and what they cover.

The font-family chain of pdf.css's ``html`` rule is the one source: typst (adapters.typst_pdf,
given exactly these fonts) draws each character with the first font of the chain that has it, as
Pango and fontconfig did for WeasyPrint, so a character that no font of the chain covers would
print as a missing-glyph box. ``covers(ch)`` answers from
the union of the chain's character maps, read once per process from fontconfig's cache
(``fc-match --format %{charset}``: the same coverage Pango uses to choose a font, equal to the
fonts' cmap tables as fontTools reads them, ~15 ms instead of ~300 ms; tests/adapters/test_fonts.py
checks both agree). A family defined by an @font-face rule of pdf.css (``src: local(…)`` and a
``unicode-range``) counts as that font limited to the range. A generic family (sans-serif) at the
end of the chain is not counted: which font it names depends on the machine.

No decisions here: domain.people.text decides what to refuse, given ``covers``.
"""

from __future__ import annotations

import bisect
import logging
import re
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

STYLESHEET = Path(__file__).resolve().parents[2] / "templates" / "pdf" / "pdf.css"
GENERIC_FAMILIES = {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui"}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChainFont:
    family: str
    file: str
    index: int
    ranges: tuple[tuple[int, int], ...]  # sorted, inclusive code point ranges

    def covers(self, ch: str) -> bool:
        return _in_ranges(self.ranges, ord(ch))


def _in_ranges(ranges, code: int) -> bool:
    i = bisect.bisect_right(ranges, (code, 0x110000)) - 1
    return i >= 0 and ranges[i][0] <= code <= ranges[i][1]


def _css(stylesheet: Path) -> str:
    return re.sub(r"/\*.*?\*/", "", stylesheet.read_text(encoding="utf-8"), flags=re.S)


def _names(value: str) -> list[str]:
    return [name.strip().strip("\"'") for name in value.split(",") if name.strip()]


def chain_families(stylesheet: Path = STYLESHEET) -> list[str]:
    """The named families of the ``html { font-family: … }`` rule, in order, generics left out."""
    rule = re.search(r"(?:^|})\s*html\s*{([^}]*)}", _css(stylesheet))
    declaration = re.search(r"font-family\s*:\s*([^;}]+)", rule.group(1) if rule else "")
    if not declaration:
        raise RuntimeError(f"no font-family in the html rule of {stylesheet}")
    return [name for name in _names(declaration.group(1)) if name.lower() not in GENERIC_FAMILIES]


def font_faces(stylesheet: Path = STYLESHEET) -> dict[str, tuple[list[str], tuple[tuple[int, int], ...]]]:
    """The stylesheet's @font-face aliases: family → (local() font names, unicode-range)."""
    faces = {}
    for body in re.findall(r"@font-face\s*{([^}]*)}", _css(stylesheet)):
        family = re.search(r"font-family\s*:\s*([^;]+)", body)
        local = re.findall(r"local\(\s*[\"']?([^\"')]+)[\"']?\s*\)", body)
        ranges = re.findall(r"U\+([0-9A-Fa-f]+)(?:-([0-9A-Fa-f]+))?", body)
        if family:
            faces[_names(family.group(1))[0]] = (
                local, tuple((int(a, 16), int(b or a, 16)) for a, b in ranges) or ((0, 0x10FFFF),))
    return faces


def _parse_charset(charset: str) -> tuple[tuple[int, int], ...]:
    ranges = []
    for item in charset.split():
        start, _, end = item.partition("-")
        ranges.append((int(start, 16), int(end or start, 16)))
    return tuple(sorted(ranges))


def _merge(ranges) -> tuple[tuple[int, int], ...]:
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged)


def _fontconfig(command: str, pattern: str) -> list[str]:
    """family, fullname, file, index and charset of the first font ``fc-match`` or ``fc-list``
    gives for ``pattern``; [] when there is none."""
    try:
        out = subprocess.run(
            [command, "--format", "%{family}\t%{fullname}\t%{file}\t%{index}\t%{charset}\n", pattern],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    first = out.split("\n", 1)[0]
    return (first.split("\t") + [""] * 5)[:5] if first else []


def _listed(name: str, names: str) -> bool:
    return name.casefold() in (n.strip().casefold() for n in names.split(","))


def find_font(family: str) -> ChainFont | None:
    """The regular face fontconfig gives for ``family``, or None when it is not installed
    (fontconfig then substitutes another family, which the chain must not count)."""
    found = _fontconfig("fc-match", f"{family}:style=Regular")
    if not found or not _listed(family, found[0]):
        return None
    return ChainFont(family, found[2], int(found[3] or 0), _parse_charset(found[4]))


def find_face(family: str, local_names: list[str], unicode_range) -> ChainFont | None:
    """An @font-face alias: the first local() font installed, limited to ``unicode_range``."""
    for name in local_names:
        found = _fontconfig("fc-list", f":fullname={name}")  # exact, as WeasyPrint's local()
        if found and _listed(name, found[1]):
            charset = _parse_charset(found[4])
            ranges = tuple((max(a, c), min(b, d)) for a, b in charset for c, d in unicode_range
                           if max(a, c) <= min(b, d))
            return ChainFont(family, found[2], int(found[3] or 0), _merge(ranges))
    return None


@lru_cache(maxsize=1)
def chain_fonts() -> tuple[ChainFont, ...]:
    """The installed fonts of the chain, in order; a missing family is logged and skipped."""
    fonts, faces = [], font_faces()
    for family in chain_families():
        font = find_face(family, *faces[family]) if family in faces else find_font(family)
        if font is None:
            log.warning("PDF font family %r is not installed (run scripts/setup)", family)
        else:
            fonts.append(font)
    return tuple(fonts)


@lru_cache(maxsize=1)
def _union() -> tuple[tuple[int, int], ...]:
    return _merge(r for font in chain_fonts() for r in font.ranges)


def covers(ch: str) -> bool:
    """Whether some font of the PDF chain has a glyph for the single character ``ch``."""
    return _in_ranges(_union(), ord(ch))


def uncovered(text: str) -> list[str]:
    """The distinct characters of ``text`` (white space aside) that no font of the chain has."""
    return [ch for ch in dict.fromkeys(text) if not ch.isspace() and not covers(ch)]
