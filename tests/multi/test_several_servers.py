"""Two app servers and three outbox workers on one PostgreSQL, as separate processes.

The deployment of the README's "Running on several servers": two gunicorn instances (2 worker
processes, 4 threads each) on their own ports and three ``flask --app wsgi worker`` processes,
configured only through EVENTREG_* variables, against a fresh database migrated with
``flask db upgrade``. Staff, the API tokens and the event come in through the CLI; everything else
through HTTP and SMTP (an aiosmtpd recorder in this process). The test reads the database only to
check the outcome.

PostgreSQL only: SQLite is for one server (README), and these processes would share one file.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import func, select

from eventreg import create_app
from eventreg.extensions import db
from eventreg.models import EventSession, OutboxMessage, OutboxStatus, Registration, Status

from .. import factories, processes
from ..pg import fresh_database
from ..races.edge import SignUp, at_once, client, outcome, pass_payload, scan_request
from ..smtp import SMTPRecorder, free_port

# Several servers share one database over the network; SQLite is a file for one server (README),
# so on the SQLite run there is nothing to prove. scripts/test runs this on PostgreSQL every time.
pytestmark = pytest.mark.skipif(
    os.environ.get("EVENTREG_TEST_DB", "sqlite") != "postgresql",
    reason="several app servers need PostgreSQL; SQLite is for one server (see the README)",
)

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SEATS, PEOPLE = 100, 1000
ORGANIZER = "multi-organizer@example.org"


class Cluster:
    """The processes, their configuration, and a way to run the CLI with the same configuration."""

    def __init__(self, database_url: str, folder: Path, mail_port: int):
        self.folder = folder
        self.env = {
            **os.environ,
            "EVENTREG_ENV": "development",
            "EVENTREG_SQLALCHEMY_DATABASE_URI": database_url,
            "EVENTREG_SECRET_KEY": secrets.token_urlsafe(32),
            "EVENTREG_BASE_URL": "http://127.0.0.1",  # set per instance below
            "EVENTREG_MAIL_SERVER": "127.0.0.1",
            "EVENTREG_MAIL_PORT": str(mail_port),
            "EVENTREG_OUTBOX_POLL_SECONDS": "0.5",
            "EVENTREG_RATELIMIT_ENABLED": "false",  # 1,000 sign-ups from one address
            "EVENTREG_INSTANCE_PATH": str(folder / "instance"),
            "EVENTREG_NEW_PASSWORD": factories.PASSWORD,  # for `users create`
        }
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.urls: list[str] = []
        self.timings: list[tuple[str, float]] = []  # printed at the end (pytest -s shows them)

    @staticmethod
    def cli_argv(*args: str) -> list[str]:
        return [str(BIN / "flask"), "--app", "wsgi", *args]

    def cli(self, *args: str) -> str:
        started = time.monotonic()
        done = subprocess.run(self.cli_argv(*args), cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120)
        self.timings.append((f"flask {args[0]} {args[1] if len(args) > 1 else ''}", time.monotonic() - started))
        assert done.returncode == 0, f"flask {' '.join(args)}: {done.stdout}\n{done.stderr}"
        return done.stdout

    def _spawn(self, name: str, argv: list[str], env: dict) -> None:
        with open(self.folder / f"{name}.log", "wb") as log:  # the child keeps its own copy
            process = processes.spawn(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append((name, process))

    def start_app(self, name: str) -> str:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        self._spawn(name, [str(BIN / "gunicorn"), "-w", "2", "--threads", "4", "-b", f"127.0.0.1:{port}",
                           "--graceful-timeout", "5", "wsgi:app"], {**self.env, "EVENTREG_BASE_URL": url})
        self.urls.append(url)
        return url

    def start_worker(self, name: str) -> None:
        self._spawn(name, [str(BIN / "flask"), "--app", "wsgi", "worker"], self.env)

    def wait_until_serving(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        for url in self.urls:
            while True:
                self.check_alive()
                try:
                    with client(url) as http:
                        if http.get("/api/v1/openapi.json", timeout=2).status_code == 200:
                            break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"{url} did not start:\n{self.logs()}"
                time.sleep(0.2)

    def check_alive(self) -> None:
        dead = [name for name, p in self.processes if p.poll() is not None]
        assert not dead, f"{dead} exited:\n{self.logs()}"

    def logs(self, tail: int = 3000) -> str:
        return "\n".join(f"--- {name}\n{(self.folder / f'{name}.log').read_text(errors='replace')[-tail:]}"
                         for name, _ in self.processes)

    def stop(self) -> None:
        processes.stop(*(process for _name, process in self.processes))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("multi")
    database_url, drop_database = fresh_database()
    smtp = SMTPRecorder().start()
    cluster = Cluster(database_url, folder, smtp.port)
    cluster.smtp = smtp
    try:
        cluster.cli("db", "upgrade")
        cluster.start_app("app-a")
        cluster.start_app("app-b")
        for n in range(3):
            cluster.start_worker(f"worker-{n}")
        # Meanwhile (each CLI call is a Python start-up of 2-3 s): the event, an organizer, tokens.
        spec = factories.event_spec_dict(capacity=SEATS)
        (folder / "event.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda args: cluster.cli(*args), [
                ("import-event", str(folder / "event.yaml")),
                ("users", "create", ORGANIZER, "--role", "organizer", "--name", "multi")]))
            cluster.cli("users", "assign", ORGANIZER, "--event", spec["slug"])  # roles are per event
            scanner, revocable = pool.map(
                lambda name: cluster.cli("api-tokens", "create", ORGANIZER, "--name", name).split()[-1],
                ["scanner", "to revoke"])
        cluster.scanner_token = scanner
        [listed] = [line for line in cluster.cli("api-tokens", "list").splitlines() if "\tto revoke\t" in line]
        cluster.revocable_token = (revocable, listed.split("\t")[0].lstrip("#"))
        started = time.monotonic()
        cluster.wait_until_serving()
        cluster.timings.append(("servers ready", time.monotonic() - started))
        # This process reads the outcome from the same database, with the same secret.
        cluster.app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": cluster.env["EVENTREG_SECRET_KEY"]})
        cluster.slug = spec["slug"]
        yield cluster
    finally:
        print("\nmulti-server timings:", ", ".join(f"{name} {sec:.1f} s" for name, sec in cluster.timings))
        cluster.stop()
        smtp.stop()
        if getattr(cluster, "app", None) is not None:
            with cluster.app.app_context():
                db.engine.dispose()
        drop_database()


@pytest.fixture(scope="module")
def sign_up_race(cluster):
    """1,000 people sign up for 100 seats at once, alternating between the two instances.

    Each opens the event page first (session cookie and CSRF token), then all press "register":
    100 requests in flight at a time against 2 x 2 processes x 4 threads.
    """
    with cluster.app.app_context():
        session_id = db.session.scalar(select(EventSession.id))
        db.session.remove()
    started = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        visitors = list(pool.map(lambda n: SignUp(cluster.urls[n % 2], cluster.slug, session_id,
                                                  f"multi{n}@example.org"), range(PEOPLE)))
    opened = time.monotonic()
    with ThreadPoolExecutor(100) as pool:
        responses = list(pool.map(lambda v: v.submit(), visitors, timeout=150))
    cluster.check_alive()
    cluster.timings += [("1,000 pages opened", opened - started), ("1,000 sign-ups", time.monotonic() - opened)]
    return {"outcomes": Counter(outcome(r) for r in responses), "session_id": session_id}


def test_a_thousand_sign_ups_across_two_servers_fill_exactly_the_seats(cluster, sign_up_race):
    assert sign_up_race["outcomes"] == {"registered": PEOPLE}, sign_up_race
    with cluster.app.app_context():
        by_status = dict(db.session.execute(
            select(Registration.status, func.count()).group_by(Registration.status)).all())
        assert by_status == {Status.confirmed: SEATS, Status.waitlisted: PEOPLE - SEATS}
        assert db.session.get(EventSession, sign_up_race["session_id"]).seats_taken == SEATS
        db.session.remove()


def test_one_pass_scanned_on_both_servers_at_once_checks_in_once(cluster, sign_up_race):
    with cluster.app.app_context():
        person = db.session.scalar(select(Registration).where(Registration.status == Status.confirmed)
                                   .order_by(Registration.id).limit(1))
        payload, event_id = pass_payload(person), person.event_id
        db.session.remove()
    jobs = [scan_request(cluster.urls[n % 2], event_id, cluster.scanner_token, payload, f"desk {n}")
            for n in range(8)]
    results = at_once(jobs, timeout=60)
    assert sorted(results) == sorted(["ok"] + ["already_checked_in"] * 7), results


def _counts(url: str, event_id: int, token: str) -> int:
    with client(url) as http:
        return http.get(f"/api/v1/events/{event_id}/counts", headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_token_revoked_on_one_server_is_refused_by_the_other_at_once(cluster):
    with cluster.app.app_context():
        event_id = db.session.scalar(select(EventSession.event_id))
        db.session.remove()
    token, token_id = cluster.revocable_token
    other = cluster.urls[1]
    assert [_counts(other, event_id, token) for _ in range(4)] == [200] * 4
    # The other instance keeps using the token (both its processes, over and over) while the
    # first instance's configuration revokes it through the CLI …
    revoking = processes.spawn(cluster.cli_argv("api-tokens", "revoke", token_id), cwd=ROOT, env=cluster.env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    while revoking.poll() is None:
        _counts(other, event_id, token)
        time.sleep(0.05)
    assert revoking.wait(timeout=60) == 0, revoking.stdout.read()
    processes.stop(revoking)  # closes its pipe
    # … and at its next requests, on every process of both instances, the token is refused.
    assert [_counts(url, event_id, token) for url in reversed(cluster.urls) for _ in range(4)] == [401] * 8


def test_every_message_is_delivered_exactly_once(cluster, sign_up_race):
    """Three workers drained the outbox while the sign-ups raced: each message arrived once."""
    deadline = time.monotonic() + 120
    with cluster.app.app_context():
        while True:
            pending = db.session.scalar(select(func.count()).where(OutboxMessage.status != OutboxStatus.sent))
            db.session.rollback()
            if pending == 0 or time.monotonic() > deadline:
                break
            cluster.check_alive()
            time.sleep(0.5)
        assert pending == 0, f"{pending} messages not sent:\n{cluster.logs()}"
        expected = set(db.session.scalars(select(OutboxMessage.message_id)))
        db.session.remove()
    assert len(expected) == PEOPLE
    cluster.timings.append(("outbox drained after the sign-ups", time.monotonic() - deadline + 120))
    time.sleep(2 * float(cluster.env["EVENTREG_OUTBOX_POLL_SECONDS"]))  # a late duplicate would show now
    received = Counter(mid.strip("<>").rpartition("@")[0] for mid in cluster.smtp.message_ids())
    assert set(received) == expected
    assert max(received.values()) == 1, [mid for mid, n in received.items() if n > 1][:5]
