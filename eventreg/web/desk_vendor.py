"""The desk's browser packages, served from node_modules through one allow-listed route.

GET /desk/vendor/<name>?v=<version>   a file named in VENDOR (no sign-in: public code)

A name may hold the package's own folders (zxing-wasm/dist/es/reader/index.js): an ES module's
relative import ("../share.js") then resolves to another listed name, without the version (so
revalidated, below).

The packages are installed by scripts/setup (``npm ci``, exact versions in package-lock.json),
never copied into the repository. Pages ask for ``desk_vendor_url(name)``, which carries the
installed version: that URL is cached for a year and still changes on upgrade. The same file
without the version (or with another one) is served too, but revalidated each time, so an ES
module that knows only the name (static/desk/vendor.js) never keeps a stale copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import Blueprint, abort, request, send_from_directory, url_for

bp = Blueprint("desk_vendor", __name__, url_prefix="/desk/vendor")

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class VendorFile:
    package: str  # the npm package (package.json)
    path: str  # the file inside it
    mimetype: str


# What a page may load from node_modules, and nothing else.
VENDOR: dict[str, VendorFile] = {
    # The camera's decoder where the browser has no BarcodeDetector (static/desk/camera.js): zxing-wasm's
    # reader, its shared module, and its .wasm, loaded from here, never from the package's default CDN.
    **{f"zxing-wasm/{path}": VendorFile("zxing-wasm", path, mimetype) for path, mimetype in (
        ("dist/es/reader/index.js", "text/javascript"), ("dist/es/share.js", "text/javascript"),
        ("dist/reader/zxing_reader.wasm", "application/wasm"))},
    # The QR of a badge printed from the browser (static/desk/badge.js): 7 KB, numeric mode for v3 passes.
    "lean-qr/index.mjs": VendorFile("lean-qr", "index.mjs", "text/javascript"),
    # static/desk/passcheck.js's verifier where WebCrypto has no Ed25519 (an ES module, one file).
    "noble-ed25519.js": VendorFile("@noble/ed25519", "index.js", "text/javascript"),
}


@cache
def package_version(package: str) -> str:
    try:
        return json.loads((NODE_MODULES / package / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "missing"


def vendor_url(name: str) -> str:
    return url_for("desk_vendor.file", name=name, v=package_version(VENDOR[name].package))


@bp.app_context_processor
def _vendor_urls():
    return {"desk_vendor_url": vendor_url,
            "desk_vendor_urls": lambda: {name: vendor_url(name) for name in VENDOR}}


@bp.get("/<path:name>")
def file(name: str):
    """Public code (zxing-wasm and lean-qr: MIT, @noble/ed25519: MIT), so no sign-in."""
    entry = VENDOR.get(name)
    if entry is None:
        abort(404)
    current = request.args.get("v") == package_version(entry.package)
    response = send_from_directory(NODE_MODULES / entry.package, entry.path, mimetype=entry.mimetype,
                                   max_age=YEAR if current else 0)
    if current:
        response.cache_control.immutable = True
    else:
        response.cache_control.no_cache = True
    return response
