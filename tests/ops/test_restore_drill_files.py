"""deploy/ as docs/deploy.md installs it, checked without the programs it configures: nginx's
access log redacts the same paths as the app's own logs, and logs nothing else that can hold a link.
(The unit files and the environment file are run for real by test_restore_drill.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from eventreg.web.security import redact_path

NGINX = (Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf").read_text("utf-8")
MAP = re.search(r"map \$uri \$eventreg_redacted_path \{\s*~(\S+)\s+(\S+);", NGINX)


def nginx_redacts(uri: str) -> str:
    """The map of deploy/nginx.conf applied to a decoded path, as nginx does (PCRE's named groups)."""
    pattern, replacement = MAP.group(1), MAP.group(2)
    match = re.match(pattern.replace("(?<", "(?P<"), uri)
    if not match:
        return uri
    return re.sub(r"\$(\w+)", lambda m: match.group(m.group(1)), replacement)


@pytest.mark.parametrize(("uri", "secret"), [
    ("/r/Abc123_-xyz", "Abc123_-xyz"), ("/r/Abc123_-xyz/pass.pdf", "Abc123_-xyz"),
    ("/r/Abc123/calendar.ics", "Abc123"), ("/r/Abc999/confirm/proof123", "Abc999"),
    ("/invite/Zy9-token", "Zy9-token"), ("/login/reset/eyJhbGciOi.abc.def", "eyJhbGciOi.abc.def"),
    ("/u/unsubscribe-key", "unsubscribe-key"),
])
def test_the_access_log_redacts_every_link_the_app_redacts(uri, secret):
    assert MAP, "deploy/nginx.conf has no map for the redacted path"
    assert nginx_redacts(uri) == redact_path(uri)
    assert "[redacted]" in nginx_redacts(uri) and secret not in nginx_redacts(uri)


@pytest.mark.parametrize("uri", ["/", "/e/seminar-2030", "/login", "/admin/events/3", "/healthz", "/desk"])
def test_other_paths_are_logged_as_they_are(uri):
    assert nginx_redacts(uri) == uri == redact_path(uri)


def test_nothing_else_in_the_log_can_carry_a_link():
    formats = re.findall(r"log_format (\w+)((?:\s*'[^']*')+);", NGINX)
    assert [name for name, _ in formats] == ["eventreg_redacted"]
    fields = set(re.findall(r"\$\w+", formats[0][1]))
    assert "$eventreg_redacted_path" in fields
    assert not fields & {"$request", "$request_uri", "$uri", "$args", "$query_string", "$http_referer"}
    access_logs = re.findall(r"access_log ([^;]+);", NGINX)
    assert access_logs and all(log.endswith(" eventreg_redacted") or log == "off" for log in access_logs)
    # Error lines about the upstream carry the request line: only "crit" leaves them out.
    assert re.findall(r"error_log \S+ (\w+);", NGINX) == ["crit"]
