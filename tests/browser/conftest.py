"""Browser fixtures: the app on a real HTTP port, and the system Chromium driven by Playwright.

``live_server`` serves the session's ``app`` (tests/conftest.py) from a background thread;
``browser`` is one headless Chromium per run (Debian's /usr/bin/chromium, never a downloaded
one); ``phone`` and ``desktop`` are fresh pages with their own cookies for every test.

Every page a test opens through these fixtures (or a context passed to ``watch``) is watched:
a Content-Security-Policy violation (the page's ``securitypolicyviolation`` event), a console
message of type error and an uncaught exception fail the test at its end (the fixture
``browser_problems`` holds them; a test that causes one on purpose removes it from that list).

Playwright's sync API runs its own event loop, so every Playwright call stays in the test
thread; only the WSGI server runs elsewhere. Screenshots go to $EVENTREG_SHOTS (default
/tmp/shots), outside the repository.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from eventreg.extensions import db

CHROMIUM = os.environ.get("EVENTREG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SHOTS = Path(os.environ.get("EVENTREG_SHOTS", "/tmp/shots"))
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2, "locale": "ja-JP", "timezone_id": "Asia/Tokyo"}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "ja-JP", "timezone_id": "Asia/Tokyo"}


# Reports each violation to the test through a binding that survives navigation.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => window.__eventregViolation({
  directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber,
  sample: e.sample}));
"""


_current: list[list[str]] = []  # the running test's problems (browser tests run one at a time)


@pytest.fixture(autouse=True)
def browser_problems():
    """CSP violations, console errors and uncaught exceptions of the test's pages: any that the
    test did not allow fails it when it ends."""
    problems: list[str] = []
    _current.append(problems)
    yield problems
    _current.remove(problems)
    if problems:
        pytest.fail("the pages reported problems:\n" + "\n".join(problems), pytrace=False)


# What a page needs to look right: one of these answering 4xx is a broken page. A page itself
# answering 4xx (a test opening a revoked link) and the API answering 4xx to a script (a walk-in
# form with errors) are answers the tests check; any 5xx is a problem.
ASSETS = {"stylesheet", "script", "image", "font", "media", "manifest"}


def _watch_page(page, problems: list[str]) -> None:
    def console(message) -> None:
        # Chromium logs every 4xx/5xx answer as "Failed to load resource": those are judged by
        # their status below instead.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console error on {page.url}: {message.text} ({message.location.get('url')})")

    def response(answer) -> None:
        if answer.status >= 500 or (answer.status >= 400 and answer.request.resource_type in ASSETS):
            problems.append(f"{answer.status} for {answer.request.resource_type} {answer.url} on {page.url}")

    page.on("console", console)
    page.on("response", response)
    page.on("pageerror", lambda exc: problems.append(f"uncaught exception on {page.url}: {exc}"))


def watch(context):
    """Reports the CSP violations, console errors and uncaught exceptions of every page of
    ``context`` (a Playwright BrowserContext) to the running test; returns the context."""
    problems = _current[-1]

    def violation(source, report):
        problems.append(f"CSP violation on {source['page'].url}: {report['directive']} blocked "
                        f"{report['blocked'] or 'inline'} ({report['source']}:{report['line']} {report['sample']!r})")

    context.expose_binding("__eventregViolation", violation)
    context.add_init_script(CSP_LISTENER)
    context.on("page", lambda page: _watch_page(page, problems))
    return context


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def live_server(app):
    """The app on http://127.0.0.1:<free port>; BASE_URL points there while it runs."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    previous = app.config["BASE_URL"]
    app.config["BASE_URL"] = url
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.config["BASE_URL"] = previous
        with app.app_context():
            db.session.remove()


@pytest.fixture(scope="session")
def _playwright():
    if not os.path.exists(CHROMIUM) or shutil.which(CHROMIUM) is None:
        pytest.fail(f"no Chromium at {CHROMIUM}: run scripts/setup --test (browser tests are never skipped)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched: list = []
        yield pw, launched
        for chromium in launched:
            if chromium.is_connected():
                chromium.close()


@pytest.fixture
def browser(_playwright):
    """One Chromium for the run, started again if a test crashed it: a crash fails that test,
    not every browser test after it."""
    pw, launched = _playwright
    if not launched or not launched[-1].is_connected():
        launched.append(pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True))
    return launched[-1]


def _page(browser, options):
    context = watch(browser.new_context(**options))
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    return context, page


@pytest.fixture
def phone(browser):
    """A 390x844 phone page (2x, touch, Japanese)."""
    context, page = _page(browser, PHONE)
    yield page
    context.close()


@pytest.fixture
def desktop(browser):
    """A 1280-px desktop page."""
    context, page = _page(browser, DESKTOP)
    yield page
    context.close()


@pytest.fixture
def shot():
    """``shot(page, "name")`` saves a full-page PNG to $EVENTREG_SHOTS/name.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str, full_page: bool = True) -> Path:
        path = SHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


def write_y4m(image, path: Path, frames: int = 30, fps: int = 10) -> Path:
    """A .y4m video of ``image`` (any PIL image; even width and height) repeated ``frames`` times.

    Chromium plays it in a loop as its fake camera: a one-line header, then per frame the Y plane
    and the Cb and Cr planes at half width and height (4:2:0).
    """
    width, height = image.size
    y, cb, cr = image.convert("RGB").convert("YCbCr").split()
    half = (width // 2, height // 2)
    frame = b"FRAME\n" + y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(frame)
    return path


@pytest.fixture
def camera_phone(browser, tmp_path):
    """``camera_phone(image)``: a phone page in a separate Chromium whose camera shows ``image``.

    Camera permission is granted without a prompt (--use-fake-ui-for-media-stream).
    """
    launched = []

    def open_page(image):
        video = write_y4m(image, tmp_path / "camera.y4m")
        chromium = browser.browser_type.launch(
            executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS + ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                                  f"--use-file-for-fake-video-capture={video}"])
        launched.append(chromium)
        context, page = _page(chromium, PHONE)
        context.grant_permissions(["camera"])
        return page

    yield open_page
    for chromium in launched:
        chromium.close()
