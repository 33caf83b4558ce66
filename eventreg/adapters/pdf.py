"""PDF rendering with WeasyPrint: templates in templates/pdf/, plain-value contexts.

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

from flask import render_template

from . import fonts, qr

PDF_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "pdf"
STYLESHEET = PDF_TEMPLATES / "pdf.css"
QR_BOX_SIZE = 4  # pixels per module in the PNG; drawn unsmoothed (image-rendering: pixelated)

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


def render_pass(ctx: dict) -> bytes:
    qr_src = qr.png_data_uri(ctx["qr_payload"], box_size=QR_BOX_SIZE)
    html = render_template("pdf/pass.html", **ctx, qr_src=qr_src)
    return html_to_pdf(html)


def render_reception_list(ctx: dict) -> bytes:
    """The 受付名簿 (templates/pdf/reception_list.html) of domain.backoffice.exports.reception_list's context."""
    html = render_template("pdf/reception_list.html", **ctx)
    return html_to_pdf(html, stylesheets=("reception_list.css",))
