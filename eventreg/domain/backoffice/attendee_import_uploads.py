"""An uploaded attendee file, kept on the server between its preview and the import: the bytes
as sent, in a StoredFile of the event (the database, so any app server finds it), under a random
128-bit key that the pages carry. The import reads the file again from here; nothing the browser
sends back is taken as data, only the organizer's choices. Removed by the import, and after
KEPT by the next upload to the event (and with the event's data by retention).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from eventreg.extensions import db
from eventreg.models import StoredFile

KEPT = timedelta(hours=2)
_PREFIX = "import-"
_KEY = re.compile(r"[0-9a-f]{32}")
CONTENT_TYPE = "application/x-eventreg-import"


def keep(event_id: int, filename: str, data: bytes, now: datetime) -> str:
    """Stores ``data``; returns its key. The event's uploads older than KEPT go."""
    db.session.execute(delete(StoredFile).where(
        StoredFile.event_id == event_id, StoredFile.content_type == CONTENT_TYPE, StoredFile.created_at < now - KEPT,
    ).execution_options(synchronize_session=False))
    upload_key = secrets.token_hex(16)
    name = (filename or "").replace("/", "_").replace("\\", "_")[:150] or "upload"
    db.session.add(StoredFile(event_id=event_id, filename=f"{_PREFIX}{upload_key}/{name}", content_type=CONTENT_TYPE,
                              size=len(data), data=data, created_at=now))
    db.session.flush()
    return upload_key


def find(event_id: int, upload_key: str | None, now: datetime) -> StoredFile | None:
    """The event's upload with that key, unless it is older than KEPT (or was imported)."""
    if not isinstance(upload_key, str) or not _KEY.fullmatch(upload_key):
        return None
    stored = db.session.scalar(select(StoredFile).where(
        StoredFile.event_id == event_id, StoredFile.content_type == CONTENT_TYPE,
        StoredFile.filename.startswith(f"{_PREFIX}{upload_key}/")))
    if stored is None or stored.created_at < now - KEPT:
        return None
    return stored


def upload_key(stored: StoredFile) -> str:
    return stored.filename.split("/", 1)[0].removeprefix(_PREFIX)


def original_name(stored: StoredFile) -> str:
    return stored.filename.split("/", 1)[1]


def forget(stored: StoredFile) -> None:
    db.session.delete(stored)
    db.session.flush()
