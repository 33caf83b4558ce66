"""The demo's journey over HTTP, for bench/setup-time: proves that a `.venv` made by scripts/run alone
(runtime dependencies, no `test` extra) serves every path that loads a library: a sign-up, the
worker's confirmation mail with its pass, the pass PDF, the desk's badge PDF and badge fonts (WOFF2),
and the worker's badge sheet. Standard library only, so it runs on that `.venv`.

    .venv/bin/python bench/demo_journey.py http://127.0.0.1:5000 instance/mail

Exits non-zero, saying which step, when one fails.
"""

from __future__ import annotations

import email
import email.header
import glob
import http.cookiejar
import re
import sys
import time
import urllib.parse
import urllib.request

SLUG = "csr-npo-case-study"  # the seed seminar of `flask demo`


class Client:
    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(self, path: str) -> tuple[str, bytes]:
        with self.opener.open(self.base + path, timeout=120) as response:
            return response.headers.get("Content-Type", ""), response.read()

    def post(self, path: str, data: dict[str, str]) -> str:
        with self.opener.open(self.base + path, urllib.parse.urlencode(data).encode(), timeout=120) as response:
            response.read()
            return response.geturl()

    def form(self, path: str, names: tuple[str, ...] = ("csrf_token",)) -> dict[str, str]:
        html = self.get(path)[1].decode()
        return {name: re.search(rf'name="{name}" value="([^"]*)"', html).group(1) for name in names}


def check(step: str, ok: bool, detail: object = "") -> None:
    print(f"demo_journey: {step}: {'ok' if ok else 'FAILED'} {detail}".rstrip(), flush=True)
    if not ok:
        sys.exit(1)


def wait_for_mail(folder: str, before: set[str]) -> email.message.Message:
    for _ in range(120):
        new = sorted(set(glob.glob(f"{folder}/*.eml")) - before)
        if new:
            with open(new[0], "rb") as file:
                return email.message_from_binary_file(file)
        time.sleep(0.5)
    check("the worker sends the confirmation", False, "no mail within 60 s")
    raise AssertionError


def main(base: str, mail_folder: str) -> None:
    client = Client(base)
    before = set(glob.glob(f"{mail_folder}/*.eml"))
    form = client.form(f"/e/{SLUG}", ("csrf_token", "signup_key", "session_id"))
    address = f"journey-{time.time_ns()}@example.org"
    form.update(family_name="𠮷野", given_name="花子", family_kana="よしの", given_kana="はなこ", email=address,
                email_confirm=address, organization="髙﨑NPO", sector="npo", q_1="SNS", consent="y")
    url = client.post(f"/e/{SLUG}", form)
    check("sign-up", "/r/" in url, url)

    mail = wait_for_mail(mail_folder, before)
    attached = [part.get_filename() for part in mail.walk() if part.get_filename()]
    check("confirmation mail with the pass", "pass.pdf" in attached, attached)
    text = "".join(part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
                   for part in mail.walk() if part.get_content_type() == "text/plain")
    token = re.search(r"/r/([A-Za-z0-9_\-]+)", text).group(1)
    kind, body = client.get(f"/r/{token}/pass.pdf")
    check("pass PDF", kind == "application/pdf" and body.startswith(b"%PDF-"), f"{len(body)} bytes")

    client.post("/login", {**client.form("/login"), "email": "organizer@example.org", "password": "eventreg-demo"})
    event_id = 1  # the seed seminar is the demo's first event
    kind, body = client.get(f"/desk/{event_id}/badge/1.pdf")
    check("desk badge PDF", kind == "application/pdf" and body.startswith(b"%PDF-"), f"{len(body)} bytes")
    css = client.get(f"/desk/{event_id}/badge-fonts.css")[1].decode()
    font = re.search(r"badge-font/([^)\"']+)", css).group(1)
    kind, body = client.get(f"/desk/{event_id}/badge-font/{font}")
    check("desk badge font", body.startswith(b"wOF2"), f"{kind}, {len(body)} bytes")

    url = client.post(f"/admin/events/{event_id}/badges", client.form(f"/admin/events/{event_id}/badges"))
    job = re.search(r"/jobs/(\d+)", url).group(1)
    for _ in range(240):
        state = client.get(f"/admin/jobs/{job}.json")[1]
        if b'"status":"done"' in state or b'"status":"failed"' in state:
            break
        time.sleep(0.5)
    check("the worker's badge sheet", b'"status":"done"' in state, state[:120])
    kind, body = client.get(f"/admin/jobs/{job}/download")
    check("badge sheet PDF", body.startswith(b"%PDF-"), f"{len(body)} bytes")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
