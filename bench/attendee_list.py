"""The attendee list with 5,000 registrations on PostgreSQL: p50/p95 of every filter, search and sort.

    .venv/bin/python bench/attendee_list.py [--people 5000] [--repeat 30] [--db URL|sqlite] [--profile KIND]

A fresh database (tests/pg.py fresh_database; dropped afterwards) gets one event with two
sessions and four questions, and --people registrations from tests/roster_people.py (furigana of
every 五十音 row, ten organizations of every sector, ~6 % cancelled, ~3 % waiting, ~35 % checked
in, some walk-ins, answers). An owner signs in through the real /login form; then every kind of
request is sent --repeat times through the Flask test client, which runs the whole stack (routing,
sessions, access check, the queries, the full Jinja page of 100 rows with counts): the time is
from request to the last byte of the response body. Prints p50/p95 per kind and overall.
--profile KIND prints a cProfile of that kind's requests.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time
from datetime import timedelta
from urllib.parse import quote

from in_process import BACK_OFFICE, migrated_app, percentile, signed_in
from result import emit

TARGET_MS = 200


def kinds(event) -> dict[str, list[str]]:
    """Each kind of request: a few variants, cycled through."""
    s1, s2 = (s.id for s in event.sessions)
    single, multiple, text, checkbox = (q.id for q in event.questions)

    def q(text: str) -> str:
        return "q=" + quote(text)

    return {
        "all (kana order)": [""],
        "page 30 of 46": ["page=30"],
        "filter session": [f"session={s1}", f"session={s2}"],
        "filter status": ["status=confirmed", "status=waitlisted", "status=cancelled", "status=checked_in",
                          "status=not_arrived", "status=no_show"],
        "filter sector": ["sector=company", "sector=npo", "sector=government", "sector=university"],
        "filter walk-in": ["walk_in=1", "walk_in=0"],
        "filter answer (choice)": [f"question={single}&answer=" + quote("情報収集"),
                                   f"question={multiple}&answer=" + quote("福祉")],
        "filter answer (text)": [f"question={text}&answer=" + quote("駐車場")],
        "filter answer (yes/no)": [f"question={checkbox}&answer=yes"],
        "filter combined": [f"session={s1}&status=not_arrived&sector=npo&sort=organization"],
        "search hiragana": [q("やまだ"), q("さとう"), q("たかはし はなこ")],
        "search katakana": [q("ヤマダ"), q("サトウ"), q("ヴィレット")],
        "search half-width": [q("ﾔﾏﾀﾞ"), q("ｻﾄｳ"), q("ﾀｶﾊｼ")],
        "search kanji name": [q("山田"), q("高橋"), q("渡邊")],
        "search organization": [q("市役所"), q("ミライ"), q("Volunteers")],
        "search email": [q("person123."), q("@example.org"), q("person4999")],
        "search nobody": [q("存在しない人"), q("100%")],
        "sort organization": ["sort=organization"],
        "sort sign-up": ["sort=created"],
        "sort arrival": ["sort=arrival"],
        "with answers": ["answers=1", "answers=1&sort=created"],
    }


class SqlClock:
    """Wall time spent in the database driver (statement sent to rows fetched), per request."""

    def __init__(self):
        self.total = 0.0
        self._started = 0.0

    def attach(self, engine) -> None:
        from sqlalchemy import event

        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *args) -> None:
        self._started = time.perf_counter()

    def _after(self, *args) -> None:
        self.total += time.perf_counter() - self._started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--db", default="postgresql", help="postgresql (a fresh database on 127.0.0.1), a server URL, or sqlite")
    parser.add_argument("--profile", default="", help="a kind to profile, e.g. 'search hiragana'")
    args = parser.parse_args()

    from sqlalchemy import text

    from eventreg.extensions import db
    from tests import factories
    from tests.roster_people import insert_people

    with migrated_app(args.db, **BACK_OFFICE) as app:
        with app.app_context():
            start = factories.in_days(-1)  # the first session ended yesterday: no-shows exist
            event = factories.make_event(title="ベンチマーク用セミナー", sessions=[
                {"title": "第1回", "date": start.date().isoformat(), "start": "14:00", "end": "17:00", "capacity": 5000},
                {"title": "第2回", "date": (start + timedelta(days=8)).date().isoformat(), "start": "14:00",
                 "end": "17:00", "capacity": 5000},
            ], questions=[
                {"label": "参加の目的", "kind": "single", "choices": ["情報収集", "ネットワーク作り", "登壇者の話を聞きたい"]},
                {"label": "関心分野", "kind": "multiple", "choices": ["教育", "福祉", "環境", "まちづくり"]},
                {"label": "ご質問", "kind": "text"},
                {"label": "懇親会に参加する", "kind": "checkbox"},
            ])
            made = time.perf_counter()
            insert_people(event, args.people)
            if db.engine.dialect.name == "postgresql":
                db.session.execute(text("ANALYZE"))
                db.session.commit()
            owner = factories.make_staff("owner", events=[event], name="ベンチ 主催")
            plan, event_id, email, dialect = kinds(event), event.id, owner.email, db.engine.dialect.name
            print(f"{db.engine.dialect.name}: {args.people} registrations "
                  f"(made in {time.perf_counter() - made:.1f} s); {args.repeat} requests per kind")
            db.session.remove()

        client = signed_in(app, email)
        base = f"/admin/events/{event_id}/attendees"
        for variants in plan.values():  # warm: connections, statement and template caches
            for query in variants:
                assert client.get(f"{base}?{query}").status_code == 200

        sql = SqlClock()
        with app.app_context():
            sql.attach(db.engine)
        results: dict[str, list[float]] = {}
        sql_times: dict[str, list[float]] = {}
        cpu_times: dict[str, list[float]] = {}
        profiler = cProfile.Profile() if args.profile else None
        for kind, variants in plan.items():
            times = results.setdefault(kind, [])
            in_sql = sql_times.setdefault(kind, [])
            cpu = cpu_times.setdefault(kind, [])
            for i in range(args.repeat):
                query = variants[i % len(variants)]
                if profiler and kind == args.profile:
                    profiler.enable()
                sql.total = 0.0
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.get(f"{base}?{query}")
                body = response.get_data()
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
                in_sql.append(sql.total * 1000)
                if profiler:
                    profiler.disable()
                assert response.status_code == 200 and b"</html>" in body, (kind, query, response.status_code)

        width = max(map(len, results))
        print(f"{'kind':<{width}}  {'p50 ms':>7}  {'p95 ms':>7}  {'max ms':>7}  {'SQL p50':>7}  {'CPU p50':>7}")
        everything, all_sql, all_cpu = [], [], []
        for kind, times in results.items():
            everything += times
            all_sql += sql_times[kind]
            all_cpu += cpu_times[kind]
            print(f"{kind:<{width}}  {statistics.median(times):7.1f}  {percentile(times, 95):7.1f}  {max(times):7.1f}"
                  f"  {statistics.median(sql_times[kind]):7.1f}  {statistics.median(cpu_times[kind]):7.1f}")
        p95 = percentile(everything, 95)
        print(f"{'overall':<{width}}  {statistics.median(everything):7.1f}  {p95:7.1f}  {max(everything):7.1f}"
              f"  {statistics.median(all_sql):7.1f}  {statistics.median(all_cpu):7.1f}")
        print("(p50/p95/max: wall time per request; SQL: wall time inside the driver; CPU: this process's CPU"
              " time, i.e. the app and the test client, without PostgreSQL's)")
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"target p95 < {TARGET_MS} ms: {'met' if p95 < TARGET_MS else 'MISSED'}")
        emit(f"attendee list, {args.people} registrations, {len(results)} kinds, p95 ({dialect})", p95, "ms",
             floor=percentile(all_sql, 95), floor_what="time inside the database driver, same requests (p95)",
             target=f"< {TARGET_MS} ms", met=p95 < TARGET_MS, runs=args.repeat)
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)


if __name__ == "__main__":
    main()
