"""Runs the target benchmarks of issue 15 and prints one markdown table of their RESULT lines.

    .venv/bin/python bench/targets.py                              # every target bench, --runs 3
    .venv/bin/python bench/targets.py --only checkin,registration --runs 1
    .venv/bin/python bench/targets.py --list [--all]               # the benches and their commands
    .venv/bin/python bench/targets.py --all                        # + the earlier figures kept current
    .venv/bin/python bench/targets.py --command 'mine=.venv/bin/python bench/x.py --runs {runs}'

Each bench is a command that ends with ``RESULT {json}`` lines (bench/result.py): one per target,
with its floor measured in the same run. The commands run one after the other (never two at once:
they would measure each other); each is bounded by --timeout seconds, after which it gets SIGINT (so
its own cleanup stops its servers and drops its database) and, after a grace period, SIGKILL for it
and every process it started. A bench's output goes to stderr as it runs; the table goes to stdout.
A bench that printed no RESULT line is a row that says so (with its exit status and last line).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = os.path.relpath(sys.executable, ROOT) if sys.executable.startswith(str(ROOT)) else sys.executable
GRACE_S = 30  # after SIGINT: time for a bench's finally blocks (servers stopped, database dropped)


@dataclass
class Bench:
    name: str
    command: str  # run from the repository root; {python} and {runs} are filled in
    measures: str  # what its RESULT lines are about (issue 15's targets)

    def argv(self, runs: int) -> list[str]:
        return shlex.split(self.command.format(python=PYTHON, runs=runs))


# Issue 15's targets, in the order of the issue; each part converts its bench to print RESULT lines.
BENCHES = [
    Bench("documents", "{python} bench/documents.py --runs {runs}",
          "1,000-badge sheet and one badge: typst vs reportlab vs WeasyPrint side by side"),
    Bench("badges", "{python} bench/badges.py --runs {runs}",
          "1,000-badge sheet as a worker job (<= 2 s wall, < 200 MB PSS); one badge (<= 30 ms)"),
    Bench("reception_list", "{python} bench/reception_list.py --runs {runs}", "reception list for 500 (<= 0.5 s)"),
    Bench("pdf_pass", "{python} bench/pdf_pass.py --runs {runs}", "pass PDF warm, any name (<= 100 ms)"),
    Bench("checkin", "{python} bench/checkin.py --levels 8 --runs {runs}",
          "check-in at c=8 (>= 0.6 of the bare UPDATE, p99 < 30 ms)"),
    Bench("registration", "{python} bench/registration.py --levels 8,32 --runs {runs}",
          "sign-up with the limiter on (>= 0.65 of the bare insert at c=8, >= 0.6 at c=32)"),
    Bench("desk_offline", "{python} bench/desk_offline.py --runs {runs}", "two-desk drain of 310 operations (<= 5 s)"),
    Bench("certificates", "{python} bench/certificates.py --runs {runs}",
          "1,000 certificates of attendance as a worker job (issue 17: the badge sheet's <= 2 s, < 200 MB)"),
]

# The earlier figures docs/benchmarks.md keeps current (--all, or by name); their own --repeat.
OTHERS = [
    Bench("roster_sync", "{python} bench/roster_sync.py", "the desk's roster, full and delta, against a bare SELECT"),
    Bench("stats", "{python} bench/stats.py --db postgresql", "statistics pages, p95 (< 300 ms)"),
    Bench("attendee_list", "{python} bench/attendee_list.py --repeat 20", "attendee list, 21 kinds, p95 (< 200 ms)"),
    Bench("exports", "{python} bench/exports.py", "export of 10,000 registrations, CSV (< 0.5 s) and XLSX (< 2.5 s)"),
    Bench("messages", "{python} bench/messages.py --db postgresql", "queuing a message to 2,000 (< 2 s)"),
    Bench("tick", "{python} bench/tick.py --security --db postgresql",
          "worker tick with 1,000 sent security lists, nothing changed (< 1 s)"),
]


@dataclass
class Outcome:
    bench: Bench
    argv: list[str]
    results: list[dict] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    status: int | None = None  # exit status; None when it was stopped at the time limit
    last_line: str = ""
    seconds: float = 0.0


def run(bench: Bench, runs: int, timeout: float, echo=sys.stderr) -> Outcome:
    """Runs one bench to its end or to ``timeout``, collecting its RESULT lines."""
    outcome = Outcome(bench, bench.argv(runs))
    started = time.monotonic()
    proc = subprocess.Popen(outcome.argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True, errors="replace", start_new_session=True)
    reader = threading.Thread(target=_read, args=(proc, outcome, echo), daemon=True)
    reader.start()
    try:
        proc.wait(timeout=timeout)
        outcome.status = proc.returncode
    except subprocess.TimeoutExpired:
        _stop(proc)
    reader.join(timeout=10)
    if not reader.is_alive():  # else a process it left holds the pipe: closing would wait for it
        proc.stdout.close()
    outcome.seconds = time.monotonic() - started
    return outcome


def _read(proc: subprocess.Popen, outcome: Outcome, echo) -> None:
    for line in proc.stdout:
        line = line.rstrip("\n")
        if echo:
            print(f"[{outcome.bench.name}] {line}", file=echo, flush=True)
        if line.startswith("RESULT "):
            try:
                outcome.results.append(json.loads(line[len("RESULT "):]))
            except ValueError:
                outcome.unreadable.append(line)
        elif line.strip():
            outcome.last_line = line.strip()


def _stop(proc: subprocess.Popen) -> None:
    """SIGINT first (the bench's own cleanup runs), then SIGKILL for it and whatever it started.

    Its servers may sit in sessions of their own (gunicorn is started with start_new_session), so
    the process tree is read from /proc rather than signalled as one group."""
    tree = [proc.pid, *_descendants(proc.pid)]
    _signal(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=GRACE_S)
    except subprocess.TimeoutExpired:
        pass
    for pid in dict.fromkeys(tree + [child for parent in tree for child in _descendants(parent)]):
        _signal(pid, signal.SIGKILL)
    proc.wait()


def _descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


# --- the table -----------------------------------------------------------------------------


HEAD = ["target", "figure", "floor (what it is)", "ratio", "target met", "command", "runs", "load"]


def table(outcomes: list[Outcome]) -> str:
    lines = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    for outcome in outcomes:
        command = f"`{shlex.join(outcome.argv)}`"
        for result in outcome.results:
            lines.append(_row(_result_cells(result, command)))
        if not outcome.results:
            lines.append(_row([outcome.bench.name, "—", "—", "—", _missing(outcome), command, "—", "—"]))
    notes = [note for outcome in outcomes for note in _notes(outcome)]
    return "\n".join(lines + ([""] + notes if notes else []))


def _result_cells(r: dict, command: str) -> list[str]:
    unit = r.get("unit", "")
    floor = "—" if r.get("floor") is None else f"{_number(r['floor'])} {unit}"
    if r.get("floor_what"):
        floor += f" ({r['floor_what']})"
    met = "yes" if r.get("met") else "**no**"
    if r.get("target") in (None, "", "none"):  # a figure watched, not aimed at
        met = "—"
    return [str(r.get("name", "?")), f"{_number(r.get('figure'))} {unit}".strip(), floor,
            _number(r.get("ratio")), met if met == "—" else f"{met} ({r['target']})", command,
            str(r.get("runs", "?")), _number(r.get("load"))]


def _missing(outcome: Outcome) -> str:
    how = (f"stopped after {outcome.seconds:.0f} s (time limit)" if outcome.status is None
           else f"exit {outcome.status}")
    last = f": {outcome.last_line[:120]}" if outcome.last_line else ""
    return f"no RESULT line ({how}{last})"


def _notes(outcome: Outcome) -> list[str]:
    notes = [f"- {outcome.bench.name}: unreadable RESULT line `{line[:120]}`" for line in outcome.unreadable]
    if outcome.results and outcome.status != 0:
        how = "was stopped at the time limit" if outcome.status is None else f"exited {outcome.status}"
        notes.append(f"- {outcome.bench.name} {how} after its RESULT lines ({outcome.last_line[:120]})")
    return notes


def _number(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


# --- main ----------------------------------------------------------------------------------


def chosen(only: str, extra: list[str], everything: bool = False) -> list[Bench]:
    benches = BENCHES + OTHERS
    for spec in extra:
        name, sep, command = spec.partition("=")
        if not sep or not name or not command:
            raise SystemExit(f"--command takes NAME=COMMAND, not {spec!r}")
        benches = [b for b in benches if b.name != name] + [Bench(name, command, "given on the command line")]
    if not only:
        return [b for b in benches if everything or b not in OTHERS]
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = set(names) - {b.name for b in benches}
    if unknown:
        raise SystemExit(f"unknown bench {', '.join(sorted(unknown))}; --list shows them")
    return [b for b in benches if b.name in names]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated bench names (default: issue 15's)")
    parser.add_argument("--all", action="store_true", help="issue 15's benches and the earlier ones kept current")
    parser.add_argument("--runs", type=int, default=3, help="runs per bench; figures are medians (default 3)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds each command may take (default 900)")
    parser.add_argument("--command", action="append", default=[], metavar="NAME=COMMAND",
                        help="add (or replace) a bench; {python} and {runs} are filled in")
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    parser.add_argument("--quiet", action="store_true", help="do not echo the benches' output")
    parser.add_argument("--list", action="store_true", help="list the benches and exit")
    args = parser.parse_args(argv)
    benches = chosen(args.only, args.command, args.all)
    if args.list:
        for b in benches:
            print(f"{b.name:<15} {shlex.join(b.argv(args.runs))}\n{'':<15} {b.measures}")
        return 0
    outcomes = []
    for bench in benches:
        print(f"== {bench.name}: {shlex.join(bench.argv(args.runs))} (load {os.getloadavg()[0]:.2f})",
              file=sys.stderr, flush=True)
        outcomes.append(run(bench, args.runs, args.timeout, echo=None if args.quiet else sys.stderr))
    text = table(outcomes) + f"\n\n{os.cpu_count()} cores; load average at the end {_uptime()}\n"
    print(text, end="")
    if args.out:
        args.out.write_text(text, "utf-8")
    return 0


def _uptime() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg()) + " (1 / 5 / 15 min)"


if __name__ == "__main__":
    sys.exit(main())
