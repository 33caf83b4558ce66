"""The development clock (eventreg/clock.py), its page /_dev/clock and `flask clock`.

Every test points the clock at a file of its own (the ``clock_file`` fixture) and puts the
module back as it found it, so no other test runs at a moved time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from eventreg import clock, create_app, worker
from eventreg.config import UnsafeConfiguration
from eventreg.extensions import db
from eventreg.models import ScheduledTask, TaskKind

from . import factories, processes
from .web.conftest import csrf_token

ROOT = Path(__file__).resolve().parents[1]
UTC = timezone.utc
JST = timezone(timedelta(hours=9))
STRONG_SECRET = "k3Y-for-the-production-test_0123456789abcdefXYZ"


@pytest.fixture
def clock_file(tmp_path):
    """The clock reads and writes tmp_path/clock.json for the length of the test."""
    saved = clock._file
    path = tmp_path / "clock.json"
    clock.configure(str(path))
    yield path
    clock.configure(saved)


def close_to(moment: datetime, expected: datetime, seconds: float = 5) -> bool:
    return abs((moment - expected).total_seconds()) < seconds


# ---- parsing ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("setting", "expected"), [
    ("", None),
    ("   ", None),
    ("+2d", timedelta(days=2)),
    ("-3h", timedelta(hours=-3)),
    ("+1d2h30m", timedelta(days=1, hours=2, minutes=30)),
    ("-45s", timedelta(seconds=-45)),
    (" +90m ", timedelta(minutes=90)),
    ("2019-02-07T12:01:00+09:00", datetime(2019, 2, 7, 3, 1, tzinfo=UTC)),
    ("2019-02-07T03:01:00Z", datetime(2019, 2, 7, 3, 1, tzinfo=UTC)),
    ("2019-02-07 12:01+09:00", datetime(2019, 2, 7, 3, 1, tzinfo=UTC)),
])
def test_parse(setting, expected):
    parsed = clock.parse(setting)
    assert parsed == expected
    if isinstance(parsed, datetime):
        assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("setting", [
    "2019-02-07T12:01:00",     # naive: which 12:01?
    "2019-02-07",              # a date is naive too
    "tomorrow", "+", "-", "2d", "+2x", "+d", "+1h2d",  # garbage, a missing sign, units out of order
    "+36526d",                 # more than a hundred years
    "+" + "9" * 5000 + "d",    # digits Python would refuse to turn into an int
    "0001-01-01T00:00+09:00",  # before UTC's year 1
    "1900-01-01T00:00+00:00", "9999-12-31T23:59+00:00",  # outside what the app can format
])
def test_parse_refuses(setting):
    with pytest.raises(clock.BadClock):
        clock.parse(setting)


def test_bad_clock_messages_are_short():
    with pytest.raises(clock.BadClock) as caught:
        clock.parse("x" * 5000)
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize("delta", [timedelta(days=1, hours=2, minutes=3, seconds=4), timedelta(hours=-5),
                                   timedelta(seconds=59), timedelta(days=-400)])
def test_format_shift_round_trips(delta):
    assert clock.parse(clock.format_shift(delta)) == delta


@pytest.mark.parametrize(("current", "by", "expected"), [
    ("", "+1d", "+1d"),
    ("+1d", "+2h", "+1d2h"),
    ("+1d", "-1d", ""),                                  # back to real time
    ("-2h", "+30m", "-1h30m"),
    ("2019-02-07T12:01:00+09:00", "+1h", "2019-02-07T13:01:00+09:00"),  # fixed stays fixed, same offset
    ("2019-02-07T12:01:00+09:00", "-1d", "2019-02-06T12:01:00+09:00"),
])
def test_shifted(current, by, expected):
    assert clock.shifted(by, current) == expected


@pytest.mark.parametrize("by", ["2019-02-07T12:01:00+09:00", "", "soon", "+36500d"])
def test_shifted_refuses(by):
    with pytest.raises(clock.BadClock):
        clock.shifted(by, "+1000d")


def test_running_from():
    real = datetime(2030, 1, 1, tzinfo=UTC)
    assert clock.running_from(datetime(2019, 2, 7, 12, 1, tzinfo=JST), real=real) == clock.format_shift(
        datetime(2019, 2, 7, 3, 1, tzinfo=UTC) - real)
    with pytest.raises(clock.BadClock):
        clock.running_from(datetime(2019, 2, 7, 12, 1))


# ---- configure / set / reset -------------------------------------------------------------------

def test_set_shift_fixed_and_reset(clock_file):
    real = datetime.now(UTC)
    assert clock.enabled() and clock.current() is None and close_to(clock.utcnow(), real)

    clock.set_setting("+2d")
    assert clock.setting() == "+2d" and clock.current() == timedelta(days=2)
    assert close_to(clock.utcnow(), real + timedelta(days=2))

    clock.set_setting("2019-02-07T12:01:00+09:00")
    fixed = datetime(2019, 2, 7, 3, 1, tzinfo=UTC)
    assert clock.utcnow() == fixed
    time.sleep(0.05)
    assert clock.utcnow() == fixed  # a fixed clock stands still
    assert clock.utcnow().tzinfo is not None

    clock.set_setting("")
    assert clock.current() is None and close_to(clock.utcnow(), datetime.now(UTC))


def test_a_bad_setting_is_refused_and_changes_nothing(clock_file):
    clock.set_setting("+1h")
    before = clock_file.read_text()
    with pytest.raises(clock.BadClock):
        clock.set_setting("2019-02-07T12:01:00")
    assert clock_file.read_text() == before and clock.setting() == "+1h"


def test_a_damaged_file_means_real_time(clock_file):
    clock_file.write_text("{not json")
    assert clock.current() is None and close_to(clock.utcnow(), datetime.now(UTC))
    clock_file.write_text('{"setting": "nonsense"}')
    assert clock.current() is None


def test_configure_writes_the_initial_setting(clock_file):
    clock.configure(str(clock_file), "+3h")
    assert clock.setting() == "+3h"
    clock.configure(str(clock_file))  # None: leaves what is there (what /_dev/clock set)
    assert clock.setting() == "+3h"
    clock.configure(str(clock_file), "")
    assert clock.current() is None


def test_a_change_by_another_process_is_seen_at_once(clock_file):
    """The cache follows the file: another process's change (a new file replacing the old one)
    shows at the next read, even twice within a millisecond."""
    assert clock.current() is None
    for setting in ("+1d", "+2d", "-1h"):
        tmp = clock_file.with_suffix(".other")
        tmp.write_text(f'{{"setting": "{setting}"}}')
        os.replace(tmp, clock_file)  # what set_setting does, from "another process"
        assert clock.current() == clock.parse(setting)


def _flask(instance: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = dict(os.environ, EVENTREG_ENV="development", EVENTREG_INSTANCE_PATH=str(instance), **env)
    environment.pop("EVENTREG_CLOCK", None)
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=60)


def test_two_app_instances_sharing_an_instance_folder_agree(tmp_path, monkeypatch, clock_file):
    instance = tmp_path / "instance"
    monkeypatch.setenv("EVENTREG_INSTANCE_PATH", str(instance))
    monkeypatch.delenv("EVENTREG_CLOCK", raising=False)
    create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'a.db'}"})
    assert clock._file == str(instance / "clock.json")
    clock.set_setting("2019-02-07T12:01:00+09:00")

    # Another process of the same instance (here the CLI) reads the same time...
    shown = _flask(instance, "clock", "show", EVENTREG_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'a.db'}")
    assert shown.returncode == 0, shown.stderr
    assert "2019-02-07 12:01:00 +0900" in shown.stdout and "2019-02-07 03:01:00 UTC" in shown.stdout
    assert "fixed" in shown.stdout

    # ...and a change made there is what this process reads next, without a restart.
    moved = _flask(instance, "clock", "shift", "+1h", EVENTREG_SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'a.db'}")
    assert moved.returncode == 0, moved.stderr
    assert clock.utcnow() == datetime(2019, 2, 7, 4, 1, tzinfo=UTC)
    assert _flask(instance, "clock", "reset").returncode == 0
    assert clock.current() is None


def test_eventreg_clock_sets_the_clock_at_start(tmp_path, monkeypatch, clock_file):
    monkeypatch.setenv("EVENTREG_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("EVENTREG_CLOCK", "+2d")
    create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'a.db'}"})
    assert clock.setting() == "+2d"
    assert close_to(clock.utcnow(), datetime.now(UTC) + timedelta(days=2))


def test_cli_refuses_a_bad_setting(tmp_path):
    result = _flask(tmp_path, "clock", "set", "2019-02-07T12:01")
    assert result.returncode != 0 and "UTC offset" in result.stderr
    assert not (tmp_path / "clock.json").exists() or '"setting": ""' in (tmp_path / "clock.json").read_text()


# ---- the worker follows the clock --------------------------------------------------------------

def _deadline_task(app) -> tuple[int, datetime]:
    with app.app_context():
        event = factories.make_event()
        task = db.session.scalar(select(ScheduledTask).where(
            ScheduledTask.event_id == event.id, ScheduledTask.kind == TaskKind.deadline_summary))
        found = task.id, task.due_at
        db.session.remove()
        return found


def _task_done(app, task_id: int) -> datetime | None:
    with app.app_context():
        done = db.session.get(ScheduledTask, task_id).done_at
        db.session.remove()
        return done


def test_flask_tick_runs_at_the_clocks_time(app, clock_file):
    task_id, due = _deadline_task(app)  # the deadline summary, 前日12:00 before a session in two weeks
    runner = app.test_cli_runner()

    def tick():
        with app.app_context():
            result = runner.invoke(args=["tick"])
        assert result.exit_code == 0, result.output
        return result.output

    assert tick() == "nothing due\n"
    assert _task_done(app, task_id) is None  # not due in real time

    clock.set_setting((due + timedelta(minutes=1)).isoformat())  # a minute past the deadline
    assert "    1  done: scheduled tasks done" in tick()
    assert _task_done(app, task_id) == due + timedelta(minutes=1)  # done at the clock's time


def test_a_running_worker_follows_a_changed_clock_without_restart(app, database_url, tmp_path, clock_file):
    """A real `flask worker` process of this instance: it sees the new time at its next tick."""
    task_id, due = _deadline_task(app)
    environment = dict(os.environ, EVENTREG_ENV="development", EVENTREG_INSTANCE_PATH=str(tmp_path),
                       EVENTREG_SQLALCHEMY_DATABASE_URI=database_url, EVENTREG_TICK_SECONDS="1",
                       EVENTREG_OUTBOX_POLL_SECONDS="0.2", EVENTREG_MAIL_PORT="1")
    environment.pop("EVENTREG_CLOCK", None)
    process = processes.spawn([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT,
                              env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        line = process.stdout.readline()
        while "started" not in line:
            assert line and time.monotonic() < deadline, "the worker did not start"
            line = process.stdout.readline()
        time.sleep(2.5)  # two ticks at real time: nothing is due
        assert _task_done(app, task_id) is None

        moment = due + timedelta(minutes=1)
        clock.set_setting(moment.isoformat())  # clock_file is tmp_path/clock.json: the worker's
        deadline = time.monotonic() + 15
        while _task_done(app, task_id) is None:
            assert process.poll() is None, "the worker stopped"
            assert time.monotonic() < deadline, "the worker did not follow the clock"
            time.sleep(0.2)
        assert _task_done(app, task_id) == moment
    finally:
        processes.stop(process, timeout=20)


def test_worker_tick_reads_the_clock_each_time(app, clock_file):
    """worker.tick without ``now`` takes the clock's time at every call (the loop's next tick)."""
    task_id, due = _deadline_task(app)
    worker.tick(app)
    assert _task_done(app, task_id) is None
    clock.set_setting(clock.format_shift(due + timedelta(minutes=5) - datetime.now(UTC)))  # running
    worker.tick(app)
    done = _task_done(app, task_id)
    assert done is not None and close_to(done, due + timedelta(minutes=5))


# ---- production refuses it --------------------------------------------------------------------

def production_config(tmp_path, **extra) -> dict:
    return {"ENV": "production", "SECRET_KEY": STRONG_SECRET, "BASE_URL": "https://events.example.org",
            "MAIL_SERVER": "smtp.example.org", "MAIL_DEFAULT_SENDER": "Events <events@example.org>",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'prod.db'}", **extra}


def test_production_refuses_eventreg_clock(tmp_path, monkeypatch, clock_file):
    monkeypatch.setenv("EVENTREG_ALLOW_SQLITE", "1")
    monkeypatch.setenv("EVENTREG_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(UnsafeConfiguration, match="EVENTREG_CLOCK"):
        create_app(production_config(tmp_path, CLOCK="+2d"))
    monkeypatch.setenv("EVENTREG_CLOCK", "2019-02-07T12:01:00+09:00")
    with pytest.raises(UnsafeConfiguration, match="EVENTREG_CLOCK"):
        create_app(production_config(tmp_path))


def test_production_never_reads_a_clock_file(tmp_path, monkeypatch, clock_file):
    (tmp_path / "clock.json").write_text('{"setting": "+3650d"}')  # left behind in the instance folder
    monkeypatch.setenv("EVENTREG_ALLOW_SQLITE", "1")
    monkeypatch.setenv("EVENTREG_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("EVENTREG_CLOCK", raising=False)
    prod = create_app(production_config(tmp_path))
    read = []  # every open or stat of a clock file, by anyone, from here on
    real_open, real_stat = open, os.stat
    monkeypatch.setattr(clock, "open", lambda p, *a, **k: read.append(p) or real_open(p, *a, **k), raising=False)
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: (read.append(p) if "clock.json" in str(p) else None)
                        or real_stat(p, *a, **k))

    assert not clock.enabled() and clock.current() is None and clock.setting() == ""
    assert close_to(clock.utcnow(), datetime.now(UTC))
    with pytest.raises(clock.BadClock):
        clock.set_setting("+1d")
    assert read == []
    assert (tmp_path / "clock.json").read_text() == '{"setting": "+3650d"}'

    web = prod.test_client()
    for url in ("/_dev/clock", "/_dev/mail"):
        assert web.get(url).status_code == 404
    assert web.post("/_dev/clock", data={"action": "reset"}).status_code in (400, 404)
    assert "dev-clock" not in web.get("/login").get_data(as_text=True)
    result = prod.test_cli_runner().invoke(args=["clock", "show"])
    assert result.exit_code != 0 and "development only" in result.output
    assert read == []


# ---- the page and the banner --------------------------------------------------------------------

def test_clock_page_sets_shifts_and_resets(client, clock_file):
    page = client.get("/_dev/clock")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Asia/Tokyo" in html and "UTC" in html and 'id="dev-clock"' not in html

    token = csrf_token(client, "/_dev/clock")
    assert client.post("/_dev/clock", data={"action": "reset"}).status_code == 400  # no CSRF token
    answer = client.post("/_dev/clock", data={"csrf_token": token, "action": "set", "at": "2019-02-07T12:01",
                                              "mode": "fixed"})
    assert answer.status_code == 302
    assert clock.utcnow() == datetime(2019, 2, 7, 3, 1, tzinfo=UTC)  # 12:01 in the default zone, JST

    # The banner, on every page, in words nobody can miss.
    for url in ("/_dev/clock", "/login", "/"):
        html = client.get(url).get_data(as_text=True)
        assert '<p class="dev-clock" id="dev-clock" role="note">' in html, url
        assert "開発用時計: 2019-02-07 12:01 (JST)" in html, url
    html = client.get("/_dev/clock").get_data(as_text=True)
    assert "2019-02-07 03:01:00 UTC" in html and "2019-02-07 12:01:00 (JST)" in html

    assert client.post("/_dev/clock", data={"csrf_token": token, "action": "shift", "by": "+1h"}).status_code == 302
    assert clock.utcnow() == datetime(2019, 2, 7, 4, 1, tzinfo=UTC)
    assert client.post("/_dev/clock", data={"csrf_token": token, "action": "reset"}).status_code == 302
    assert clock.current() is None
    assert 'id="dev-clock"' not in client.get("/login").get_data(as_text=True)


def test_clock_page_can_run_on_from_a_time(client, clock_file):
    token = csrf_token(client, "/_dev/clock")
    answer = client.post("/_dev/clock", data={"csrf_token": token, "action": "set", "at": "2019-02-07T11:59:30",
                                              "mode": "run"})
    assert answer.status_code == 302
    assert isinstance(clock.current(), timedelta)
    first = clock.utcnow()
    assert close_to(first, datetime(2019, 2, 7, 2, 59, 30, tzinfo=UTC))
    time.sleep(1.1)
    assert clock.utcnow() > first  # it runs


@pytest.mark.parametrize("form", [
    {"action": "set", "at": "yesterday"}, {"action": "set", "at": ""}, {"action": "set", "at": "0001-01-01T00:00"},
    {"action": "set", "at": "9999-12-31T23:59", "mode": "run"}, {"action": "shift", "by": "+forever"},
    {"action": "shift", "by": "2019-02-07T12:01:00+09:00"}, {"action": "shift", "by": "+99999d"},
    {"action": "explode"}, {},
])
def test_clock_page_refuses_bad_input_and_changes_nothing(client, clock_file, form):
    clock.set_setting("+1h")
    token = csrf_token(client, "/_dev/clock")
    answer = client.post("/_dev/clock", data={"csrf_token": token, **form})
    assert answer.status_code == 400
    assert 'id="clock-error"' in answer.get_data(as_text=True)
    assert clock.setting() == "+1h"
