"""QR codes read back by an independent decoder (zxing-cpp)."""

from __future__ import annotations

import base64
import io
import subprocess

import pytest
import zxingcpp
from PIL import Image

from eventreg.adapters import pdf, qr
from eventreg.domain.registration.passes import new_entry_id, sign_er2, sign_pass

# payload -> modules per side with the quiet zone
PAYLOADS = {
    "ER1:Zq3xY8vLm2Pk7sT1wR5nB4cD6fG9hJ0a": 37,  # 36 characters: version 3 (29 modules)
    sign_pass("a seed", 42, 1, 1): 45,  # a pass (format 3, 160 digits): version 5 (37 modules)
    sign_pass("a seed", 2**31 - 1, 2**31 - 1, 2**32 - 1): 45,  # largest ids (180 digits): still version 5
    sign_er2("a seed", 42, new_entry_id(), 1): 49,  # a pass mailed before format 3: version 6 (41 modules)
}


def png_image(payload: str, box_size: int) -> Image.Image:
    uri = qr.png_data_uri(payload, box_size=box_size)
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    return Image.open(io.BytesIO(base64.b64decode(uri[len(prefix):])))


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("box_size", [1, 4, 8])
def test_png_round_trips(payload, box_size):
    image = png_image(payload, box_size)
    # Whole modules, plus a 4-module quiet zone on each side.
    assert image.size == (PAYLOADS[payload] * box_size, PAYLOADS[payload] * box_size)
    quiet = image.convert("L").crop((0, 0, image.width, 4 * box_size))
    assert quiet.getextrema() == (255, 255)
    # Scale up without smoothing, as the PDF draws it (image-rendering: pixelated).
    big = image.convert("L").resize((image.width * (8 // box_size or 1),) * 2, Image.NEAREST)
    assert [r.text for r in zxingcpp.read_barcodes(big)] == [payload]


def test_png_default_box_size_is_8():
    assert png_image(list(PAYLOADS)[0], 8).size == png_image(list(PAYLOADS)[0], box_size=8).size == (296, 296)


def test_svg_scales_and_has_no_fixed_pixel_size():
    markup = qr.svg(list(PAYLOADS)[0])
    assert markup.startswith("<svg") and 'viewBox="0 0 37 37"' in markup


@pytest.mark.parametrize("payload", PAYLOADS)
def test_svg_round_trips(payload, tmp_path):
    """Drawn by a real SVG renderer (WeasyPrint), rasterized by poppler, read by zxing-cpp."""
    uri = "data:image/svg+xml;base64," + base64.b64encode(qr.svg(payload).encode()).decode()
    path = tmp_path / "svg.pdf"
    path.write_bytes(pdf.html_to_pdf(f'<img src="{uri}" style="width: 50mm; height: 50mm">'))
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(path), str(tmp_path / "svg")],
                   check=True)
    results = zxingcpp.read_barcodes(Image.open(tmp_path / "svg.png"))
    assert [r.text for r in results] == [payload]


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
