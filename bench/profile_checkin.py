"""One worker, in process: SQL statements and CPU time per scanner check-in, against the bare UPDATE.

    .venv/bin/python bench/profile_checkin.py [--requests 2000] [--profile] [--html out.html]

Creates its own throw-away PostgreSQL database exactly like bench/checkin.py (event, API token,
signed passes, the bare app's table), then calls each app's WSGI callable directly (no gunicorn,
no network client, no test client: the environ of each request is built beforehand) with
``--requests`` check-ins of passes never sent before, one after another. Reports:

* every SQL statement one check-in sends (BEGIN/COMMIT and pool pre-ping counted), and the bare's;
* CPU milliseconds per request in this process (time.process_time), without a profiler, for both;
  the ratio of the two is what the load benchmark's ratio tends to when the server's CPU decides;
* with ``--profile``, a pyinstrument profile of the check-ins.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

# Run as `python bench/profile_checkin.py`: bench/ is on the path, the harnesses are siblings.
from checkin import setup_database
from profile_registration import StatementLog, show
from registration import HOST, ROOT, create_database, drop_database
from sqlalchemy import event as sa_event
from werkzeug.test import EnvironBuilder


class Log(StatementLog):
    def __init__(self, engine):
        super().__init__(engine)
        self.engine = engine

    def stop(self) -> None:
        """Not part of the CPU figures: the listener's regular expression costs more than some SQL."""
        sa_event.remove(self.engine, "before_cursor_execute", self.on_execute)


def environs(path: str, payloads: list[str], auth: str) -> list[dict]:
    """WSGI environs as gunicorn hands them over (built before the clock starts)."""
    out = []
    for payload in payloads:
        builder = EnvironBuilder(path=path, method="POST", data=json.dumps({"payload": payload}),
                                 headers={"Authorization": auth, "Content-Type": "application/json"})
        environ = builder.get_environ()
        environ["RAW_URI"] = path
        out.append(environ)
    return out


def call(app, environ: dict) -> bytes:
    status = []
    body = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    if not status[0].startswith("200") or b'"result":"ok"' not in body.replace(b" ", b""):
        raise SystemExit(f"not a check-in: {status[0]} {body[:300]!r}")
    return body


def cpu_per_request(app, batch: list[dict]) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    for environ in batch:
        call(app, environ)
    n = len(batch)
    return 1000 * (time.process_time() - c0) / n, 1000 * (time.perf_counter() - t0) / n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="alternating measured rounds of each app")
    parser.add_argument("--profile", action="store_true", help="a pyinstrument profile of the check-ins")
    parser.add_argument("--html", type=Path, help="write the pyinstrument profile as HTML here")
    parser.add_argument("--cprofile", action="store_true", help="cProfile (CPU time) of the check-ins, top 45")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    args = parser.parse_args()

    dbname = f"eventreg_bench_{secrets.token_hex(4)}"
    uri = f"postgresql+psycopg://postgres@{HOST}:5432/{dbname}"
    workdir = Path(tempfile.mkdtemp(prefix="eventreg-prof-"))
    os.environ.update({"EVENTREG_SQLALCHEMY_DATABASE_URI": uri, "EVENTREG_ENV": "development",
                       "EVENTREG_INSTANCE_PATH": str(workdir / "instance"), "BARE_DATABASE_URI": uri})
    env = dict(os.environ)
    create_database(dbname)
    needed = 100 + args.requests * (args.rounds + 1 + args.profile + args.cprofile)
    try:
        event_id, api_token, ours, bare_tokens = setup_database(dbname, env, needed, workdir)
        sys.path.insert(0, str(ROOT))
        from bare_app import create_app as create_bare
        from bare_app import db as bare_db

        from eventreg import create_app
        from eventreg.extensions import db

        app, bare = create_app(), create_bare()
        auth = f"Bearer {api_token}"
        ours_env = environs(f"/api/v1/events/{event_id}/checkins", ours, auth)
        bare_env = environs("/checkin", bare_tokens[:len(ours)], auth)
        with app.app_context():
            log = Log(db.engine)
        with bare.app_context():
            blog = Log(bare_db.engine)
        for _n in range(50):  # warm-up: caches, prepared statements (psycopg prepares after 5)
            call(app, ours_env.pop())
            call(bare, bare_env.pop())
        log.statements.clear()
        call(app, ours_env.pop())
        show(log.statements, "check-in POST")
        blog.statements.clear()
        call(bare, bare_env.pop())
        show(blog.statements, "bare check-in POST")
        log.stop()
        blog.stop()

        print(f"\nCPU ms per request in this process, {args.requests} requests a round:")
        figures = []
        for r in range(args.rounds):
            ours_cpu, ours_wall = cpu_per_request(app, [ours_env.pop() for _ in range(args.requests)])
            bare_cpu, bare_wall = cpu_per_request(bare, [bare_env.pop() for _ in range(args.requests)])
            figures.append((ours_cpu, bare_cpu))
            print(f"  round {r + 1}: check-in {ours_cpu:.3f} ms CPU ({ours_wall:.3f} wall) | "
                  f"bare {bare_cpu:.3f} ms CPU ({bare_wall:.3f} wall) | bare/check-in {bare_cpu / ours_cpu:.2f}")
        best_ours, best_bare = min(f[0] for f in figures), min(f[1] for f in figures)
        print(f"  best: check-in {best_ours:.3f} ms, bare {best_bare:.3f} ms, bare/check-in {best_bare / best_ours:.2f}")

        if args.profile:
            from pyinstrument import Profiler
            from pyinstrument.renderers import ConsoleRenderer

            batch = [ours_env.pop() for _ in range(args.requests)]
            profiler = Profiler(interval=0.0002)
            profiler.start()
            for environ in batch:
                call(app, environ)
            profiler.stop()
            print(profiler.output(ConsoleRenderer(unicode=True, color=False, show_all=True,
                                                  processor_options={"filter_threshold": 0.01})))
            print(profiler.output(ConsoleRenderer(unicode=True, color=False, flat=True, show_all=True)))
            if args.html:
                args.html.write_text(profiler.output_html())
        if args.cprofile:
            import cProfile
            import pstats

            batch = [ours_env.pop() for _ in range(args.requests)]
            profiler = cProfile.Profile(time.process_time)
            profiler.runcall(lambda: [call(app, environ) for environ in batch])
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        with app.app_context():
            db.engine.dispose()
        with bare.app_context():
            bare_db.engine.dispose()
    finally:
        if args.keep_db:
            print(f"kept database {dbname}")
        else:
            drop_database(dbname)


if __name__ == "__main__":
    main()
