"""QR codes for passes: SVG path data for documents (kept per pass), an SVG for pages, a PNG data URI."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from functools import lru_cache

import qrcode
import qrcode.image.pil
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M

QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks


def _code(payload: str, box_size: int = 10) -> qrcode.QRCode:
    # Level M survives a scuffed phone screen. A pass (domain.registration.passes) is ~161
    # decimal digits: the library puts an all-digit text in numeric mode (10 bits per 3 digits),
    # a version 5 symbol (37 modules; tests/adapters/test_qr.py reads the version back).
    # A fixed mask: trying all eight (the library's default) costs 5 ms a code, 5 s of a
    # 1,000-badge sheet; any mask is valid for decoders, and the tests decode every kind we draw.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE, box_size=box_size,
                         mask_pattern=0)
    code.add_data(payload)
    code.make(fit=True)
    return code


@lru_cache(maxsize=4096)
def svg(payload: str) -> str:
    """Inline SVG markup that scales to its container."""
    image = _code(payload).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode")


@lru_cache(maxsize=4096)
def png_data_uri(payload: str, box_size: int = 8) -> str:
    """A black-and-white PNG, ``box_size`` pixels per module, quiet zone included.

    Draw it with ``image-rendering: pixelated`` so a PDF viewer scales it without smoothing.
    """
    image = _code(payload, box_size).make_image(image_factory=qrcode.image.pil.PilImage)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@dataclass(frozen=True)
class Symbol:
    size: int  # modules across, quiet zone included
    path: str  # dark modules as SVG path data, one unit a module (viewBox 0 0 size size)


def symbol(payload: str) -> Symbol:
    """The code of ``payload`` as path data: one rectangle per horizontal run of dark modules
    (a 37-module pass is ~300 runs, ~4 KB), which typst, reportlab and SVG all draw exactly."""
    matrix = _code(payload).get_matrix()
    runs = []
    for y, row in enumerate(matrix):
        x, width = 0, len(row)
        while x < width:
            if row[x]:
                start = x
                while x < width and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return Symbol(len(matrix), "".join(runs))


def svg_markup(size: int, path: str) -> str:
    """A standalone SVG of a kept code (``Symbol`` or models.PassQr), crisp at any scale."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
            f'shape-rendering="crispEdges"><rect width="{size}" height="{size}" fill="#fff"/>'
            f'<path d="{path}"/></svg>')
