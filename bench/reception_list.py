"""The reception list PDF (受付名簿) of 500 people, as the worker makes it.

    .venv/bin/python bench/reception_list.py [--people 500] [--runs 3] [--db sqlite|URL]

A database built by the migrations (a temporary SQLite file by default; --db a PostgreSQL admin
URL for a fresh database there, tests/pg.py) gets one event with --people confirmed people
(tests.factories.bulk_confirmed: 20 families over あ–わ行, long organizations) plus four hard
names (𠮷野 𩸽子, ヴァン, 髙﨑, 渡邉). Each run times what worker._reception_list does before
storing the file: the query and context (domain.backoffice.exports.reception_list) and the PDF
(adapters.pdf.render_reception_list, typst), in a worker-like process that has rendered another
list before (imports, typst's font index: not counted) but never this one: typst memoizes
layout within a process (the same list again takes ~30 ms), so each run is a new process.

The floor, measured in the same run, also in a new process each: a bare typst document of the
same content, the same rows of strings in a plain table with a repeated header and the same
fonts, compiled from a context already made. Ends with a RESULT line (bench/result.py): median
of --runs, target ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TARGET_S = 0.5
HARD = [("𠮷野", "𩸽子", "ヨシノ", "ホッケコ"), ("ヴァン", "太郎", "ヴァン", "タロウ"),
        ("髙﨑", "花子", "タカサキ", "ハナコ"), ("渡邉", "一", "ワタナベ", "ハジメ")]

# The floor: the list's strings in a plain table whose header repeats, nothing styled.
BARE = """#let d = json(bytes(sys.inputs.data))
#set page(paper: "a4", footer: context counter(page).display("1 / 1", both: true))
#set text(font: chain)
#table(columns: 4, table.header(..d.columns), ..d.cells)
"""


def database(arg: str):
    if arg == "sqlite":
        folder = tempfile.mkdtemp(prefix="eventreg-reception-list-")
        return f"sqlite:///{folder}/bench.db", lambda: None
    from tests.pg import PG_ADMIN_URL, fresh_database

    return fresh_database(arg or PG_ADMIN_URL, prefix="eventreg_bench")


def child(what: str, url: str, event_id: int) -> None:
    """One measurement in this fresh process, printed as JSON: ``figure`` (as the worker) or ``floor``."""
    import typst
    from flask_babel import force_locale

    from eventreg import create_app
    from eventreg.adapters import fonts, typst_pdf
    from eventreg.domain.backoffice import exports, roster
    from eventreg.extensions import db
    from eventreg.models import Event
    from eventreg.web import documents

    app = create_app({"ENV": "development", "SQLALCHEMY_DATABASE_URI": url, "MAIL_PORT": 1})
    dirs = sorted({os.path.dirname(font.file) for font in fonts.chain_fonts()})
    bare = typst.Compiler(font_paths=dirs, ignore_system_fonts=True)
    bare_source = (typst_pdf.preamble() + BARE).encode()

    def context() -> dict:
        ctx = exports.reception_list(db.session.get(Event, event_id), roster.ListFilter(),
                                     now=datetime.now(timezone.utc))
        db.session.rollback()
        return ctx

    with app.app_context():
        # Another list first: the imports and typst's fonts, as in a worker that has made one before.
        other = context()
        other["groups"] = [{"heading": "さ行", "people": [
            {"kana": "シケン タロウ", "name": "試験 太郎", "organization": "前の名簿", "department": "", "session": ""}]}]
        with force_locale(other["language"]):
            documents.reception_list_pdf(other)
        bare.compile(input=bare_source, sys_inputs={"data": json.dumps({"columns": ["a"] * 4, "cells": ["b"] * 4})})
        started, started_cpu = time.perf_counter(), time.process_time()
        if what == "figure":
            ctx = context()
            with force_locale(ctx["language"]):
                size = len(documents.reception_list_pdf(ctx))
        else:
            with force_locale(other["language"]):
                data = documents.reception_list_data(context())
            cells = [text for group in data["groups"] for person in group["people"]
                     for text in (group["heading"], *person[:3])]
            inputs = {"data": json.dumps({"columns": data["columns"][:4], "cells": cells}, ensure_ascii=False)}
            started, started_cpu = time.perf_counter(), time.process_time()  # from a context already made
            size = len(bare.compile(input=bare_source, sys_inputs=inputs))
        print(json.dumps({"wall": time.perf_counter() - started, "cpu": time.process_time() - started_cpu,
                          "size": size}))


def measure(what: str, url: str, event_id: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", what, "--url", url, "--event-id", str(event_id)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    from result import emit

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", default="sqlite", help="sqlite, or a PostgreSQL admin URL ('' for tests/pg.py's)")
    parser.add_argument("--child", choices=["figure", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--event-id", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.url, args.event_id)

    from flask_migrate import upgrade

    from eventreg import create_app
    from tests import factories

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    url, drop = database(args.db)
    try:
        app = create_app({"ENV": "development", "SQLALCHEMY_DATABASE_URI": url, "MAIL_PORT": 1})
        with app.app_context():
            upgrade()
            event = factories.make_event(capacity=args.people + 10, title="第12回 市民活動フォーラム")
            factories.bulk_confirmed(event.sessions[0], args.people - len(HARD))
            for family, given, family_kana, given_kana in HARD:
                factories.register_person(event, family_name=family, given_name=given,
                                          family_kana=family_kana, given_kana=given_kana)
            event_id = event.id
        figures, cpus, floors = [], [], []
        for run in range(args.runs):
            done, floor = measure("figure", url, event_id), measure("floor", url, event_id)
            figures.append(done["wall"])
            cpus.append(done["cpu"])
            floors.append(floor["wall"])
            print(f"run {run + 1}: {args.people} people, query + context + PDF {done['wall']:6.3f} s wall "
                  f"{done['cpu']:6.3f} s CPU, {done['size'] / 1e3:.0f} kB | floor (bare typst table) "
                  f"{floor['wall']:6.3f} s wall {floor['cpu']:6.3f} s CPU")
        print(f"{url.split(':')[0]}; load average {os.getloadavg()[0]:.2f} at end")
        figure = statistics.median(figures)
        emit("reception_list_500", figure, "s", floor=statistics.median(floors),
             floor_what=f"bare typst table of the same {args.people} rows, same fonts",
             target=f"<= {TARGET_S} s", met=figure <= TARGET_S, runs=args.runs)
    finally:
        drop()


if __name__ == "__main__":
    main()
