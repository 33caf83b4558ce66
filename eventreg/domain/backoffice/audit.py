"""The audit log: every change staff make to an event or a registration leaves an entry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventreg.extensions import db
from eventreg.models import AuditEntry


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list]:
    """``{field: [old, new]}`` for the fields whose value differs (values as given: plain)."""
    return {key: [before.get(key), after.get(key)] for key in after if before.get(key) != after.get(key)}


def record(event_id: int, action: str, *, actor, now: datetime, registration_id: int | None = None,
           changed: dict[str, list] | None = None, note: str = "") -> AuditEntry:
    """Adds an entry. ``actor`` is a StaffUser or a domain.access.accounts.Principal, or None for the
    system (the worker, an import). The actor's name is copied into the entry."""
    entry = AuditEntry(
        event_id=event_id, registration_id=registration_id, at=now, action=action,
        actor_id=getattr(actor, "id", None), actor_name=(getattr(actor, "name", "") or "")[:100],
        changes=changed or {}, note=note[:500],
    )
    db.session.add(entry)
    return entry
