"""The restore drill: docs/deploy.md followed on a fresh database, from nothing to a restored backup.

Every command comes from the guide itself: the blocks marked ``<!-- drill: NAME -->`` are run line by
line (the secret key's ``sudo sed`` on the test's copy of the environment file, ``sudo -u postgres …``
with the test's PostgreSQL, ``sudo eventreg …`` through deploy/eventreg, ``sudo systemctl start|stop``
as the units' ``ExecStart=`` lines, ``curl …/healthz``), the settings
are deploy/eventreg.env with the test's values filled in (a setting the file lacks is not added, so
production refuses to start if the file forgets one), and gunicorn and the worker are started from
deploy/eventreg-web.service and deploy/eventreg-worker.service. What only the test provides: the
names and folders (a database and role of its own, a temporary folder for /srv/eventreg/instance and
/var/backups/eventreg), a free port for gunicorn (``GUNICORN_CMD_ARGS``, as section 5 allows) and an
SMTP server on loopback (aiosmtpd) as the mail server.

Then, over HTTP: the health URL, the event page, a sign-up through the real form, the confirmation
mail at the SMTP server; the documented backup; the database dropped; the documented restore; the
registration's page and pass PDF served again, and its row and pass found in the restored database.

The server runs in production mode on plain http (nginx's TLS is not part of the drill), so its
cookies are ``Secure``: the client here sends them back as a browser does behind nginx's https.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from .. import processes
from ..pg import PG_ADMIN_URL
from ..races.edge import csrf_from, form, signup_key_from
from ..smtp import SMTPRecorder, free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
GUIDE = ROOT / "docs" / "deploy.md"
DRILL = re.compile(r"<!-- drill: ([\w-]+) -->\s*```sh\n(.*?)```", re.S)
# The guide's places, and where the drill puts them.
APP_DIR, INSTANCE, BACKUP = "/srv/eventreg/app", "/srv/eventreg/instance", "/var/backups/eventreg/eventreg-manual.dump"
ENV_FILE = "/etc/eventreg/eventreg.env"
PASSWORD = "drill-organizer-password-1"
EMAIL = "drill-attendee@example.org"
NAME_WORD = re.compile(r"(?<![\w/.-])eventreg(?![\w/.-])")  # the database and role, not a path or a unit


def drill_blocks() -> dict[str, list[str]]:
    found = {name: [line for line in body.splitlines() if line.strip()]
             for name, body in DRILL.findall(GUIDE.read_text("utf-8"))}
    assert {"secret-key", "setup-postgresql", "first-start", "backup", "restore-postgresql", "restore-sqlite"} <= set(found)
    return found


def unit(name: str) -> dict[str, str]:
    """The [Service] settings of a unit file in deploy/ (one value per key: the last)."""
    settings = {}
    for line in (DEPLOY / f"{name}.service").read_text("utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            settings[key.strip()] = value.strip()
    return settings


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile reads them (comments, blank lines, double quotes)."""
    values = {}
    for line in path.read_text("utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().removeprefix('"').removesuffix('"')
    return values


class Deployment:
    """One server as docs/deploy.md sets it up, in ``folder``: the drill's interpreter of the guide."""

    def __init__(self, kind: str, folder: Path, smtp_port: int):
        self.kind, self.folder = kind, folder
        self.instance, self.backups = folder / "instance", folder / "backups"
        self.instance.mkdir()
        self.backups.mkdir(mode=0o700)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.processes: dict[str, subprocess.Popen] = {}
        admin = make_url(PG_ADMIN_URL)
        self.pg = {"PGHOST": admin.host or "127.0.0.1", "PGPORT": str(admin.port or 5432), "PGUSER": "postgres"}
        self.name = f"eventreg_drill_{uuid.uuid4().hex[:8]}"  # the database and its owner role
        database = (f"postgresql+psycopg://{self.name}@{self.pg['PGHOST']}:{self.pg['PGPORT']}/{self.name}"
                    if kind == "postgresql" else f"sqlite:///{self.instance / 'eventreg.db'}")
        self.database_url = database
        filled = {  # the secret key is left as shipped (empty): the guide's secret-key block makes it
            "EVENTREG_SQLALCHEMY_DATABASE_URI": database,
            "EVENTREG_MAIL_SERVER": "127.0.0.1",
            "EVENTREG_MAIL_PORT": str(smtp_port),
            "EVENTREG_MAIL_USE_TLS": "false",  # aiosmtpd on loopback speaks plain SMTP
            "EVENTREG_MAIL_USERNAME": "",
            "EVENTREG_MAIL_PASSWORD": "",
            "EVENTREG_INSTANCE_PATH": str(self.instance),
        }
        lines, seen = [], set()
        for line in (DEPLOY / "eventreg.env").read_text("utf-8").splitlines():
            key = line.partition("=")[0].strip()
            if key in filled and not line.startswith("#"):
                line, _ = f"{key}={filled[key]}", seen.add(key)
            lines.append(line)
        assert seen == set(filled), f"deploy/eventreg.env lacks {set(filled) - seen}"
        if kind == "sqlite":
            lines.append("EVENTREG_ALLOW_SQLITE=1")  # section 2: SQLite instead
        lines.append(f'GUNICORN_CMD_ARGS="-b 127.0.0.1:{self.port}"')  # section 5: another port
        self.env_file = folder / "eventreg.env"
        self.env_file.write_text("\n".join(lines) + "\n", "utf-8")

    # ---- the guide's words, in this folder ----------------------------------------------------

    def paths(self, word: str) -> str:
        return (word.replace(BACKUP, str(self.backups / Path(BACKUP).name))
                .replace(INSTANCE, str(self.instance)).replace(APP_DIR, str(ROOT)))

    def clean_env(self, **extra: str) -> dict[str, str]:
        """What systemd or sudo gives a command: no variable of this test run (EVENTREG_ENV among them)."""
        return {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "HOME": str(self.folder), **extra}

    def run(self, line: str) -> str:
        words = shlex.split(line)
        if words[:2] == ["sudo", "systemctl"]:
            assert set(words[3:]) == {"eventreg-web", "eventreg-worker"}, line
            {"stop": self.stop, "start": self.start}[words[2]]()
            return ""
        if words[:2] == ["sudo", "sed"]:  # a shell line ($(...)), on the environment file
            done = subprocess.run(["sh", "-c", line.removeprefix("sudo ").replace(ENV_FILE, str(self.env_file))],
                                  env=self.clean_env(), capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, f"{line}\n{done.stderr}"
            return ""
        if words[0] == "curl":
            return self.healthy(urlsplit(words[-1]).path)
        if words[:3] == ["sudo", "-u", "postgres"]:
            argv, env = [NAME_WORD.sub(self.name, self.paths(w)) for w in words[3:]], self.clean_env(**self.pg)
        elif words[:3] == ["sudo", "-u", "eventreg"]:
            argv, env = [self.paths(w) for w in words[3:]], self.clean_env()
        elif words[:2] == ["sudo", "eventreg"]:
            argv = [str(DEPLOY / "eventreg"), *map(self.paths, words[2:])]
            env = self.clean_env(EVENTREG_ENV_FILE=str(self.env_file), EVENTREG_APP_DIR=str(ROOT),
                                 EVENTREG_NEW_PASSWORD=PASSWORD)  # users create asks at a terminal
        else:
            raise AssertionError(f"the drill cannot run {line!r} of docs/deploy.md")
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def start(self) -> None:
        """systemctl start: each unit's ExecStart, in its WorkingDirectory, with its EnvironmentFile."""
        for name in ("eventreg-web", "eventreg-worker"):
            settings = unit(name)
            assert settings["EnvironmentFile"] == ENV_FILE and settings["WorkingDirectory"] == APP_DIR
            argv = [self.paths(word) for word in shlex.split(settings["ExecStart"])]
            with open(self.folder / f"{name}.log", "ab") as log:
                self.processes[name] = processes.spawn(
                    argv, cwd=self.paths(settings["WorkingDirectory"]), stdout=log, stderr=subprocess.STDOUT,
                    env=self.clean_env(**read_env_file(self.env_file)))

    def stop(self) -> None:
        processes.stop(*self.processes.values())
        self.processes.clear()

    def healthy(self, path: str, seconds: float = 30) -> str:
        deadline = time.monotonic() + seconds
        while True:
            dead = [name for name, p in self.processes.items() if p.poll() is not None]
            assert not dead, f"{dead} exited:\n{self.logs()}"
            try:
                answer = httpx.get(self.base + path, timeout=5)
                if answer.status_code == 200:
                    assert answer.json() == {"status": "ok"}
                    return answer.text
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{path} not 200 within {seconds} s:\n{self.logs()}"
            time.sleep(0.2)

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
                         for log in sorted(self.folder.glob("*.log")))

    def drop_role(self) -> None:
        if self.kind == "postgresql":
            admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
                conn.execute(f'DROP ROLE IF EXISTS "{self.name}"')


class Browser:
    """A person's browser on the site: keeps every cookie, ``Secure`` ones too (nginx's https is
    not part of the drill, so the server's Secure cookies travel over its plain http here)."""

    def __init__(self, base: str):
        self.http = httpx.Client(base_url=base, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, **options) -> httpx.Response:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        answer = self.http.request(method, path, headers=headers, **options)
        for raw in answer.headers.get_list("set-cookie"):
            name, _, rest = raw.partition("=")
            self.cookies[name.strip()] = rest.split(";")[0]
        self.http.cookies.clear()
        return answer

    def close(self) -> None:
        self.http.close()


def sign_up(base: str, slug: str) -> httpx.Response:
    browser = Browser(base)
    try:
        page = browser.request("GET", f"/e/{slug}")
        assert page.status_code == 200, page.status_code
        [session_id] = set(re.findall(r'name="session_id"[^>]*value="(\d+)"', page.text)) or set(
            re.findall(r'value="(\d+)"[^>]*name="session_id"', page.text))
        data = form(int(session_id), EMAIL, csrf_token=csrf_from(page.text), signup_key=signup_key_from(page.text))
        for tag in re.findall(r"<input [^>]*>", page.text):
            attributes = dict(re.findall(r'(\w+)="([^"]*)"', tag))
            if attributes.get("type") == "radio" and attributes.get("name", "").startswith("q_"):
                data.setdefault(attributes["name"], attributes["value"])  # the example's question: first choice
        return browser.request("POST", f"/e/{slug}", data=data)
    finally:
        browser.close()


def mail_to(smtp: SMTPRecorder, address: str, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while not smtp.to(address):
        assert time.monotonic() < deadline, f"no mail to {address} within {seconds} s"
        time.sleep(0.2)
    return smtp.to(address)[0]


def registration_row(deployment: Deployment) -> tuple:
    """The attendee's registration as the restored database holds it: (status, token)."""
    query = "SELECT status, token FROM registration WHERE email = ?"
    if deployment.kind == "postgresql":
        url = deployment.database_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url) as conn:
            return conn.execute(query.replace("?", "%s"), (EMAIL,)).fetchall()
    import sqlite3

    conn = sqlite3.connect(deployment.database_url.removeprefix("sqlite:///"))
    try:
        return conn.execute(query, (EMAIL,)).fetchall()
    finally:
        conn.close()


@pytest.fixture
def deployment(tmp_path):
    kind = os.environ.get("EVENTREG_TEST_DB", "sqlite")
    smtp = SMTPRecorder().start()
    deployment = Deployment(kind, tmp_path, smtp.port)
    deployment.smtp = smtp
    try:
        yield deployment
    finally:
        deployment.stop()
        smtp.stop()
        deployment.drop_role()


def test_the_guide_from_nothing_to_a_restored_backup(deployment):
    started = time.monotonic()
    blocks = drill_blocks()
    for line in blocks["secret-key"]:
        deployment.run(line)
    assert len(read_env_file(deployment.env_file)["EVENTREG_SECRET_KEY"]) >= 48
    if deployment.kind == "postgresql":
        for line in blocks["setup-postgresql"]:
            deployment.run(line)
    for line in blocks["first-start"]:
        deployment.run(line)
    deployment.start()
    deployment.healthy("/healthz")
    slug = "csr-npo-case-study"  # docs/example-event.yaml, imported by the first-start block
    home = httpx.get(deployment.base + "/", timeout=10)
    assert home.status_code == 200 and f"/e/{slug}" in home.text

    answer = sign_up(deployment.base, slug)
    assert answer.status_code == 302, re.findall(r'<p class="error"[^>]*>([^<]*)', answer.text)
    mail = mail_to(deployment.smtp, EMAIL)
    body = mail.get_body(("plain",)).get_content()
    [token] = set(re.findall(r"https://events\.example\.org/r/([^/\s]+)", body))  # the guide's BASE_URL
    page = httpx.get(f"{deployment.base}/r/{token}", timeout=10)
    assert page.status_code == 200 and "山田" in page.text
    [(status_before, _)] = registration_row(deployment)

    [line] = blocks["backup"]
    said = deployment.run(line)
    backup = deployment.backups / Path(BACKUP).name
    assert f"backup written: {backup}" in said and "EVENTREG_SECRET_KEY" in said
    assert backup.stat().st_size > 10_000 and backup.stat().st_mode & 0o077 == 0

    # The disaster: the database is gone (PostgreSQL: dropped; SQLite: the file and its journal).
    deployment.stop()
    if deployment.kind == "postgresql":
        admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{deployment.name}" WITH (FORCE)')
    else:
        for path in deployment.instance.glob("eventreg.db*"):
            path.unlink()
    deployment.start()
    with pytest.raises(AssertionError, match="not 200"):
        deployment.healthy("/healthz", seconds=3)  # the health URL sees the loss

    for line in blocks[f"restore-{deployment.kind}"]:
        deployment.run(line)

    assert registration_row(deployment) == [(status_before, token)]
    page = httpx.get(f"{deployment.base}/r/{token}", timeout=10)
    assert page.status_code == 200 and "山田" in page.text
    pdf = httpx.get(f"{deployment.base}/r/{token}/pass.pdf", timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert httpx.get(f"{deployment.base}/e/{slug}", timeout=10).status_code == 200
    print(f"\nrestore drill ({deployment.kind}): {time.monotonic() - started:.1f} s")  # pytest -s shows it
