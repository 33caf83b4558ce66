"""The only ``datetime.now()`` in eventreg. Everything else takes ``now`` as an argument."""

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
