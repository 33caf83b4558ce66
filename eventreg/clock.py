"""The only ``datetime.now()`` in eventreg. Everything else takes ``now`` as an argument.

The development clock: in development and tests only (create_app refuses it in production),
the app and the worker can run at a fixed or shifted time, so a person can watch a deadline pass
and the building-security list go out in the demo. It is set by ``EVENTREG_CLOCK`` at start-up
or later by ``flask clock`` / the page /_dev/clock, which write ``clock.json`` in the instance
folder; every process of that instance (web servers and workers) reads the file, so they agree.

A setting is ``""`` (real time), a shift such as ``+2d``, ``-3h``, ``+1d2h30m``, or a fixed
ISO time with its offset such as ``2019-02-07T12:01:00+09:00``.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta, timezone

_file: str | None = None  # None: real time, and no file is ever read (production)
_cache: tuple[float, timedelta | datetime | None] | None = None  # (file mtime, parsed)

_SHIFT = re.compile(r"^([+-])(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class BadClock(ValueError):
    pass


def parse(setting: str) -> timedelta | datetime | None:
    """``""`` -> None; a shift -> timedelta; a fixed time -> aware datetime. BadClock otherwise."""
    setting = (setting or "").strip()
    if not setting:
        return None
    shift = _SHIFT.match(setting)
    if shift and any(shift.groups()[1:]):
        days, hours, minutes, seconds = (int(g or 0) for g in shift.groups()[1:])
        delta = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        return -delta if shift.group(1) == "-" else delta
    try:
        fixed = datetime.fromisoformat(setting)
    except ValueError:
        raise BadClock(f"not a clock setting: {setting!r} (use +2d, -3h, or 2019-02-07T12:01:00+09:00)") from None
    if fixed.tzinfo is None:
        raise BadClock("a fixed clock needs its UTC offset, e.g. 2019-02-07T12:01:00+09:00")
    return fixed.astimezone(timezone.utc)


def configure(path: str | None, initial: str | None = None) -> None:
    """Called by create_app: ``path`` is the instance's clock.json in development, else None.
    ``initial`` (EVENTREG_CLOCK) is written to the file when given."""
    global _file, _cache
    _file, _cache = path, None
    if path and initial is not None:
        set_setting(initial)


def set_setting(setting: str) -> None:
    """Moves the development clock of every process of this instance."""
    global _cache
    if _file is None:
        raise BadClock("the development clock is off (production)")
    parse(setting)  # refuse a bad setting before writing it
    tmp = f"{_file}.tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump({"setting": setting.strip()}, out)
    os.replace(tmp, _file)
    _cache = None


def setting() -> str:
    if _file is None:
        return ""
    try:
        with open(_file, encoding="utf-8") as f:
            return str(json.load(f).get("setting", ""))
    except (OSError, ValueError):
        return ""


def _override() -> timedelta | datetime | None:
    global _cache
    try:
        mtime = os.stat(_file).st_mtime
    except OSError:
        return None
    if _cache is None or _cache[0] != mtime:
        try:
            value = parse(setting())
        except BadClock:
            value = None
        _cache = (mtime, value)
    return _cache[1]


def utcnow() -> datetime:
    real = datetime.now(timezone.utc)
    if _file is None:
        return real
    override = _override()
    if override is None:
        return real
    return override if isinstance(override, datetime) else real + override
