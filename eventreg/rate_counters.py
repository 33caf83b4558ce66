"""The sign-up limits' counters in this process's memory (RATELIMIT_STORAGE = memory://, one server).

limits' own MemoryStorage expires its keys from a timer thread that it starts again on nearly
every count, and each run walks every key: with one key per email signed up in the last hour,
that was a thread start and a walk of thousands of keys per sign-up, growing with the traffic.
Here a counter's window is checked when it is counted or read, and the counters of windows that
ended are dropped at most once a minute, by the count that notices. Fixed windows only: the
strategy eventreg uses (config.py). Several servers share Redis instead (limits' RedisStorage).
"""

from __future__ import annotations

import threading
import time

from limits.storage import Storage

SCHEME = "eventreg-memory"
SWEEP_SECONDS = 60


class WindowCounters(Storage):
    """A count and the end of its window per key (limits' Storage interface, fixed windows)."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        self._counts: dict[str, list] = {}  # key -> [count, window ends at (epoch seconds)]
        self._lock = threading.Lock()
        self._next_sweep = time.time() + SWEEP_SECONDS
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            if now >= self._next_sweep:
                self._sweep(now)
            entry = self._counts.get(key)
            if entry is None or entry[1] <= now:  # a new window starts with this count
                entry = self._counts[key] = [0, now + expiry]
            entry[0] = max(entry[0] + amount, 0)  # a count given back never goes below nothing
            return entry[0]

    def get(self, key: str) -> int:
        entry = self._counts.get(key)
        return entry[0] if entry is not None and entry[1] > time.time() else 0

    def get_expiry(self, key: str) -> float:
        entry = self._counts.get(key)
        now = time.time()
        return entry[1] if entry is not None and entry[1] > now else now

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            dropped = len(self._counts)
            self._counts.clear()
        return dropped

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    def _sweep(self, now: float) -> None:
        self._counts = {key: entry for key, entry in self._counts.items() if entry[1] > now}
        self._next_sweep = now + SWEEP_SECONDS
