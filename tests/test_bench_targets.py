"""bench/targets.py against tiny fake benches: the RESULT lines become rows, a bench without any is
a row that says so, and a bench over its time limit is stopped with everything it started."""

import os
import sys
import textwrap
import time
from pathlib import Path

from bench import targets

RESULT_PY = Path(targets.__file__).with_name("result.py")


def fake(tmp_path: Path, name: str, body: str) -> str:
    """A --command spec running a script that can ``emit`` as the real benches do."""
    script = tmp_path / f"{name}.py"
    script.write_text(textwrap.dedent(f"""\
        import sys
        sys.path.insert(0, {str(RESULT_PY.parent)!r})
        from result import emit
        runs = int(sys.argv[sys.argv.index("--runs") + 1])
    """) + textwrap.dedent(body))
    return f"{name}={sys.executable} {script} --runs {{runs}}"


def table(capsys, *argv: str) -> list[str]:
    assert targets.main(["--quiet", *argv]) == 0
    return capsys.readouterr().out.splitlines()


def test_result_lines_become_rows_with_their_floor_ratio_runs_and_load(tmp_path, capsys):
    spec = fake(tmp_path, "sheet", """\
        print("some progress line")
        emit("1,000-badge sheet wall", 1.5, "s", floor=0.5, floor_what="bare typst", target="<= 2 s",
             met=True, runs=runs)
        emit("check-in c=8 ratio", 0.5, "", floor=None, floor_what="", target=">= 0.6", met=False, runs=runs)
        emit("roster sync full", 40.0, "ms", floor=8.0, floor_what="bare SELECT", target="none", met=True, runs=runs)
    """)
    lines = table(capsys, "--only", "sheet", "--runs", "2", "--command", spec)
    assert lines[0] == "| " + " | ".join(targets.HEAD) + " |"
    wall, ratio, watched = (line.split(" | ") for line in lines[2:5])
    assert wall[0] == "| 1,000-badge sheet wall" and wall[1] == "1.5 s"
    assert wall[2] == "0.5 s (bare typst)" and wall[3] == "3" and wall[4] == "yes (<= 2 s)"
    assert wall[5].endswith("sheet.py --runs 2`") and wall[6] == "2"
    assert float(wall[7].rstrip(" |")) >= 0
    assert ratio[2] == "—" and ratio[4] == "**no** (>= 0.6)"
    assert watched[1:5] == ["40 ms", "8 ms (bare SELECT)", "5", "—"]


def test_a_bench_without_result_lines_is_reported_not_a_crash(tmp_path, capsys):
    quiet = fake(tmp_path, "quiet", """\
        print("usage: quiet.py [--renders N]")
        sys.exit(2)
    """)
    broken = fake(tmp_path, "broken", """\
        print("RESULT {not json")
        emit("pass PDF warm", 0.05, "s", floor=0.01, floor_what="bare", target="<= 0.1 s", met=True, runs=runs)
        raise SystemExit("dropping the database failed")
    """)
    lines = table(capsys, "--only", "quiet,broken", "--command", quiet, "--command", broken)
    assert "no RESULT line (exit 2: usage: quiet.py [--renders N])" in lines[2]
    assert lines[3].startswith("| pass PDF warm | 0.05 s |")
    assert "- broken: unreadable RESULT line `RESULT {not json`" in lines
    assert "- broken exited 1 after its RESULT lines (dropping the database failed)" in lines


def test_a_bench_over_its_time_limit_is_stopped_with_what_it_started(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(targets, "GRACE_S", 2)
    pid_file = tmp_path / "server.pid"
    spec = fake(tmp_path, "slow", f"""\
        import signal, subprocess, time
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a bench deaf to SIGINT: SIGKILL has to come
        server = subprocess.Popen(["sleep", "120"], start_new_session=True,  # as gunicorn is started
                                  stdout=subprocess.DEVNULL)
        open({str(pid_file)!r}, "w").write(str(server.pid))
        print("serving", flush=True)
        time.sleep(120)
    """)
    lines = table(capsys, "--only", "slow", "--timeout", "6", "--command", spec)  # time to start, even on a busy machine
    assert "no RESULT line (stopped after" in lines[2] and "(time limit): serving)" in lines[2]
    assert not alive_after(int(pid_file.read_text()), 5)


def alive_after(pid: int, seconds: float) -> bool:
    """Whether ``pid`` still lives ``seconds`` from now: a SIGKILL is delivered, not waited for,
    so the process may show as running for a moment after the kill was sent."""
    deadline = time.monotonic() + seconds
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive(pid)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z" and os.path.exists(f"/proc/{pid}")


def test_unknown_bench_names_are_refused():
    try:
        targets.chosen("nosuch", [])
    except SystemExit as exit_:
        assert "unknown bench nosuch" in str(exit_)
    else:
        raise AssertionError("an unknown bench name was accepted")
