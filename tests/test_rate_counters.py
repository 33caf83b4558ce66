"""The sign-up limits' in-process counters (eventreg/rate_counters.py): fixed windows, no thread."""

from __future__ import annotations

import threading

from limits import parse
from limits.strategies import FixedWindowRateLimiter

from eventreg import rate_counters
from eventreg.rate_counters import WindowCounters


def test_a_window_counts_then_starts_again(monkeypatch):
    now = [1_000.0]
    monkeypatch.setattr(rate_counters.time, "time", lambda: now[0])
    counters = WindowCounters()
    assert [counters.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert counters.get("k") == 3 and counters.get_expiry("k") == 1_060.0
    now[0] = 1_060.0  # the window ended: nothing counted, and the next count starts a new one
    assert counters.get("k") == 0 and counters.get_expiry("k") == 1_060.0
    assert counters.incr("k", 60) == 1 and counters.get_expiry("k") == 1_120.0


def test_a_count_given_back_never_goes_below_nothing():
    counters = WindowCounters()
    counters.incr("k", 60)
    assert counters.incr("k", 60, amount=-1) == 0
    assert counters.incr("k", 60, amount=-1) == 0


def test_ended_windows_are_dropped_by_the_sweep_not_by_a_thread(monkeypatch):
    now = [1_000.0]
    monkeypatch.setattr(rate_counters.time, "time", lambda: now[0])
    threads = threading.active_count()
    counters = WindowCounters()
    for n in range(1_000):
        counters.incr(f"email{n}", 30)
    counters.incr("address", 3_600)
    assert threading.active_count() == threads
    now[0] += rate_counters.SWEEP_SECONDS  # the email windows ended; the next count sweeps them
    counters.incr("other", 30)
    assert sorted(counters._counts) == ["address", "other"]


def test_the_limit_holds_through_limits_strategy():
    limiter = FixedWindowRateLimiter(WindowCounters())
    five = parse("5/hour")
    assert [limiter.hit(five, "eventreg", "a@example.org") for _ in range(6)] == [True] * 5 + [False]
    assert limiter.hit(five, "eventreg", "b@example.org")


def test_memory_storage_means_these_counters():
    from eventreg.config import DEFAULTS, finish

    config = {**DEFAULTS, "ENV": "development", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    finish(config)
    assert config["RATELIMIT_STORAGE_URI"] == "eventreg-memory://"
    redis = {**DEFAULTS, "ENV": "development", "SQLALCHEMY_DATABASE_URI": "sqlite://",
             "RATELIMIT_STORAGE": "redis://127.0.0.1:6379/0"}
    finish(redis)
    assert redis["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
