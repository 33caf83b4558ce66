"""PDF rendering with WeasyPrint: templates in templates/pdf/, plain-value contexts.

WeasyPrint is imported on first use (about 0.9 s) and then kept for the life of the process,
so a request never pays for the import twice.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import render_template

from . import qr

PDF_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "pdf"


@lru_cache(maxsize=1)
def _weasyprint():
    import weasyprint

    class LocalOnlyFetcher(weasyprint.URLFetcher):
        """Only data: URIs and files under templates/pdf; never the network or the disk at large."""

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if url.startswith("file://"):
                path = Path(url[len("file://"):].split("?")[0]).resolve()
                if path.is_relative_to(PDF_TEMPLATES):
                    return super().fetch(url, headers)
            raise ValueError(f"blocked resource: {url[:80]}")

    return weasyprint, LocalOnlyFetcher()


def html_to_pdf(html: str) -> bytes:
    weasyprint, fetcher = _weasyprint()
    return weasyprint.HTML(
        string=html, base_url=PDF_TEMPLATES.as_uri() + "/", url_fetcher=fetcher
    ).write_pdf()


def render_pass(ctx: dict) -> bytes:
    html = render_template("pdf/pass.html", **ctx, qr_src=qr.png_data_uri(ctx["qr_payload"]))
    return html_to_pdf(html)
