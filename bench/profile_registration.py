"""One worker, in process: SQL statements, CPU time and a pyinstrument profile per registration.

    .venv/bin/python bench/profile_registration.py [--requests 300] [--html out.html]

Creates its own throw-away PostgreSQL database and event exactly like bench/registration.py,
then, with Flask's test client (no gunicorn, no network client), GETs the event page once and
POSTs ``--requests`` valid registrations one after another. Reports:

* every SQL statement one registration POST sends (with round trips counted: BEGIN/COMMIT/
  SAVEPOINT and pool pre-ping included), and the same for the bare insert app;
* CPU milliseconds per POST in this process (time.process_time), without a profiler;
* a pyinstrument profile of the POSTs (text, and HTML if asked).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

# Run as `python bench/profile_registration.py`: bench/ is on the path, the harness is a sibling.
from registration import HOST, PG, ROOT, FormInputs, create_database, drop_database, form_values, migrate_and_import
from sqlalchemy import event as sa_event

NOT_SENT = "(not sent) "


class StatementLog:
    def __init__(self, engine):
        self.statements: list[str] = []
        sa_event.listen(engine, "before_cursor_execute", self.on_execute)
        sa_event.listen(engine, "begin", self.on_begin)
        sa_event.listen(engine, "commit", lambda conn: self.on_end(conn, "COMMIT"))
        sa_event.listen(engine, "rollback", lambda conn: self.on_end(conn, "ROLLBACK"))
        sa_event.listen(engine.pool, "checkout", self.on_checkout)
        self.pre_ping = engine.pool._pre_ping

    def on_begin(self, conn):
        self.begun_at = len(self.statements)
        self.statements.append("BEGIN (implicit)")

    def on_end(self, conn, what: str):
        """SQLAlchemy's BEGIN and COMMIT/ROLLBACK of a connection in autocommit send nothing."""
        if conn.connection.dbapi_connection.autocommit:
            self.statements[self.begun_at] = NOT_SENT + "BEGIN (autocommit)"
            what = NOT_SENT + f"{what} (autocommit)"
        self.statements.append(what)

    def on_execute(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(re.sub(r"\s+", " ", statement).strip())

    def on_checkout(self, dbapi_conn, record, proxy):
        if self.pre_ping:
            self.statements.append("SELECT 1 (pool_pre_ping on checkout)")


class Phases:
    """CPU (process_time) and wall time spent inside wrapped callables, inclusive."""

    def __init__(self):
        self.cpu: Counter = Counter()
        self.wall: Counter = Counter()
        self.calls: Counter = Counter()

    def wrap(self, name: str, fn):
        def timed(*a, **kw):
            c0, w0 = time.process_time(), time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.cpu[name] += time.process_time() - c0
                self.wall[name] += time.perf_counter() - w0
                self.calls[name] += 1
        return timed

    def report(self, requests: int) -> None:
        print(f"\n{'phase (inclusive)':<58} {'CPU ms':>7} {'wall ms':>8} {'calls':>6}  per POST")
        for name in self.cpu:
            print(f"{name:<58} {1000 * self.cpu[name] / requests:>7.2f} "
                  f"{1000 * self.wall[name] / requests:>8.2f} {self.calls[name] / requests:>6.1f}")


def instrument(app, phases: Phases) -> None:
    """Wrap the parts of one registration POST (no app code is changed)."""
    import flask_wtf

    from eventreg.domain.registration import signup
    from eventreg.extensions import csrf, db
    from eventreg.web import public

    app.wsgi_app = phases.wrap("whole request (Flask.wsgi_app)", app.wsgi_app)
    si = app.session_interface
    si.open_session = phases.wrap("  session cookie: open (itsdangerous)", si.open_session)
    si.save_session = phases.wrap("  session cookie: save (flash => re-sign)", si.save_session)
    csrf.protect = phases.wrap("  CSRF check (before_request)", csrf.protect)
    public._event_or_404 = phases.wrap("  _event_or_404: event (cache or one joined SELECT)", public._event_or_404)
    public.registration_form = phases.wrap("  registration_form: type() + bind fields", public.registration_form)
    original_validate = flask_wtf.FlaskForm.validate_on_submit
    flask_wtf.FlaskForm.validate_on_submit = phases.wrap("  form.validate_on_submit", original_validate)
    public._register = phases.wrap("  _register", public._register)
    signup.register = phases.wrap("    domain register(): UPDATE seat, 2 INSERT", signup.register)
    public._register_in_one_statement = phases.wrap("  _register_in_one_statement (PostgreSQL, autocommit)",
                                                    public._register_in_one_statement)
    signup.register_confirmed = phases.wrap("    domain register_confirmed(): one statement", signup.register_confirmed)
    with app.app_context():
        db.session.commit = phases.wrap("    db.session.commit", db.session.commit)
    public.url_for = phases.wrap("    url_for (after commit)", public.url_for)
    public.flash = phases.wrap("    flash", public.flash)
    with app.app_context():
        dialect = db.engine.dialect
        dialect.do_ping = phases.wrap("  pool_pre_ping SELECT 1 (inside the above)", dialect.do_ping)


def show(statements: list[str], title: str) -> None:
    sent = [s for s in statements if not s.startswith(NOT_SENT)]
    print(f"\n{title}: {len(sent)} statements / round trips")
    for i, s in enumerate(statements, 1):
        print(f"  {i:>2}. {s[:150]}{'…' if len(s) > 150 else ''}")



def profile(post, args) -> None:
    """A pyinstrument profile of ``args.requests`` more POSTs (pyinstrument is imported only here:
    ``--skip-profile`` runs without it)."""
    from pyinstrument import Profiler
    from pyinstrument.renderers import ConsoleRenderer

    profiler = Profiler(interval=0.0005)
    profiler.start()
    for n in range(args.requests):
        post(40_000 + n)
    profiler.stop()
    options = {"filter_threshold": args.threshold / 100}
    print(profiler.output(ConsoleRenderer(unicode=True, color=False, show_all=args.show_all,
                                          processor_options=options)))
    print(profiler.output(ConsoleRenderer(unicode=True, color=False, flat=True, processor_options=options)))
    if args.html:
        args.html.parent.mkdir(parents=True, exist_ok=True)
        args.html.write_text(profiler.output_html())
        print(f"pyinstrument HTML: {args.html}")

def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--show-all", action="store_true", help="pyinstrument: library frames too")
    parser.add_argument("--threshold", type=float, default=1.0, help="pyinstrument: hide frames below this %%")
    parser.add_argument("--skip-profile", action="store_true", help="no pyinstrument run")
    parser.add_argument("--html", type=Path, help="write the pyinstrument profile as HTML here")
    args = parser.parse_args()

    dbname = f"eventreg_bench_{secrets.token_hex(4)}"
    uri = f"postgresql+psycopg://postgres@{HOST}:5432/{dbname}"
    workdir = Path(tempfile.mkdtemp(prefix="eventreg-prof-"))
    os.environ["EVENTREG_SQLALCHEMY_DATABASE_URI"] = uri
    os.environ["EVENTREG_ENV"] = "development"
    os.environ["EVENTREG_INSTANCE_PATH"] = str(workdir / "instance")
    os.environ["BARE_DATABASE_URI"] = uri
    # One client address, as bench/registration.py: the limiter stays on, at a rate never reached.
    os.environ["EVENTREG_RATELIMIT_SIGNUP_PER_ADDRESS"] = "10000000/hour"
    os.environ["EVENTREG_RATELIMIT_SIGNUP_PER_EVENT"] = "10000000/hour"
    env = dict(os.environ)
    create_database(dbname)
    try:
        slug, _ = migrate_and_import(env, workdir, prefix="prof")

        sys.path.insert(0, str(ROOT))
        from eventreg import create_app
        from eventreg.extensions import db

        app = create_app()
        # No cookie jar: every POST carries the cookie from the GET, like the wrk script (a jar
        # would keep each POST's re-signed cookie, and the unread flashes would pile up in it).
        client = app.test_client(use_cookies=False)
        page = client.get(f"/e/{slug}")
        assert page.status_code == 200, page.status_code
        cookie = page.headers["Set-Cookie"].split(";", 1)[0]
        fields = FormInputs()
        fields.feed(page.get_data(as_text=True))
        form = form_values(fields.fields)

        def post(n: int):
            email = f"prof{n}@example.org"
            r = client.post(f"/e/{slug}", data={**form, "email": email, "email_confirm": email,
                                                "signup_key": f"profile-key-{n:08d}"},
                            headers={"Cookie": cookie})
            assert r.status_code == 302 and "/r/" in r.headers["Location"], (r.status_code, r.get_data(as_text=True)[-1500:])
            return r

        with app.app_context():
            log = StatementLog(db.engine)
        for n in range(20):  # warm-up: caches, prepared statements
            post(n)
        log.statements.clear()
        post(10_000)
        show(log.statements, "registration POST")
        kinds = Counter(s.split()[0].upper() for s in log.statements if not s.startswith(NOT_SENT))
        print("  by kind:", dict(kinds))

        # CPU per POST, no profiler.
        t0, c0 = time.perf_counter(), time.process_time()
        for n in range(args.requests):
            post(20_000 + n)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"\n{args.requests} POSTs one after another: {1000 * wall / args.requests:.2f} ms wall, "
              f"{1000 * cpu / args.requests:.2f} ms CPU of this process per POST")

        phases = Phases()
        instrument(app, phases)
        for n in range(args.requests):
            post(30_000 + n)
        phases.report(args.requests)

        if not args.skip_profile:
            profile(post, args)

        # The bare app, same statement accounting.
        import psycopg
        from bare_app import CREATE_TABLE_SQL
        from bare_app import create_app as create_bare

        with psycopg.connect(dbname=dbname, autocommit=True, **PG) as conn:
            conn.execute(CREATE_TABLE_SQL)
        bare = create_bare()
        bclient = bare.test_client()
        from bare_app import db as bare_db

        with bare.app_context():
            blog = StatementLog(bare_db.engine)
        for n in range(20):
            bclient.post("/insert", data={**form, "email": f"b{n}@example.org"})
        blog.statements.clear()
        bclient.post("/insert", data={**form, "email": "bare@example.org"})
        show(blog.statements, "bare insert POST")
        c0 = time.process_time()
        for n in range(args.requests):
            bclient.post("/insert", data={**form, "email": f"bb{n}@example.org"})
        print(f"bare: {1000 * (time.process_time() - c0) / args.requests:.2f} ms CPU per POST")
        with app.app_context():
            db.engine.dispose()
        with bare.app_context():
            bare_db.engine.dispose()
    finally:
        drop_database(dbname)


if __name__ == "__main__":
    main()
