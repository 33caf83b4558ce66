"""Browser packages of the desk, served from node_modules by an allow-list.

GET /desk/vendor/<package>@<version>/<file>     one file of FILES, of the installed version only

Installed by scripts/setup (`npm ci`, exact versions in package-lock.json); never copied into the
repository. The version sits in the path, not in a query string, so that a module's relative
imports (zxing-wasm's reader imports "../share.js") keep it: every URL changes on an upgrade and
each can be cached for a year (by the browser and the desk's service worker). Public code under
open licences, so no sign-in: a desk page loads it like any static file.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from flask import Blueprint, abort, send_file, url_for

bp = Blueprint("desk_vendor", __name__, url_prefix="/desk/vendor")

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"

# package -> the files a page may load; nothing else in node_modules is reachable.
FILES = {
    # camera decoding where the browser has no BarcodeDetector (static/desk/camera.js)
    "zxing-wasm": ("dist/es/reader/index.js", "dist/es/share.js", "dist/reader/zxing_reader.wasm"),
    # the QR of a badge printed from the browser (static/desk/badge.js): 7 KB, numeric mode for v3 passes
    "lean-qr": ("index.mjs",),
}
MIMETYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm"}
YEAR = 31536000
SPEC = re.compile(r"(@?[^@/]+(?:/[^@/]+)?)@([^/]+)/(.+)")  # a scoped name (@scope/name) too


@cache
def installed_version(package: str) -> str:
    try:
        return json.loads((NODE_MODULES / package / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return "missing"


def vendor_url(package: str, file: str) -> str:
    """The URL of an allow-listed file (raises KeyError for any other: a typo fails loudly)."""
    if file not in FILES[package]:
        raise KeyError(f"{package}/{file} is not in desk_vendor.FILES")
    return url_for("desk_vendor.file", spec=f"{package}@{installed_version(package)}/{file}")


@bp.app_context_processor
def _vendor_urls():
    return {"vendor_url": vendor_url}


@bp.get("/<path:spec>")
def file(spec: str):
    match = SPEC.fullmatch(spec)
    if match is None:
        abort(404)
    package, version, name = match.groups()
    if name not in FILES.get(package, ()) or version != installed_version(package):
        abort(404)
    path = NODE_MODULES / package / name
    if not path.is_file():
        abort(404)  # scripts/setup not run: the page says the decoder is missing
    return send_file(path, mimetype=MIMETYPES[path.suffix], max_age=YEAR, conditional=True)
