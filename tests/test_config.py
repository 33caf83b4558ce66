import os
import subprocess
import sys
from pathlib import Path

import pytest

from eventreg import create_app
from eventreg.config import DEV_SECRET_KEY, UnsafeConfiguration

ROOT = Path(__file__).resolve().parents[1]
STRONG = "kJ8v-2QxLr_9TzWm4NcYp7HbE1uSdFgA0oiZ"
PRODUCTION = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x@127.0.0.1/none",
              "BASE_URL": "https://events.example.org", "MAIL_SERVER": "smtp.example.org",
              "MAIL_DEFAULT_SENDER": "Events <events@example.org>"}
PRODUCTION_ENV = {"EVENTREG_" + key: value for key, value in PRODUCTION.items()}


@pytest.fixture
def no_env(monkeypatch):
    for key in [k for k in os.environ if k.startswith("EVENTREG_")]:
        if key != "EVENTREG_INSTANCE_PATH":
            monkeypatch.delenv(key)


def test_production_is_the_default_and_needs_a_secret(no_env):
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY is not set"):
        create_app()
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY"):
        create_app(dict(PRODUCTION))


@pytest.mark.parametrize("secret, why", [
    (DEV_SECRET_KEY, "public development key"),
    ("short-but-random-9x", "shorter than 32"),
    ("a" * 64, "different characters"),
    ("ab12" * 16, "different characters"),
])
def test_production_refuses_weak_secrets(no_env, secret, why):
    with pytest.raises(UnsafeConfiguration, match=why):
        create_app({**PRODUCTION, "SECRET_KEY": secret})


def test_environment_variables_are_read_with_the_prefix(no_env, monkeypatch):
    monkeypatch.setenv("EVENTREG_MAIL_PORT", "2525")
    monkeypatch.setenv("EVENTREG_SECRET_KEY", STRONG)
    monkeypatch.setenv("EVENTREG_BASE_URL", "https://events.example.org")
    monkeypatch.setenv("EVENTREG_MAIL_SERVER", "smtp.example.org")
    monkeypatch.setenv("EVENTREG_MAIL_DEFAULT_SENDER", "Events <events@example.org>")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x@127.0.0.1/none"})
    assert app.config["MAIL_PORT"] == 2525
    assert app.config["ENV"] == "production"
    # Production has no development mailbox, and no route under /_dev at all.
    assert "dev.mailbox" not in app.view_functions
    assert not [r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/_dev")]
    assert app.test_client().get("/_dev/mail").status_code == 404


def test_production_lists_every_setting_to_give_at_once(no_env):
    with pytest.raises(UnsafeConfiguration) as refused:
        create_app()
    lines = str(refused.value).splitlines()
    # A development machine that forgot EVENTREG_ENV: the first line says so.
    assert lines[0].startswith("EVENTREG_ENV is not set, so this is production") and "EVENTREG_ENV=development" in lines[0]
    listed = [line for line in lines if line.startswith("  - ")]
    assert [line.split()[1].rstrip(":") for line in listed] == [
        "EVENTREG_SECRET_KEY", "EVENTREG_SQLALCHEMY_DATABASE_URI", "EVENTREG_MAIL_SERVER",
        "EVENTREG_MAIL_DEFAULT_SENDER", "EVENTREG_BASE_URL"]
    # With the mail and the URL given, only what is still missing is listed.
    with pytest.raises(UnsafeConfiguration) as refused:
        create_app({**PRODUCTION, "MAIL_SERVER": None})
    assert [line.split()[1] for line in str(refused.value).splitlines() if line.startswith("  - ")] == [
        "EVENTREG_SECRET_KEY", "EVENTREG_MAIL_SERVER"]


@pytest.mark.parametrize("setting, value, why", [
    ("MAIL_DEFAULT_SENDER", "eventreg <no-reply@eventreg.localhost>", "MAIL_DEFAULT_SENDER is a localhost address"),
    ("BASE_URL", "http://events.example.org", "BASE_URL must be an https:// URL"),
    ("BASE_URL", "", "BASE_URL is not set"),
])
def test_production_refuses_development_mail_and_addresses(no_env, setting, value, why):
    with pytest.raises(UnsafeConfiguration, match=why):
        create_app({**PRODUCTION, "SECRET_KEY": STRONG, setting: value})


def test_mail_port_follows_the_transport_in_production(no_env):
    production = {**PRODUCTION, "SECRET_KEY": STRONG}
    assert create_app(production).config["MAIL_PORT"] == 25
    assert create_app({**production, "MAIL_USE_TLS": True}).config["MAIL_PORT"] == 587
    assert create_app({**production, "MAIL_USE_SSL": True}).config["MAIL_PORT"] == 465
    assert create_app({**production, "MAIL_PORT": 2525}).config["MAIL_PORT"] == 2525


def test_development_is_opt_in(no_env, monkeypatch):
    monkeypatch.setenv("EVENTREG_ENV", "development")
    app = create_app()
    assert app.config["SECRET_KEY"] == DEV_SECRET_KEY and "dev.mailbox" in app.view_functions
    # Development mails the catcher (`flask mailcatcher`, /_dev/mail) and links to the local server.
    assert (app.config["MAIL_SERVER"], app.config["MAIL_PORT"]) == ("127.0.0.1", 8025)
    assert app.config["MAIL_DEFAULT_SENDER"].endswith("@eventreg.localhost>")
    assert app.config["BASE_URL"] == "http://127.0.0.1:5000"
    assert app.config["SESSION_COOKIE_SECURE"] is False
    with pytest.raises(UnsafeConfiguration, match="production or development"):
        create_app({"ENV": "prod"})


def test_sql_parameters_are_hidden_even_with_own_engine_options(no_env):
    app = create_app({"ENV": "development", "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 5}})
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_size": 5, "hide_parameters": True}


def test_production_cookies_are_secure_and_hsts_is_sent(no_env):
    app = create_app({**PRODUCTION, "SECRET_KEY": STRONG})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    client = app.test_client()
    response = client.get("/lang/en?next=/", base_url="https://events.example.org")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=en") and "Secure" in cookie and "HttpOnly" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    # The session cookie (here: set by the CSRF token of the sign-in page, no database needed).
    with app.test_request_context("/", base_url="https://events.example.org"):
        from flask import session

        session["x"] = 1
        out = app.make_response("ok")
        app.session_interface.save_session(app, session, out)
        assert "Secure" in out.headers["Set-Cookie"] and "HttpOnly" in out.headers["Set-Cookie"]


def _gunicorn_check(env: dict) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("EVENTREG_")}
    return subprocess.run([str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "--check-config",
                           "wsgi:app"], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120)


def test_the_readme_server_line_refuses_to_start_without_a_real_secret(tmp_path):
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "gunicorn -c gunicorn.conf.py wsgi:app" in readme
    assert "gunicorn -w 2 wsgi:app" not in readme
    instance = {"EVENTREG_INSTANCE_PATH": str(tmp_path)}
    refused = _gunicorn_check(instance)
    assert refused.returncode != 0 and "SECRET_KEY" in refused.stdout + refused.stderr
    dev_key = _gunicorn_check({**instance, "EVENTREG_SECRET_KEY": DEV_SECRET_KEY})
    assert dev_key.returncode != 0 and "development key" in dev_key.stdout + dev_key.stderr
    started = _gunicorn_check({**instance, **PRODUCTION_ENV, "EVENTREG_SECRET_KEY": STRONG})
    assert started.returncode == 0, started.stdout + started.stderr


def test_a_refused_start_prints_the_list_without_a_traceback(tmp_path):
    """`flask --app wsgi ...` and gunicorn (master and workers) on a machine that forgot
    EVENTREG_ENV: the list of what to set, once, and no traceback."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("EVENTREG_")}
    env = {**base, "EVENTREG_INSTANCE_PATH": str(tmp_path)}
    flask = subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "routes"], cwd=ROOT,
                           env=env, capture_output=True, text=True, timeout=120)
    gunicorn = subprocess.run([str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py",
                               "-b", "127.0.0.1:0", "wsgi:app"], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
    for run in (flask, gunicorn):
        out = run.stdout + run.stderr
        assert run.returncode == 4, out
        assert "Traceback" not in out and out.count("EVENTREG_ENV is not set") == 1, out
        assert "EVENTREG_MAIL_SERVER is not set" in out and "EVENTREG_BASE_URL is not set" in out
    assert flask.stderr.startswith("EVENTREG_ENV is not set")
