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
# (file identity, parsed setting). The identity is inode, mtime in ns and size: set_setting
# replaces the file (a new inode), so a change is seen even within the file system's mtime
# granularity, by this process and by every other one of the instance.
_cache: tuple[tuple[int, int, int], timedelta | datetime | None] | None = None

_SHIFT = re.compile(r"^([+-])(?:(\d{1,6})d)?(?:(\d{1,7})h)?(?:(\d{1,9})m)?(?:(\d{1,10})s)?$")
# Bounds that keep every later "now + shift" and every date formatting in range.
MAX_SHIFT = timedelta(days=36525)  # a hundred years either way
EARLIEST, LATEST = datetime(1971, 1, 1, tzinfo=timezone.utc), datetime(9998, 1, 1, tzinfo=timezone.utc)


class BadClock(ValueError):
    pass


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "…")


def parse(setting: str) -> timedelta | datetime | None:
    """``""`` -> None; a shift -> timedelta; a fixed time -> aware datetime. BadClock otherwise."""
    setting = (setting or "").strip()
    if not setting:
        return None
    shift = _SHIFT.match(setting)
    if shift and any(shift.groups()[1:]):
        days, hours, minutes, seconds = (int(g or 0) for g in shift.groups()[1:])
        delta = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        if delta > MAX_SHIFT:
            raise BadClock(f"a shift of at most {MAX_SHIFT.days} days, please: {_short(setting)}")
        return -delta if shift.group(1) == "-" else delta
    try:
        fixed = datetime.fromisoformat(setting)
    except ValueError:
        raise BadClock(f"not a clock setting: {_short(setting)} (use +2d, -3h, or 2019-02-07T12:01:00+09:00)") from None
    if fixed.tzinfo is None:
        raise BadClock("a fixed clock needs its UTC offset, e.g. 2019-02-07T12:01:00+09:00")
    try:
        fixed = fixed.astimezone(timezone.utc)
    except OverflowError:
        raise BadClock(f"out of range: {_short(setting)}") from None
    if not EARLIEST <= fixed < LATEST:
        raise BadClock(f"a time between 1971 and 9997, please: {_short(setting)}")
    return fixed


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


def enabled() -> bool:
    """True in development and tests (a clock file is configured), False in production."""
    return _file is not None


def format_shift(delta: timedelta) -> str:
    """The setting for ``delta`` in the shift syntax: ``+1d2h30m``, ``-45s`` (whole seconds)."""
    seconds = round(delta.total_seconds())
    sign, seconds = ("-" if seconds < 0 else "+"), abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")) if n)
    return sign + (text or "0s")


def shifted(by: str, current: str | None = None) -> str:
    """The setting that moves the clock (as it stands under ``current``, default the present
    setting) by the shift ``by``: real time or a shift adds up (``+1d`` then ``+2h`` is
    ``+1d2h``); a fixed time moves and stays fixed."""
    delta = parse(by)
    if not isinstance(delta, timedelta):
        raise BadClock(f"not a shift: {_short(by)} (use +1d, -2h, +30m)")
    current = setting() if current is None else current
    now = parse(current)
    if isinstance(now, datetime):  # keep the offset it was given in: 12:01+09:00 moves to 13:01+09:00
        now = datetime.fromisoformat(current.strip())
    try:
        moved = (now + delta).isoformat() if isinstance(now, datetime) else format_shift((now or timedelta()) + delta)
    except OverflowError:
        raise BadClock(f"out of range: {_short(by)}") from None
    if moved == "+0s":
        return ""
    parse(moved)  # within the bounds
    return moved


def running_from(moment: datetime, *, real: datetime | None = None) -> str:
    """The shift that makes the clock read ``moment`` now and then run on (unlike a fixed
    setting, which stands still)."""
    if moment.tzinfo is None:
        raise BadClock("a clock time needs its UTC offset")
    return format_shift(moment - (real or datetime.now(timezone.utc)))


def setting() -> str:
    if _file is None:
        return ""
    try:
        with open(_file, encoding="utf-8") as f:
            return str(json.load(f).get("setting", ""))
    except (OSError, ValueError):
        return ""


def current() -> timedelta | datetime | None:
    """What the clock follows now: None (real time), a shift, or a fixed (standing) time.
    A file with a bad setting (edited by hand) counts as real time."""
    global _cache
    if _file is None:
        return None
    try:
        info = os.stat(_file)
    except OSError:
        return None
    identity = (info.st_ino, info.st_mtime_ns, info.st_size)
    if _cache is None or _cache[0] != identity:
        try:
            value = parse(setting())
        except BadClock:
            value = None
        _cache = (identity, value)
    return _cache[1]


def utcnow() -> datetime:
    real = datetime.now(timezone.utc)
    if _file is None:
        return real
    override = current()
    if override is None:
        return real
    return override if isinstance(override, datetime) else real + override
