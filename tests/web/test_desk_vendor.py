"""web/desk_vendor.py: the desk's browser packages, from node_modules, through one allow-list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eventreg.web.desk_vendor import VENDOR

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"


def installed(package: str) -> str:
    return json.loads((NODE_MODULES / package / "package.json").read_text())["version"]


@pytest.mark.parametrize(("name", "starts"), [("noble-ed25519.js", b"export"), ("lean-qr/index.mjs", b"export"),
                                             ("zxing-wasm/dist/es/reader/index.js", b"import")])
def test_each_listed_file_is_served_cached_for_a_year_under_its_version(client, name, starts):
    version = installed(VENDOR[name].package)
    response = client.get(f"/desk/vendor/{name}?v={version}")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.cache_control.max_age == 365 * 24 * 3600 and response.cache_control.immutable
    assert starts in response.data[:20000]
    assert "no-store" not in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize("query", ["", "?v=0.0.1"])
def test_without_the_installed_version_it_is_revalidated(client, query):
    response = client.get(f"/desk/vendor/noble-ed25519.js{query}")
    assert response.status_code == 200
    assert response.cache_control.no_cache and not response.cache_control.immutable


@pytest.mark.parametrize("path", ["/desk/vendor/package.json", "/desk/vendor/jsqr", "/desk/vendor/..%2Fpackage.json",
                                  "/desk/vendor/%2E%2E/package.json", "/desk/vendor/index.js"])
def test_nothing_else_in_node_modules_is_served(client, path):
    assert client.get(path).status_code == 404


def test_the_desk_page_names_the_versioned_urls(app):
    from eventreg.web.desk_vendor import vendor_url

    with app.test_request_context():
        assert vendor_url("noble-ed25519.js") == f"/desk/vendor/noble-ed25519.js?v={installed('@noble/ed25519')}"
        assert vendor_url("lean-qr/index.mjs") == f"/desk/vendor/lean-qr/index.mjs?v={installed('lean-qr')}"
