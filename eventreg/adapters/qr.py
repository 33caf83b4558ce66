"""QR codes for passes: path data (kept per pass, domain.registration.pass_qr), drawn as an SVG
(the pass page, the pass PDF) or a one-pixel-a-module PNG (badges)."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import qrcode
from qrcode.constants import ERROR_CORRECT_M

QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks


def _code(payload: str, version: int | None = None) -> qrcode.QRCode:
    # Level M survives a scuffed phone screen. A pass (domain.registration.passes) is ~161
    # decimal digits: the library puts an all-digit text in numeric mode (10 bits per 3 digits),
    # a version 5 symbol (37 modules; tests/adapters/test_qr.py reads the version back).
    # A fixed mask: trying all eight (the library's default) costs 5 ms a code, 5 s of a
    # 1,000-badge sheet; any mask is valid for decoders, and the tests decode every kind we draw.
    # A known ``version`` (texts of one length, e.g. a batch of certificates' verify URLs) skips
    # the library's search for the smallest that fits: ~0.5 of its ~1.6 ms.
    code = qrcode.QRCode(version=version, error_correction=ERROR_CORRECT_M, border=QUIET_ZONE,
                         mask_pattern=0)
    code.add_data(payload)
    code.make(fit=version is None)
    return code


def version(payload: str) -> int:
    """The QR version (size) ``payload`` needs: every text of the same length needs the same."""
    return _code(payload).version


@dataclass(frozen=True)
class Symbol:
    size: int  # modules across, quiet zone included
    path: str  # dark modules as SVG path data, one unit a module (viewBox 0 0 size size)


def symbol(payload: str, version: int | None = None) -> Symbol:
    """The code of ``payload`` (at ``version``, when known: see ``_code``) as path data: one rectangle per horizontal run of dark modules
    (a 37-module pass is ~300 runs, ~4 KB), which typst, reportlab and SVG all draw exactly."""
    matrix = _code(payload, version).get_matrix()
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


_PATH_LETTERS = str.maketrans("Mhvz-", "     ")


def png(size: int, path: str) -> bytes:
    """A kept code as a 1-bit PNG, one pixel per module (~300 bytes, ~0.1 ms): drawn scaled up
    without smoothing (typst's ``scaling: "pixelated"``), it is the cheapest exact picture to lay
    out and embed (an SVG costs typst ~0.7 ms a code to parse and write: bench/documents.py)."""
    # The runs' numbers, five a run: x, y, width, 1, width ("M{x} {y}h{width}v1h-{width}z").
    numbers = path.translate(_PATH_LETTERS).split()
    dark = [0] * size  # each row's dark modules as the bits of an int, leftmost module highest
    for x, y, width in zip(map(int, numbers[0::5]), map(int, numbers[1::5]), map(int, numbers[2::5]), strict=True):
        dark[y] |= ((1 << width) - 1) << (size - x - width)
    pad = -size % 8
    row_bytes = (size + pad) // 8
    light = (1 << size) - 1
    raw = b"".join(b"\x00" + ((((~row) & light) << pad) | ((1 << pad) - 1)).to_bytes(row_bytes, "big")
                   for row in dark)  # filter type 0, then the row; 1 is white

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", _stored(raw))
            + chunk(b"IEND", b""))


def _stored(data: bytes) -> bytes:
    """``data`` as a zlib stream of one uncompressed block (up to 65,535 bytes): a code's ~300
    bytes gain little from deflate, and zlib.compress sets up a 256 KB state each call (~0.4 ms)."""
    return (b"\x78\x01\x01" + struct.pack("<HH", len(data), len(data) ^ 0xFFFF) + data
            + struct.pack(">I", zlib.adler32(data)))
