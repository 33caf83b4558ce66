"""A database that goes away and comes back, for a process started on ``url``.

PostgreSQL: the test database behind a Gate (sockets.py), up at first; ``cut()`` ends every
connection and closes each new one, ``restore()`` lets them through again. SQLite: a copy of
the test database on a "volume" (a folder) that is missing at first, as if unmounted; an open
SQLite file cannot be taken from a process, so ``cut()`` is only possible before it starts, and
``restore()`` mounts the volume.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from .sockets import Gate


class SwitchedDatabase:
    def __init__(self, test_url: str, folder: Path):
        self._source = make_url(test_url)
        self.kind = self._source.get_backend_name()
        self.gate: Gate | None = None
        if self.kind == "postgresql":
            self.gate = Gate((self._source.host or "127.0.0.1", self._source.port or 5432)).start()
            self.url = self._source.set(port=self.gate.port).render_as_string(hide_password=False)
            self.up = True
        else:
            self._volume = folder / "volume"
            self.url = f"sqlite:///{self._volume / 'eventreg.db'}"
            self.up = False

    def cut(self) -> None:
        assert self.gate is not None, "an SQLite volume starts missing; it cannot be taken away"
        self.gate.shut()
        self.up = False

    def restore(self) -> None:
        if self.gate is not None:
            self.gate.reopen()
        else:
            self._volume.mkdir()
            with sqlite3.connect(self._source.database) as source, \
                    sqlite3.connect(self._volume / "eventreg.db") as copy:
                source.backup(copy)
        self.up = True

    def close(self) -> None:
        if self.gate is not None:
            self.gate.stop()
