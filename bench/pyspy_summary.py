"""Summarise a py-spy ``--format raw`` (collapsed stacks) profile of the gunicorn workers.

    .venv/bin/python bench/pyspy_summary.py bench/out/registration-c8.txt [--top 40]

Prints (1) the share of samples in named buckets that matter for the registration request
(SQL round trips, template rendering, form class building, CSRF, email validation, ...), and
(2) the functions with the largest inclusive share, line numbers stripped. Shares are of the
samples taken while a worker was busy (py-spy leaves idle samples out by default).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

# (label, regex matched against a frame "function (file)") -- inclusive, first frame that matches.
BUCKETS = [
    ("request in total (Flask.wsgi_app)", r"^Flask\.wsgi_app "),
    ("  view: event_page", r"^event_page \(eventreg/web/public\.py"),
    ("    _event_or_404 (event+sessions+questions load)", r"^_event_or_404 "),
    ("      selectinload of sessions + questions (2nd/3rd SELECT)", r"^_SelectInLoader\._load_for_path "),
    ("    registration_form (type() + WTForms metaclass + bind)", r"^registration_form "),
    ("    form.validate_on_submit", r"validate_on_submit "),
    ("      email_validator.validate_email", r"^validate_email \(email_validator"),
    ("    _register (domain + commit)", r"^_register "),
    ("      registrations.register", r"^register \(eventreg/domain/registration\.py"),
    ("        find_active (duplicate check SELECT)", r"^find_active "),
    ("        take_seat (UPDATE event_session)", r"^take_seat "),
    ("        begin_nested exit (RELEASE; SAVEPOINT is sent inside take_seat)", r"^(Session\.begin_nested|SessionTransaction\.__exit__) "),
    ("      db.session.commit", r"^(scoped_session|Session)\.commit "),
    ("      post-commit refresh of expired attributes (SELECT)", r"^InstanceState\._load_expired "),
    ("      flash (session write)", r"^flash \(flask"),
    ("    render_template (only on GET / 400)", r"^render_template "),
    ("  request setup/teardown (contexts, session cookie, babel)", r"^(RequestContext\.push|RequestContext\.pop|Flask\.process_response|AppContext\.pop"
     r"|Flask\.do_teardown_appcontext) "),
    ("  CSRF (flask_wtf csrf_protect / validate_csrf)", r"^(CSRFProtect\.protect|csrf_protect|validate_csrf) "),
    ("  werkzeug form parsing", r"^(Request\.form|Request\._load_form_data|FormDataParser\.parse) "),
    ("pool_pre_ping (SELECT 1 on checkout)", r"^(_ConnectionFairy\._checkout|PGDialect\.do_ping|.*do_ping) "),
    ("psycopg network wait (all SQL)", r"^(wait|wait_c|wait_epoll|Cursor\.execute|Connection\.commit|Connection\._exec_command) \(psycopg"),
    ("SQLAlchemy compile (SQL string building)", r"^(SQLCompiler\.__init__|Compiled\.__init__|ClauseElement\._compile_w_cache) "),
]


def frames_of(line: str) -> tuple[list[str], int]:
    stack, _, count = line.rstrip("\n").rpartition(" ")
    frames = [f for f in stack.split(";") if not f.startswith("process ")]
    return [re.sub(r":\d+\)$", ")", f) for f in frames], int(count)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    stacks = []
    with open(args.path) as fh:
        for line in fh:
            if line.strip():
                stacks.append(frames_of(line))
    total = sum(c for _, c in stacks)
    in_request = sum(c for f, c in stacks if any(x.startswith("Flask.wsgi_app ") for x in f))
    print(f"{total} samples, {in_request} inside Flask.wsgi_app ({100 * in_request / total:.0f}%)\n")
    print(f"{'share of request':>16}  bucket")
    for label, pattern in BUCKETS:
        rx = re.compile(pattern)
        n = sum(c for f, c in stacks if any(rx.search(x) for x in f))
        print(f"{100 * n / max(in_request, 1):>15.1f}%  {label}")

    inclusive: Counter = Counter()
    self_time: Counter = Counter()
    for frames, c in stacks:
        for name in set(frames):
            inclusive[name] += c
        if frames:
            self_time[frames[-1]] += c
    print(f"\nTop {args.top} functions by inclusive share of in-request samples:")
    for name, n in inclusive.most_common(args.top * 3):
        if n > in_request:
            continue  # gunicorn / process frames above the request
        print(f"{100 * n / max(in_request, 1):6.1f}%  {name}")
        args.top -= 1
        if args.top <= 0:
            break
    print("\nTop 20 self (leaf) frames:")
    for name, n in self_time.most_common(20):
        print(f"{100 * n / total:6.1f}%  {name}")


if __name__ == "__main__":
    main()
