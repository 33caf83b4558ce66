"""QR codes read back by an independent decoder (zxing-cpp)."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from eventreg.adapters import qr
from eventreg.domain.registration.passes import new_entry_id, sign_er2, sign_pass

# payload -> modules per side with the quiet zone
PAYLOADS = {
    "ER1:Zq3xY8vLm2Pk7sT1wR5nB4cD6fG9hJ0a": 37,  # 36 characters: version 3 (29 modules)
    sign_pass("a seed", 42, 1, 1): 45,  # a pass (format 3, 160 digits): version 5 (37 modules)
    sign_pass("a seed", 2**31 - 1, 2**31 - 1, 2**32 - 1): 45,  # largest ids (180 digits): still version 5
    sign_er2("a seed", 42, new_entry_id(), 1): 49,  # a pass mailed before format 3: version 6 (41 modules)
}


def png_image(payload: str, scale: int = 1) -> Image.Image:
    """The kept code of ``payload`` as documents draw it: one pixel a module, scaled up unsmoothed."""
    kept = qr.symbol(payload)
    image = Image.open(io.BytesIO(qr.png(kept.size, kept.path))).convert("L")
    return image.resize((image.width * scale,) * 2, Image.NEAREST)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_kept_code_round_trips(payload):
    image = png_image(payload, 6)
    # Whole modules, plus a 4-module quiet zone on each side.
    assert image.size == (PAYLOADS[payload] * 6,) * 2
    assert image.crop((0, 0, image.width, 4 * 6)).getextrema() == (255, 255)
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [payload]


def test_svg_markup_scales_and_has_no_fixed_pixel_size():
    kept = qr.symbol(list(PAYLOADS)[0])
    markup = qr.svg_markup(kept.size, kept.path)
    assert markup.startswith("<svg") and 'viewBox="0 0 37 37"' in markup and "width=\"37\"" not in markup.split(">")[0]


@pytest.mark.parametrize(("payload", "version"), [
    (sign_pass("a seed", 7, 1234, 2), "5"),
    (sign_pass("a seed", 2**31 - 1, 2**32 - 1, 2**32 - 1), "5"),
    (sign_er2("a seed", 7, new_entry_id(), 2), "6"),
])
def test_a_pass_is_a_version_5_symbol_in_numeric_mode(payload, version):
    """Version 5 at level M holds 202 digits, but only 122 alphanumeric characters or 84 bytes:
    a pass of 160-180 digits reads back as version 5 only when it was drawn in numeric mode."""
    [result] = zxingcpp.read_barcodes(png_image(payload, 4))
    assert result.text == payload
    assert (result.extra["Version"], result.ec_level) == (version, "M")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_png_of_a_kept_code_is_its_symbol_module_for_module(payload):
    """qr.png draws a kept code (size, path) one pixel a module: exactly the encoder's matrix,
    and zxing-cpp reads it back once scaled up without smoothing (as typst draws it)."""
    kept = qr.symbol(payload)
    image = Image.open(io.BytesIO(qr.png(kept.size, kept.path)))
    matrix = qr._code(payload).get_matrix()
    assert image.size == (kept.size, kept.size) == (len(matrix), len(matrix))
    assert [[image.getpixel((x, y)) == 0 for x in range(kept.size)] for y in range(kept.size)] == matrix
    big = image.convert("L").resize((kept.size * 6,) * 2, Image.NEAREST)
    assert [r.text for r in zxingcpp.read_barcodes(big)] == [payload]
