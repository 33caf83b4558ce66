"""Command line: ``flask --app wsgi demo | import-event FILE | worker | tick | mailcatcher``."""

from __future__ import annotations

import functools
import sys
import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import yaml
from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from . import clock
from .domain.access import accounts
from .domain.access import api_tokens as tokens
from .domain.backoffice import event_import
from .domain.errors import DomainError
from .domain.people import text
from .domain.privacy import person_requests
from .domain.registration import signup
from .domain.registration.signup import Applicant
from .domain.timing import periodic
from .extensions import db
from .models import ApiToken, Event, EventRole, EventSession, Role, StaffUser
from .outage import UPGRADE_COMMAND, schema_behind


def register_cli(app: Flask) -> None:
    for command in (demo, import_event, worker, tick, mailcatcher, users, api_tokens, clock_command):
        app.cli.add_command(_names_the_upgrade(command))
    for command in (retention_command, privacy_command):  # issue 8: retention and privacy
        app.cli.add_command(_names_the_upgrade(command))
    app.cli.add_command(backup_command)  # issue 16: docs/deploy.md


def _names_the_upgrade(command: click.Command) -> click.Command:
    """A command run before `db upgrade` (e.g. `users create` on a new server) says so in one
    line instead of SQLAlchemy's traceback."""
    for sub in getattr(command, "commands", {}).values():
        _names_the_upgrade(sub)
    callback = command.callback
    if callback is None or getattr(callback, "names_the_upgrade", False):
        return command

    @functools.wraps(callback)
    def run(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except SQLAlchemyError as exc:
            if not schema_behind(exc):
                raise
            raise click.ClickException(f"the database lacks eventreg's tables: run `{UPGRADE_COMMAND}` first") from None

    run.names_the_upgrade = True  # register_cli runs once per app; the commands are shared
    command.callback = run
    return command


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


DEMO_PASSWORD = "eventreg-demo"  # development only: `demo` refuses to run in production
DEMO_PEOPLE = [  # family, given, family kana, given kana, organization, sector
    ("山田", "花子", "ヤマダ", "ハナコ", "認定NPO法人 育て上げネット", "npo"),
    ("佐藤", "健一", "サトウ", "ケンイチ", "日本マイクロソフト株式会社", "company"),
    ("鈴木", "美咲", "スズキ", "ミサキ", "八王子市役所 協働推進課", "government"),
    ("高橋", "翔", "タカハシ", "ショウ", "東京大学 公共政策大学院", "university"),
    ("渡邊", "真由美", "ワタナベ", "マユミ", "特定非営利活動法人 ちば市民活動・市民事業サポートクラブ", "npo"),
]


@click.command("demo")
@click.option("--if-missing", is_flag=True, help="Keep demo events that exist (and their registrations).")
def demo(if_missing: bool):
    """(Re)create the demo events (dated in the future, with a few attendees) and demo staff."""
    if current_app.config["ENV"] == "production":
        raise click.ClickException("the demo is for development only")
    now = clock.utcnow()
    today = now.astimezone(ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])).date()
    events = []
    for spec in demo_specs(today):
        event = db.session.scalar(select(Event).where(
            Event.slug == spec["slug"], Event.sessions.any(EventSession.starts_at > now)))
        if not (if_missing and event):
            event = event_import.replace_event(spec, now=now)
            for n, (family, given, fkana, gkana, org, sector) in enumerate(DEMO_PEOPLE):
                signup.register(event.sessions[n % len(event.sessions)], Applicant(
                    family_name=family, given_name=given, family_kana=fkana, given_kana=gkana,
                    email=f"demo{n + 1}@example.org", organization=org, sector=sector), now=now)
        events.append(event)
        click.echo(f"demo event: {current_app.config['BASE_URL']}/e/{spec['slug']}")
    from .demo.history import create_past_events, past_specs

    past_slugs = [spec["slug"] for spec, _ in past_specs(today)]
    if not (if_missing and db.session.scalar(select(Event.id).where(Event.slug == past_slugs[-1]))):
        events += create_past_events(today)
    else:
        events += db.session.scalars(select(Event).where(Event.slug.in_(past_slugs))).all()
    click.echo(f"past demo events with history: {', '.join(past_slugs)}")
    for email, role, event_role in (("organizer@example.org", Role.organizer, EventRole.owner),
                                    ("reception@example.org", Role.staff, EventRole.reception)):
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        if user is None:
            user = accounts.create_user(email, f"demo {event_role.value}", DEMO_PASSWORD, role, now=now)
        for event in events:
            accounts.assign(user, event, event_role, now=now)
        click.echo(f"demo staff: {email} / {DEMO_PASSWORD} ({event_role.value})")
    db.session.commit()


@click.command("import-event")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Replace an existing event with the same slug: deletes its "
              "registrations, keeps its staff roles, invitations and event API tokens.")
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
        event = event_import.replace_event(spec, now=clock.utcnow())
    except DomainError as exc:
        raise click.ClickException(f"{path}: {exc.detail}") from None
    db.session.commit()
    click.echo(f"imported: {current_app.config['BASE_URL']}/e/{event.slug}")


@click.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
def worker(once: bool):
    """Deliver queued email (with retries), do scheduled work and background jobs."""
    from .worker import run

    run(current_app._get_current_object(), once=once)


# What each outcome of the worker's tick (eventreg.worker.tick) means, for the `tick` command.
TICK_WORDS = {
    "done": "scheduled tasks done (reminders, deadline summaries, building-security lists queued to send)",
    "skipped": "scheduled tasks with nothing to send (no confirmed person with an email, or no contact address)",
    "missed": "scheduled tasks found too late (over {hours} hours after they were due, or after the session): "
              "not sent",
    "list": "building-security lists sent late (first sending)",
    "difference": "building-security list differences sent (people added or removed since the last one)",
    "message_queued": "scheduled messages to attendees queued to send",
    "hold_expired": "seats released: email not confirmed in time (the next waiting person moves up)",
    "retention": "retention purges (events past their retention period, old sign-ins and sent mail)",
    "seats_recounted": "seat counts corrected to match the registrations (see the audit log)",
    "error": "failed and stay due: see the log (tried again next tick)",
}


def tick_report(outcomes) -> list[str]:
    """One line per outcome: its count, its name and what it means."""
    hours = int(periodic.MISSED_AFTER.total_seconds() // 3600)
    return [f"{n:>5}  {outcome}: {TICK_WORDS.get(outcome, '').format(hours=hours)}".rstrip(": ")
            for outcome, n in sorted(outcomes.items()) if n]


@click.command("tick")
def tick():
    """Do the scheduled work that is due now (the worker does this every TICK_SECONDS)."""
    from .worker import tick as run_tick

    outcomes = run_tick(current_app._get_current_object())
    for line in tick_report(outcomes) or ["nothing due"]:
        click.echo(line)
    if outcomes.get("error"):
        raise click.exceptions.Exit(1)


@click.command("mailcatcher")
@click.option("--port", default=None, type=int, help="Defaults to EVENTREG_MAIL_PORT.")
def mailcatcher(port: int | None):
    """Development SMTP server that keeps every message as an .eml file (shown at /_dev/mail)."""
    from .adapters.mailcatcher import serve

    folder = Path(current_app.config["MAILBOX_DIR"])
    port = port or current_app.config["MAIL_PORT"]
    click.echo(f"mail catcher on 127.0.0.1:{port}, saving to {folder}")
    serve(folder, "127.0.0.1", port)


def _user(email: str) -> StaffUser:
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == text.email_key(email)))
    if user is None:
        raise click.ClickException(f"no staff user {email!r}")
    return user


def _events(slugs: tuple[str, ...]) -> list[Event]:
    found = []
    for slug in slugs:
        event = db.session.scalar(select(Event).where(Event.slug == slug))
        if event is None:
            raise click.ClickException(f"no event with slug {slug!r}")
        found.append(event)
    return found


def _fail(exc: DomainError):
    """The code's words in English, as all command output is (the table's Japanese is for people
    on the site; without a request the default language would be Japanese)."""
    from flask_babel import force_locale

    from .web.error_words import message

    with force_locale("en"):
        words = str(message(exc.code))
    raise click.ClickException(f"{words} ({exc.code})") from None


@click.group("users")
def users():
    """Staff accounts: organizers (may create events) and staff (only the events they are given).

    Roles are per event (owner, editor, reception, viewer); the back office invites people too."""


@users.command("create")
@click.argument("email")
@click.option("--name", default="", help="Shown at the desk and in the check-in log.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--event", "slugs", multiple=True, help="Event slug to give the user a role on (repeatable).")
@click.option("--event-role", type=click.Choice([r.value for r in EventRole]), default=None,
              help="The role on those events (default: owner for organizers, reception for staff).")
@click.option("--password", envvar="EVENTREG_NEW_PASSWORD",
              help="Or set EVENTREG_NEW_PASSWORD; asked for at a terminal when neither is given.")
def users_create(email, name, role, slugs, event_role, password):
    now = clock.utcnow()
    password = _new_password(password)
    try:
        user = accounts.create_user(email, name, password, Role(role), now=now)
    except DomainError as exc:
        _fail(exc)
    for event in _events(slugs):
        accounts.assign(user, event, _event_role(user, event_role), now=now)
    db.session.commit()
    click.echo(f"created {user.role.value} {user.email}" + (f" for {', '.join(slugs)}" if slugs else ""))


def _terminal() -> bool:
    return sys.stdin.isatty()


def _new_password(given: str | None) -> str:
    """--password or EVENTREG_NEW_PASSWORD, else asked twice at a terminal. Without one (a
    script, a pipe, ssh without -t) getpass would warn and read echoed input: say what to give."""
    if given:
        return given
    if not _terminal():
        raise click.UsageError("no password given and no terminal to ask for one: "
                               "set EVENTREG_NEW_PASSWORD (kept out of the process list) or pass --password")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _event_role(user: StaffUser, value: str | None) -> EventRole:
    if value:
        return EventRole(value)
    return EventRole.owner if user.role == Role.organizer else EventRole.reception


@users.command("assign")
@click.argument("email")
@click.option("--event", "slugs", multiple=True, required=True)
@click.option("--event-role", type=click.Choice([r.value for r in EventRole]), default=None,
              help="Default: owner for organizers, reception for staff.")
def users_assign(email, slugs, event_role):
    user = _user(email)
    for event in _events(slugs):
        accounts.assign(user, event, _event_role(user, event_role), now=clock.utcnow())
    db.session.commit()
    click.echo(f"{user.email}: {', '.join(f'{m.event.slug} ({m.role.value})' for m in user.memberships)}")


@users.command("password")
@click.argument("email")
@click.option("--password", envvar="EVENTREG_NEW_PASSWORD",
              help="Or set EVENTREG_NEW_PASSWORD; asked for at a terminal when neither is given.")
def users_password(email, password):
    user = _user(email)
    password = _new_password(password)
    try:
        accounts.set_password(user, password)
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(f"password changed for {user.email}")


@users.command("deactivate")
@click.argument("email")
def users_deactivate(email):
    user = _user(email)
    user.active = False
    db.session.commit()
    click.echo(f"deactivated {user.email}")


@users.command("list")
def users_list():
    for user in db.session.scalars(select(StaffUser).order_by(StaffUser.email)):
        events = ", ".join(e.slug for e in user.events) or "-"
        click.echo(f"{user.email}\t{user.role.value}\t{'active' if user.active else 'inactive'}\t{events}")


@click.group("api-tokens")
def api_tokens():
    """Bearer tokens for scanner apps (stored hashed; shown once)."""


@api_tokens.command("create")
@click.argument("email")
@click.option("--name", required=True, help="What the token is for, e.g. 'iPad at desk 2'.")
@click.option("--event", "slug", default=None, help="Limit the token to this event (with --role).")
@click.option("--role", type=click.Choice([r.value for r in EventRole]), default=None,
              help="The token's role on --event; never more than the user's own role there.")
def api_tokens_create(email, name, slug, role):
    """Without --event: the token acts with the user's roles on all their events."""
    if (slug is None) != (role is None):
        raise click.UsageError("--event and --role go together")
    event = _events((slug,))[0] if slug else None
    try:
        token = tokens.create_api_token(_user(email), name, now=clock.utcnow(), event=event,
                                       role=EventRole(role) if role else None)
    except DomainError as exc:
        _fail(exc)
    db.session.commit()
    click.echo(token)


@api_tokens.command("revoke")
@click.argument("token_id", type=int)
def api_tokens_revoke(token_id):
    row = db.session.get(ApiToken, token_id)
    if row is None:
        raise click.ClickException(f"no token #{token_id}")
    tokens.revoke_api_token(row, actor=None, now=clock.utcnow())
    db.session.commit()
    click.echo(f"revoked #{token_id} ({row.name})")


@api_tokens.command("list")
def api_tokens_list():
    for row in db.session.scalars(select(ApiToken).order_by(ApiToken.id)):
        state = "revoked" if row.revoked_at else "active"
        scope = f"{db.session.get(Event, row.event_id).slug} ({row.role.value})" if row.event_id else "all events"
        click.echo(f"#{row.id}\t{row.user.email}\t{row.name}\t{scope}\t{state}\tlast used {row.last_used_at or '-'}")


@click.group("clock")
def clock_command():
    """The development clock (development and tests only): the time the app and the worker run at.

    Every process of this instance (web servers, workers) follows a change at once, without a
    restart. A setting is a shift from real time (+2d, -3h, +1d2h30m) or a fixed time with its
    UTC offset (2019-02-07T12:01:00+09:00), which stands still."""
    if not clock.enabled():
        raise click.ClickException("the development clock is for development only (EVENTREG_ENV=development)")


def _show_clock() -> None:
    now = clock.utcnow()
    tz = current_app.config["DEFAULT_TIMEZONE"]
    override = clock.current()
    what = "real time" if override is None else (
        f"fixed: {clock.setting()}" if isinstance(override, datetime) else f"shifted: {clock.setting()}")
    click.echo(f"{now.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M:%S %z} ({tz})")
    click.echo(f"{now:%Y-%m-%d %H:%M:%S} UTC")
    click.echo(what)


@clock_command.command("show")
def clock_show():
    """The app's time now, in the default time zone and in UTC, and the setting."""
    _show_clock()


@clock_command.command("set")
@click.argument("setting")
def clock_set(setting: str):
    """SETTING: +2d, -3h, +1d2h30m (shifted from real time) or 2019-02-07T12:01:00+09:00 (fixed)."""
    try:
        clock.set_setting(setting)
    except clock.BadClock as exc:
        raise click.ClickException(str(exc)) from None
    _show_clock()


@clock_command.command("shift")
@click.argument("by")
def clock_shift(by: str):
    """Moves the clock from where it stands by BY (+1d, -2h); a fixed clock stays fixed."""
    try:
        clock.set_setting(clock.shifted(by))
    except clock.BadClock as exc:
        raise click.ClickException(str(exc)) from None
    _show_clock()


@clock_command.command("reset")
def clock_reset():
    """Back to real time."""
    clock.set_setting("")
    _show_clock()


@click.group("retention")
def retention_command():
    """Remove the personal data of events past their retention period (domain.privacy.retention)."""


@retention_command.command("purge")
@click.option("--dry-run", is_flag=True, help="Print what would be removed; change nothing.")
@click.option("--event", "event_id", type=int, help="Only this event (even before its purge date).")
def retention_purge(dry_run: bool, event_id: int | None):
    """Purge events past their retention (or --event ID), then old sign-ins and outbox rows."""
    from .domain.privacy import retention
    from .sqlite import writing

    now = clock.utcnow()
    ids = [event_id] if event_id else retention.due_events(now)
    word = "would remove" if dry_run else "removed"
    with writing():
        for eid in ids:
            counts = retention.purge(eid, now, dry_run=dry_run)
            if counts is None:
                click.echo(f"event #{eid}: not found or purged already")
                continue
            click.echo(f"event #{eid}: {word} " + ", ".join(f"{t} {n}" for t, n in counts.items()))
        if not event_id:
            counts = retention.cleanup(now, dry_run=dry_run)
            click.echo(f"global: {word} " + ", ".join(f"{t} {n}" for t, n in counts.items()))
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    if not ids:
        click.echo("no event is past its retention period")


@click.group("privacy")
def privacy_command():
    """One person's request (開示・削除): export or delete all data held about an email address."""


@privacy_command.command("export")
@click.argument("email")
def privacy_export(email: str):
    """Print, as JSON, everything held about EMAIL."""
    import json

    try:
        data = person_requests.export_person(email)
    except DomainError as exc:
        raise click.ClickException(f"{email}: not an email address ({exc.code})") from None
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@privacy_command.command("delete")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def privacy_delete(email: str, yes: bool):
    """Cancel and anonymise every registration of EMAIL (seats go to the people waiting)."""
    from .sqlite import writing

    try:
        found = len(person_requests.export_person(email)["registrations"])
    except DomainError as exc:
        raise click.ClickException(f"{email}: not an email address ({exc.code})") from None
    if not found:
        click.echo("nothing is held about this address")
        return
    if not yes:
        click.confirm(f"delete the personal data of {found} registration(s)?", abort=True)
    db.session.rollback()
    with writing():
        counts = person_requests.delete_person(email, clock.utcnow())
        db.session.commit()
    click.echo("removed " + ", ".join(f"{t} {n}" for t, n in counts.items()))


# ---- backup (docs/deploy.md) -------------------------------------------------------------------

BACKUP_KEEP_ALSO = (
    "Keep with it, stored elsewhere: the environment file (/etc/eventreg/eventreg.env): without its "
    "EVENTREG_SECRET_KEY, the links already mailed that it signs (email confirmation, unsubscribe, password reset) "
    "stop working, and staff must sign in again. "
    "Everything else eventreg keeps (registrations, passes, generated badge sheets and lists, the outbox) "
    "is in the database; the instance folder holds only the SQLite file (when SQLite is used) and, "
    "in development, the mail catcher's .eml files and the development clock."
)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
def backup_command(path: Path, force: bool):
    """A consistent copy of the database, taken while the site runs: PostgreSQL through pg_dump
    (custom format, for pg_restore), SQLite through its online backup API (a database file)."""
    import os
    import sqlite3
    import subprocess
    import tempfile

    from sqlalchemy.engine import make_url

    if path.exists() and not force:
        raise click.ClickException(f"{path} exists: give another name or --force")
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # renamed when complete
    os.close(handle)
    try:
        if url.get_backend_name() == "sqlite":
            source = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True)
            target = sqlite3.connect(partial)
            try:
                with target:
                    source.backup(target)  # page by page, restarting when a writer changes a page
                check = target.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                source.close()
                target.close()
            if check != "ok":
                raise click.ClickException(f"the copy fails SQLite's integrity check: {check}")
            how = "SQLite online backup"
        elif url.get_backend_name() == "postgresql":
            env = {**os.environ, "PGPASSWORD": url.password or os.environ.get("PGPASSWORD", "")}
            target_url = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
            try:
                done = subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={partial}",
                                       f"--dbname={target_url}"], env=env, capture_output=True, text=True)
            except FileNotFoundError:
                raise click.ClickException("pg_dump is not installed: apt-get install postgresql-client") from None
            if done.returncode:
                raise click.ClickException(f"pg_dump failed: {done.stderr.strip()}")
            how = "pg_dump, custom format: restore with pg_restore"
        else:
            raise click.ClickException(f"no backup for {url.get_backend_name()} databases")
        os.chmod(partial, 0o600)  # it holds every attendee's personal data
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    click.echo(f"backup written: {path} ({path.stat().st_size:,} bytes; {how})")
    click.echo(BACKUP_KEEP_ALSO)
