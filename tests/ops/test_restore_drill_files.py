"""deploy/ as docs/deploy.md installs it: nginx's access log redacts the same paths as the app's own
logs and logs nothing else that can hold a link (checked on the map itself: the tests do not run
nginx); the environment file holds every setting production requires, and each one left empty is
named by the production check, as a new server's gunicorn unit prints it. The units and the
environment file are run for real by test_restore_drill.py."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
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


# ---- the environment file and the units: what production refuses, as a new server meets it ----

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
REFUSALS = {  # what the production check prints for each required setting left empty (eventreg/config.py)
    "EVENTREG_SECRET_KEY": 'EVENTREG_SECRET_KEY is not set (make one with: python3 -c "import secrets; '
                           'print(secrets.token_urlsafe(48))")',
    "EVENTREG_SQLALCHEMY_DATABASE_URI": "EVENTREG_SQLALCHEMY_DATABASE_URI: use PostgreSQL in production",
    "EVENTREG_MAIL_SERVER": "EVENTREG_MAIL_SERVER is not set: the SMTP server the worker delivers mail through",
    "EVENTREG_MAIL_DEFAULT_SENDER": "EVENTREG_MAIL_DEFAULT_SENDER is not set: the From of every email",
    "EVENTREG_BASE_URL": "EVENTREG_BASE_URL is not set: the https:// address people open",
}


@pytest.fixture
def shipped_settings(monkeypatch, tmp_path):
    """deploy/eventreg.env in this process's environment (a strong key in place of the empty one),
    nothing else of EVENTREG_*; returns a function that empties one setting."""
    from .test_restore_drill import read_env_file

    for key in [k for k in os.environ if k.startswith("EVENTREG_")]:
        monkeypatch.delenv(key)
    values = read_env_file(DEPLOY / "eventreg.env")
    assert set(REFUSALS) <= set(values), "deploy/eventreg.env lacks a setting production requires"
    values.update(EVENTREG_SECRET_KEY="x7Rq2LmN9vBc4TzK8wYp3HsD6fJg1QaE5uVo", EVENTREG_INSTANCE_PATH=str(tmp_path))
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return lambda key: monkeypatch.setenv(key, "")


def test_the_shipped_settings_start_and_each_required_one_left_empty_is_named(shipped_settings):
    from eventreg import create_app
    from eventreg.config import UnsafeConfiguration
    from eventreg.extensions import db

    app = create_app()  # the example's PostgreSQL need not answer: the start only logs that
    assert app.config["ENV"] == "production" and app.config["PROXY_COUNT"] == 1
    with app.app_context():
        db.engine.dispose()
    for key, words in REFUSALS.items():
        shipped_settings(key)
        with pytest.raises(UnsafeConfiguration) as refused:
            create_app()
        assert f"  - {words}" in str(refused.value), str(refused.value)


def test_the_web_unit_as_shipped_stops_at_the_empty_secret_and_is_not_restarted(tmp_path):
    """deploy/eventreg.env ships without a secret key: the unit's ExecStart prints the line to fix
    and exits with 4, the status both units do not restart on."""
    from .test_restore_drill import APP_DIR, ROOT, read_env_file, unit

    web = unit("eventreg-web")
    argv = [word.replace(APP_DIR, str(ROOT)) for word in shlex.split(web["ExecStart"])]
    env = {"PATH": os.environ["PATH"], **read_env_file(DEPLOY / "eventreg.env"), "EVENTREG_INSTANCE_PATH": str(tmp_path)}
    done = subprocess.run(argv + ["-b", "127.0.0.1:0"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    out = done.stdout + done.stderr
    assert done.returncode == 4, out
    assert REFUSALS["EVENTREG_SECRET_KEY"] in out and "Traceback" not in out
    assert web["RestartPreventExitStatus"] == unit("eventreg-worker")["RestartPreventExitStatus"] == "4"
