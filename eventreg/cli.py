"""Command line: ``flask --app wsgi demo | import-event FILE | worker | mailcatcher``."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import yaml
from flask import Flask, current_app
from sqlalchemy import select

from . import clock
from .domain import event_spec
from .domain.errors import DomainError
from .extensions import db
from .models import Event, EventSession


def register_cli(app: Flask) -> None:
    for command in (demo, import_event, worker, mailcatcher):
        app.cli.add_command(command)


def demo_specs(today) -> list[dict]:
    """The seed seminar two weeks ahead, and a briefing held twice (第1回 / 第2回)."""
    seminar_day = today + timedelta(days=14)
    first = today + timedelta(days=(6 - today.weekday()) % 7 + 14)  # a Sunday
    second = first + timedelta(days=3)  # the Wednesday evening after
    seminar = yaml.safe_load((Path(__file__).parent / "demo" / "seminar.yaml").read_text("utf-8"))
    seminar["sessions"][0]["date"] = seminar_day.isoformat()
    briefing = yaml.safe_load((Path(__file__).parent / "demo" / "briefing.yaml").read_text("utf-8"))
    briefing["sessions"][0]["date"] = first.isoformat()
    briefing["sessions"][1]["date"] = second.isoformat()
    return [seminar, briefing]


@click.command("demo")
@click.option("--if-missing", is_flag=True, help="Keep demo events that exist (and their registrations).")
def demo(if_missing: bool):
    """(Re)create the demo events, dated in the future."""
    today = clock.utcnow().astimezone(ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])).date()
    for spec in demo_specs(today):
        upcoming = db.session.scalar(select(Event.id).where(
            Event.slug == spec["slug"], Event.sessions.any(EventSession.starts_at > clock.utcnow())))
        if not (if_missing and upcoming):
            event_spec.replace_event(spec)
        click.echo(f"demo event: {current_app.config['BASE_URL']}/e/{spec['slug']}")
    db.session.commit()


@click.command("import-event")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Replace an existing event with the same slug (deletes its registrations).")
def import_event(path: Path, replace: bool):
    """Import an event from a YAML or TOML file (see docs/example-event.yaml)."""
    raw = path.read_text("utf-8")
    try:
        spec = tomllib.loads(raw) if path.suffix == ".toml" else yaml.safe_load(raw)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise click.ClickException(f"{path}: cannot parse: {exc}") from None
    if not replace and isinstance(spec, dict) and db.session.scalar(
        select(Event.id).where(Event.slug == str(spec.get("slug")))
    ):
        raise click.ClickException(f"an event with slug {spec.get('slug')!r} exists; use --replace")
    try:
        event = event_spec.replace_event(spec)
    except DomainError as exc:
        raise click.ClickException(f"{path}: {exc.detail}") from None
    db.session.commit()
    click.echo(f"imported: {current_app.config['BASE_URL']}/e/{event.slug}")


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
def worker(once: bool):
    """Deliver queued email from the outbox, with retries."""
    from .worker import run

    run(current_app._get_current_object(), once=once)


@click.command("mailcatcher")
@click.option("--port", default=None, type=int, help="Defaults to EVENTREG_MAIL_PORT.")
def mailcatcher(port: int | None):
    """Development SMTP server that keeps every message as an .eml file (shown at /_dev/mail)."""
    from .adapters.mailcatcher import serve

    folder = Path(current_app.config["MAILBOX_DIR"])
    port = port or current_app.config["MAIL_PORT"]
    click.echo(f"mail catcher on 127.0.0.1:{port}, saving to {folder}")
    serve(folder, "127.0.0.1", port)
