"""How long name badges take, and how much memory a big sheet needs in the worker.

    .venv/bin/python bench/badges.py [--renders 30] [--attendees 1000] [--db sqlite|URL]

Prints:
- warm: median and p95 of --renders one-badge PDFs in this process after one warm-up render,
  each for a different attendee (so the QR cache never helps; contexts built by hand, as
  domain.registration.passes.pass_context would build them);
- sheet: the badge sheet as the worker makes it: --attendees confirmed registrations (varied
  Japanese names and organisations) in a fresh database (SQLite, or a temporary PostgreSQL
  database with --db), a queued badge_sheet job, and ``worker.run_job`` in this process: claim,
  read the registrations, build the contexts, render in chunks (2 worker processes) reporting
  progress to the job row, store the PDF as a StoredFile, mark the job done. Wall time of
  run_job, the PDF's pages and size, and peak memory three ways: the sum of this process's
  and its descendants' RSS and PSS sampled from /proc every 20 ms (PSS splits pages shared
  after a fork fairly: the honest total), and getrusage's max RSS of this process plus the
  largest finished child.
Runs in a fresh process, so the sheet includes starting the worker processes.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import threading
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FAMILY = [("佐藤", "さとう"), ("鈴木", "すずき"), ("高橋", "たかはし"), ("田中", "たなか"),
          ("渡邊", "わたなべ"), ("伊藤", "いとう"), ("山本", "やまもと"), ("中村", "なかむら"),
          ("小林", "こばやし"), ("加藤", "かとう"), ("吉田", "よしだ"), ("山田", "やまだ"),
          ("齋藤", "さいとう"), ("髙橋", "たかはし"), ("長谷川", "はせがわ"), ("勅使河原", "てしがわら")]
GIVEN = [("真由美", "まゆみ"), ("大輔", "だいすけ"), ("花子", "はなこ"), ("翔太", "しょうた"),
         ("美咲", "みさき"), ("健一", "けんいち"), ("由紀子", "ゆきこ"), ("誠", "まこと"),
         ("陽菜", "ひな"), ("浩二", "こうじ"), ("智恵", "ちえ"), ("龍之介", "りゅうのすけ")]
ORGS = ["特定非営利活動法人 ちば市民活動・市民事業サポートクラブ", "千葉市役所", "株式会社ミライ会計",
        "一般社団法人 地域福祉ネットワーク", "NPO法人 こども食堂ふなばし", "ちば環境保全の会",
        "社会福祉法人 房総やすらぎ会 特別養護老人ホーム", "", "Chiba International Volunteers"]
DEPTS = ["事業推進部", "総務課", "", "地域連携推進室", "経理・財務グループ", ""]


def make_ctx(i: int, rng: random.Random) -> dict:
    from eventreg.domain.registration.passes import new_token, sign_pass

    (fam, fam_kana), (giv, giv_kana) = rng.choice(FAMILY), rng.choice(GIVEN)
    token = new_token()

    def utc(*args):
        return datetime(*args, tzinfo=timezone.utc)

    return {
        "token": token, "qr_payload": sign_pass("bench-seed", 1, 1000 + i, 1), "status": "confirmed",
        "event": {
            "id": 1, "slug": "kaikei-2019", "timezone": "Asia/Tokyo", "language": "ja",
            "title": "NPO法人のための会計・税務実務セミナー ―― 新しい寄附税制をわかりやすく解説します",
        },
        "session": {"id": 1, "title": "第1部 基礎編", "doors_at": utc(2019, 2, 8, 4, 30),
                    "starts_at": utc(2019, 2, 8, 5, 0), "ends_at": utc(2019, 2, 8, 8, 0)},
        "attendee": {
            "full_name": f"{fam} {giv}", "full_kana": f"{fam_kana} {giv_kana}",
            "organization": rng.choice(ORGS), "department": rng.choice(DEPTS),
            "email": f"user{i}@example.jp",
        },
        "links": {},
    }


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def _tree(root: int) -> list[int]:
    """``root`` and all its descendants (a forkserver's workers are grandchildren)."""
    parents: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            parents.setdefault(ppid, []).append(int(name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def _memory_kib(pids: list[int]) -> tuple[int, int]:
    rss = pss = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            pass
    return rss, pss


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.peak_rss = self.peak_pss = 0
        self.cpu_ticks: dict[int, int] = {}  # descendants' user + system time, last seen

    def run(self) -> None:
        me = os.getpid()
        while not self.stop.is_set():
            pids = _tree(me)
            rss, pss = _memory_kib(pids)
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            for pid in pids:
                if pid != me:
                    try:
                        with open(f"/proc/{pid}/stat") as f:
                            fields = f.read().rsplit(")", 1)[1].split()
                        self.cpu_ticks[pid] = int(fields[11]) + int(fields[12])
                    except OSError:
                        pass
            self.stop.wait(0.02)


def sheet_job(args):
    """Queues and runs the badge-sheet job for --attendees people; returns the PDF and figures."""
    from flask_migrate import upgrade
    from tick import database

    from eventreg import create_app
    from eventreg.domain.backoffice import jobs
    from eventreg.extensions import db
    from eventreg.models import Job
    from eventreg.worker import run_job
    from tests import factories

    url, drop = database(args.db)
    try:
        app = create_app({"ENV": "development", "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade()
            event = factories.make_event(capacity=args.attendees,
                                         title="NPO法人のための会計・税務実務セミナー ―― 新しい寄附税制をわかりやすく解説します")
            factories.bulk_confirmed(event.sessions[0], args.attendees)
            jobs.queue_badge_sheet(event.id, factories.in_days(0))
            db.session.commit()
            db.session.remove()
        sampler = Sampler()
        sampler.start()
        wall, cpu = time.perf_counter(), time.process_time()
        job_id = run_job(app, worker_id="bench")
        seconds, parent_cpu = time.perf_counter() - wall, time.process_time() - cpu
        sampler.stop.set()
        sampler.join()
        with app.app_context():
            job = db.session.get(Job, job_id)
            assert job.status.value == "done", (job.status, job.error)
            body = job.result_file.data
            progress = f"{job.progress} of {job.total}"
            db.session.remove()
        return body, seconds, parent_cpu, sampler, progress
    finally:
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=30)
    parser.add_argument("--attendees", type=int, default=1000)
    parser.add_argument("--db", default="sqlite", help="sqlite, or postgresql+psycopg://user@host/db")
    parser.add_argument("--out", default=None, help="write the sheet PDF here")
    args = parser.parse_args()

    from eventreg import create_app
    from eventreg.adapters import badges

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f} at start")
    rng = random.Random(8)
    app = create_app({"ENV": "development", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        badges.render_badge(make_ctx(0, rng))  # warm-up: import, fonts, stylesheets
        walls, cpus = [], []
        for i in range(args.renders):
            ctx = make_ctx(i, rng)
            wall, cpu = time.perf_counter(), time.process_time()
            size = len(badges.render_badge(ctx))
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        print(f"warm  one badge PDF, {args.renders} renders  wall median "
              f"{statistics.median(walls):6.1f} ms  p95 {p95(walls):6.1f} ms | cpu median "
              f"{statistics.median(cpus):6.1f} ms  p95 {p95(cpus):6.1f} ms | {size / 1024:.0f} KiB")

    body, seconds, parent_cpu, sampler, progress = sheet_job(args)
    if args.out:
        with open(args.out, "wb") as f:
            f.write(body)
    import io

    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(body)).pages)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"sheet {args.attendees} attendees, {pages} A4 pages, {len(body) / 1024 / 1024:.1f} MiB: "
          f"wall {seconds:5.2f} s | cpu: this process {parent_cpu:5.2f} s (QR codes, HTML, join, "
          f"memory sampling, database), worker processes "
          f"{sum(sampler.cpu_ticks.values()) / os.sysconf('SC_CLK_TCK'):5.2f} s")
    print(f"      peak memory, sampled: RSS sum {sampler.peak_rss / 1024:.0f} MB, "
          f"PSS sum {sampler.peak_pss / 1024:.0f} MB | getrusage: self {own / 1024:.0f} MB "
          f"+ largest child {child / 1024:.0f} MB = {(own + child) / 1024:.0f} MB")
    print(f"      job progress at the end: {progress} badges")
    print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
