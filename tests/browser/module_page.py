"""A page made by a test on the live server's origin, under the app's own Content-Security-Policy.

The desk's ES modules (static/desk/camera.js, badge.js) are tested through such a page: the
modules, the files they load and every header they meet are the real ones, only the page around
them is the test's (``html`` with a module script ``<path>.js`` holding ``script``).
"""

from __future__ import annotations

from eventreg.web.security import CSP


def open_module_page(page, live_server: str, path: str, html: str, script: str) -> None:
    headers = {"Content-Security-Policy": CSP}
    page.route(f"{live_server}{path}", lambda route: route.fulfill(
        status=200, body=html, headers={**headers, "Content-Type": "text/html; charset=utf-8"}))
    page.route(f"{live_server}{path}.js", lambda route: route.fulfill(
        status=200, body=script, headers={**headers, "Content-Type": "text/javascript"}))
    page.goto(f"{live_server}{path}")
