"""PDFs with typst: a template in templates/pdf/*.typ plus plain data → PDF bytes.

typst (the Rust typesetter, through its Python binding) lays out a one-page document in ~2 ms
once its fonts are loaded and a 1,000-badge sheet in well under a second (docs/benchmarks.md has
the side-by-side figures with WeasyPrint and reportlab). Data reaches a template as one JSON
value: the template reads it with ``json(bytes(sys.inputs.data))``, so nothing the attendee typed
is ever parsed as typst markup.

The font chain is the one of adapters.fonts (the form refuses what it does not cover): each
template starts with ``#set text(font: chain)`` after the preamble this module prepends, which
defines ``chain`` from ``fonts.chain_fonts()``; a font limited to a range (the Latin/Greek/Cyrillic
alias) is limited with typst's ``covers``. Only the chain's font files are given to typst
(``ignore_system_fonts``), so a PDF can never fall back to a font the form does not know.

One compiler per process, built on first use (~80 ms: it indexes the chain's font files) and
guarded by a lock: a compile holds it for milliseconds (a sheet for under a second, in the
worker), and one compiler keeps one copy of the fonts in memory.
"""

from __future__ import annotations

import json
import subprocess
import threading
from functools import lru_cache
from pathlib import Path

from . import fonts

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "pdf"

_lock = threading.Lock()
CACHE_AGE = 10  # typst-py's comemo::evict(10): compiles before unused memoized work is dropped


def _family(font: fonts.ChainFont) -> str:
    """The family name typst knows the font file by (its first name-table family)."""
    out = subprocess.run(["fc-query", "-i", str(font.index), "-f", "%{family[0]}", font.file],
                         capture_output=True, text=True, check=True, timeout=10).stdout
    return out.strip() or font.family


def _covers(ranges) -> str:
    parts = "".join(f"\\u{{{a:04X}}}-\\u{{{b:04X}}}" for a, b in ranges)
    return f'regex("[{parts}]")'


@lru_cache(maxsize=1)
def preamble() -> str:
    """``#let chain = (…)``: the typst font list of the chain, in order."""
    entries = []
    for font in fonts.chain_fonts():
        name = json.dumps(_family(font))
        if font.ranges == ((0, 0x10FFFF),) or font.family == _family(font):
            entries.append(name)
        else:
            entries.append(f"(name: {name}, covers: {_covers(font.ranges)})")
    return f"#let chain = ({', '.join(entries)},)\n"


@lru_cache(maxsize=1)
def _compiler():
    import typst

    dirs = sorted({str(Path(font.file).parent) for font in fonts.chain_fonts()})
    return typst.Compiler(font_paths=dirs, ignore_system_fonts=True)


@lru_cache(maxsize=16)
def _source(name: str, version: int) -> bytes:
    del version  # part of the cache key only: an edited template is read again
    return (preamble() + (TEMPLATES / name).read_text(encoding="utf-8")).encode()


def forget() -> None:
    """Let go of what typst memoized while compiling the documents before (~0.25 MB a badge).

    typst-py keeps the memoized work of a compile until ten later compiles have not used it
    (comemo::evict(10) after each compile), so a 1,000-badge sheet would stay in memory until ten
    more documents were made. Ten empty compiles (~1 ms each) age it out; what they use (the
    fonts) stays. Big documents are made in chunks with this call in between (adapters.badges).
    """
    with _lock:
        compiler = _compiler()
        for _ in range(CACHE_AGE):
            compiler.compile(input=b"")


def render(name: str, data) -> bytes:
    """The PDF of templates/pdf/``name`` (a .typ file) with ``data`` (anything JSON can carry)."""
    source = _source(name, (TEMPLATES / name).stat().st_mtime_ns)
    inputs = {"data": json.dumps(data, ensure_ascii=False, separators=(",", ":"))}
    with _lock:
        return _compiler().compile(input=source, sys_inputs=inputs)
