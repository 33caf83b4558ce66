"""A Redis that accepts connections and never answers does not hold up sign-ups.

The rate limits' shared storage is asked on every sign-up POST. Without timeouts each sign-up
waited as long as Redis hung, and twenty of them stopped the instance. Now connecting and each
command give up after RATELIMIT_STORAGE_TIMEOUT, the limit is not enforced for that request (the
sign-up goes through, as the docs promise), and the limits are counted in this process's memory
until Redis answers again.
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from eventreg.extensions import limiter

from ..web.test_rate_limits import _app, _post
from .sockets import Hung

SIGNUPS = 5


def _timed_signups(limited, event, addresses: list[str], tag: str) -> list[tuple[int | None, float]]:
    """One sign-up from each address at once, each from its own client; (status or None if
    unfinished, seconds) each."""
    event = SimpleNamespace(slug=event.slug, sessions=[SimpleNamespace(id=event.sessions[0].id)])  # no ORM in threads
    results: list[tuple[int | None, float]] = [(None, 0.0)] * len(addresses)

    def sign_up(n: int) -> None:
        started = time.monotonic()
        response = _post(limited.test_client(), event, f"{tag}{n}@example.org", addr=addresses[n])
        results[n] = (response.status_code, time.monotonic() - started)

    threads = [threading.Thread(target=sign_up, args=(n,), daemon=True) for n in range(len(addresses))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    return results


def test_signups_complete_quickly_while_redis_hangs(app, make_app, make_event):
    event = make_event(capacity=50)
    hung = Hung().start()
    try:
        limited = _app(make_app, app, RATELIMIT_STORAGE=f"redis://127.0.0.1:{hung.port}/0",
                                 RATELIMIT_SIGNUP_PER_ADDRESS="3/hour")
        started = time.monotonic()
        first = _timed_signups(limited, event, [f"192.0.2.{n + 1}" for n in range(SIGNUPS)], "first")
        # Later sign-ups, all from one address: the limit still holds, counted in memory.
        then = _timed_signups(limited, event, ["192.0.2.99"] * SIGNUPS, "then")
        elapsed = time.monotonic() - started
    finally:
        hung.stop()  # lets a request that still waits on it fail, so no thread is left behind
        # One limiter per process (extensions.limiter): the apps of later tests must not start
        # with this storage marked dead.
        limiter._storage_dead = False
    assert hung.connections, "the sign-ups never asked Redis: nothing was tested"
    assert [status for status, _ in first] == [302] * SIGNUPS, first
    # About 1 s each here (timeout 0.3 s, five sign-ups at once on 2 cores); without the timeouts
    # none finished before Redis was stopped. The bound leaves room for a loaded machine.
    assert max(seconds for _, seconds in first) < 3.0, first
    assert sorted(status for status, _ in then) == [302] * 3 + [429] * (SIGNUPS - 3), then
    assert elapsed < 6.0, (first, then)
