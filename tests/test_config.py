import pytest

from eventreg import create_app
from eventreg.config import UnsafeConfiguration


def test_production_refuses_the_development_secret_key(monkeypatch):
    monkeypatch.setenv("EVENTREG_ENV", "production")
    with pytest.raises(UnsafeConfiguration, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x@127.0.0.1/none",
                    "BASE_URL": "https://events.example.org"})


def test_environment_variables_are_read_with_the_prefix(monkeypatch):
    monkeypatch.setenv("EVENTREG_MAIL_PORT", "2525")
    monkeypatch.setenv("EVENTREG_SECRET_KEY", "a-long-random-production-secret")
    monkeypatch.setenv("EVENTREG_ENV", "production")
    monkeypatch.setenv("EVENTREG_BASE_URL", "https://events.example.org")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x@127.0.0.1/none"})
    assert app.config["MAIL_PORT"] == 2525
    # Production has no development mailbox.
    assert "dev.mailbox" not in app.view_functions
