"""QR codes for passes: an SVG for pages, a PNG data URI for PDFs."""

from __future__ import annotations

import base64
import io
from functools import lru_cache

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M


def _code(payload: str) -> qrcode.QRCode:
    # Level M survives a scuffed phone screen; a 36-character payload fits version 3.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
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
    image = _code(payload).make_image(box_size=box_size)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
