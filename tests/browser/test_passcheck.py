"""static/desk/passcheck.js in real Chromium: Python-signed passes read on the device.

The desk page of the app loads the module as the desk does (same origin, its CSP, the vendor
URLs of web/desk_vendor.py); every pass goes through both verifiers, WebCrypto's Ed25519 and
@noble/ed25519, and through passes.parse/verify in Python: the answers must agree field by field.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import quote

import pytest

from eventreg.domain.registration import passes, signup
from eventreg.extensions import db

from .. import factories
from .test_registration_flow import database

pytestmark = pytest.mark.browser

VERIFIERS = ("webcrypto", "noble")

READ_ALL = """async ([texts, key, verifier]) => {
  const { readPass } = await import("/static/desk/passcheck.js");
  const out = [];
  for (const text of texts) out.push(await readPass(text, key, { verifier }));
  return out;
}"""


def digits_of(body: bytes) -> str:
    return "3" + str(int.from_bytes(b"\x01" + body, "big"))


def body_of(payload: str) -> bytes:
    number = int(payload[1:])
    return number.to_bytes((number.bit_length() + 7) // 8, "big")[1:]


def python_reads(text: str, key: dict) -> dict | None:
    """What passes.py says of ``text`` at the desk of ``key``'s event, in readPass's shape."""
    credential = passes.parse(text)
    if credential is None:
        return None
    return {"format": credential.format, "registrationId": credential.registration_id,
            "entryId": credential.entry_id, "entryVersion": credential.entry_version,
            "eventId": credential.event_id, "valid": passes.verify(credential, key["seed"], key["event_id"])}


@pytest.fixture
def world(app):
    """Event A (a confirmed person; one who cancelled after their pass was mailed), event B."""
    with database(app):
        a, b = factories.make_event(), factories.make_event()
        user = factories.make_staff("reception", events=[a])
        here, gone, there = factories.register_person(a), factories.register_person(a), factories.register_person(b)
        mailed = passes.qr_payload(gone)
        signup.cancel(gone, now=factories.in_days(0))
        db.session.commit()
        return {
            "email": user.email, "event": a.id,
            "key": {"event_id": a.id, "public_key": passes.public_key(a), "seed": a.pass_key},
            "b_key": {"event_id": b.id, "public_key": passes.public_key(b), "seed": b.pass_key},
            "here": (here.id, passes.qr_payload(here), here.entry_id,
                     passes.sign_er2(a.pass_key, a.id, here.entry_id, here.entry_version)),
            "gone": (gone.id, mailed, gone.entry_version),
            "there": (passes.qr_payload(there), passes.sign_er2(b.pass_key, b.id, there.entry_id, 1)),
        }


def desk_page(page, live_server, world):
    """The desk page of event A, signed in through the real form."""
    then = f"/desk/{world['event']}"
    page.goto(f"{live_server}/login?next={quote(then, safe='')}")
    page.fill("#email", world["email"])
    page.fill("#password", factories.PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"**{then}")
    return page


def read(page, texts, key, verifier):
    public = {k: key[k] for k in ("event_id", "public_key")}  # the roster's key: no seed
    return page.evaluate(READ_ALL, [list(texts), public, verifier])


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_passes_signed_in_python_read_the_same_in_the_browser(live_server, desktop, world, verifier):
    page = desk_page(desktop, live_server, world)
    key = world["key"]
    here_id, here_v3, here_entry, here_er2 = world["here"]
    gone_id, gone_mailed, gone_version = world["gone"]
    there_v3, there_er2 = world["there"]
    body = body_of(here_v3)
    er2_raw = bytearray(base64.b32decode(here_er2[4:]))
    er2_raw[-1] ^= 0x01

    valid, tampered, other_event, er2, old, er2_tampered, er2_other = read(page, [
        here_v3, digits_of(body[:-1] + bytes([body[-1] ^ 0x01])), there_v3, here_er2.lower(),
        gone_mailed, "ER2:" + base64.b32encode(bytes(er2_raw)).decode(), there_er2], key, verifier)
    assert valid == {"format": 3, "registrationId": here_id, "entryId": None, "entryVersion": 1,
                     "eventId": None, "valid": True}
    assert tampered["valid"] is False and tampered["registrationId"] == here_id
    assert other_event["valid"] is False  # another event's pass fails this event's key…
    assert read(page, [there_v3], world["b_key"], verifier)[0]["valid"] is True  # …and is good at its own
    assert er2 == {"format": 2, "registrationId": None, "entryId": here_entry, "entryVersion": 1,
                   "eventId": world["event"], "valid": True}
    assert er2_tampered["valid"] is False and er2_other["valid"] is False
    # A pass mailed before the cancellation is genuine; the roster's newer version refuses it.
    assert old["valid"] is True and old["registrationId"] == gone_id and old["entryVersion"] < gone_version

    not_passes = ["", "hello", "ER1:" + "A" * 32, "3", "30" + here_v3[1:], here_v3 + "0", "ER2:" + "A" * 136,
                  digits_of(body + b"\x00"), "３" + here_v3[1:]]
    assert read(page, not_passes, key, verifier) == [python_reads(t, key) for t in not_passes]


@pytest.mark.parametrize("verifier", VERIFIERS)
def test_every_flipped_bit_is_refused_as_python_refuses_it(live_server, desktop, world, verifier):
    page = desk_page(desktop, live_server, world)
    key = world["key"]
    _, good, _, er2 = world["here"]
    body = body_of(good)
    texts = [good, er2]
    for bit in range(len(body) * 8):
        flipped = bytearray(body)
        flipped[bit // 8] ^= 1 << (bit % 8)
        texts.append(digits_of(bytes(flipped)))
    texts += [good[:at] + str((int(good[at]) + 1) % 10) + good[at + 1:] for at in range(1, len(good))]
    browser = read(page, texts, key, verifier)
    assert browser == [python_reads(t, key) for t in texts]
    assert [r["valid"] for r in browser if r] == [True, True] + [False] * (len([r for r in browser if r]) - 2)


def test_webcrypto_is_used_where_it_verifies_and_noble_is_served_versioned(live_server, desktop, world):
    page = desk_page(desktop, live_server, world)
    loaded = []
    page.on("request", lambda request: loaded.append(request.url))
    assert page.evaluate("async () => (await import('/static/desk/passcheck.js')).verifierName()") == "webcrypto"
    assert not any("noble" in url for url in loaded)  # loaded only when needed
    read(page, [world["here"][1]], world["key"], "noble")
    [noble] = [url for url in loaded if "noble" in url]
    assert re.search(r"/desk/vendor/noble-ed25519\.js\?v=\d+\.\d+\.\d+$", noble)  # the page's versioned URL


def test_without_ed25519_in_webcrypto_the_desk_falls_back_to_noble(live_server, browser, world):
    """A browser whose WebCrypto has no Ed25519 (as Chromium before 137): detected at load."""
    from .conftest import DESKTOP, watch

    context = watch(browser.new_context(**DESKTOP))
    context.add_init_script("""(() => {
      if (!window.isSecureContext) return;  // about:blank has no crypto.subtle
      const original = crypto.subtle.importKey.bind(crypto.subtle);
      crypto.subtle.importKey = (format, data, algorithm, ...rest) =>
        (algorithm && (algorithm.name || algorithm)) === "Ed25519"
          ? Promise.reject(new DOMException("Unrecognized name.", "NotSupportedError"))
          : original(format, data, algorithm, ...rest);
    })();""")
    page = desk_page(context.new_page(), live_server, world)
    try:
        name, result = page.evaluate("""async ([text, key]) => {
          const { readPass, verifierName } = await import("/static/desk/passcheck.js");
          return [verifierName(), await readPass(text, key)];
        }""", [world["here"][1], {k: world["key"][k] for k in ("event_id", "public_key")}])
        assert name == "noble" and result["valid"] is True
    finally:
        context.close()
