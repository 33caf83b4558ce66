"""Each pass's QR code, encoded once and kept (models.PassQr).

A pass's text changes only when its entry version or the event's key does, so its code is made
when the pass is issued (the confirmation mail, the first badge) and read back by every badge,
sheet, pass PDF and mail after that. A stored code whose text is not the pass issued now is
stale: it is encoded again and replaced.

Encoding is an adapter's work (adapters.qr.symbol); the caller hands it in as ``encode``, so
this module only decides what is current and what to keep. Nothing here commits: new and
replaced rows join the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from sqlalchemy import select

from eventreg.extensions import db
from eventreg.models import PassQr, Registration

from . import passes


class Symbol(Protocol):
    size: int  # modules across, quiet zone included
    path: str  # the dark modules as SVG path data in module units


def symbols(registrations: Iterable[Registration], encode: Callable[[str], Symbol]) -> dict[int, PassQr]:
    """The current code of each registration's pass, by registration id.

    One SELECT for the stored codes; each missing or stale one is encoded with ``encode`` and
    added to (or updated in) the session.
    """
    wanted = {r.id: passes.qr_payload(r) for r in registrations}
    stored = {row.registration_id: row for row in db.session.scalars(
        select(PassQr).where(PassQr.registration_id.in_(wanted)))} if wanted else {}
    for registration_id, payload in wanted.items():
        row = stored.get(registration_id)
        if row is not None and row.payload == payload:
            continue
        symbol = encode(payload)
        if row is None:
            row = stored[registration_id] = PassQr(registration_id=registration_id)
            db.session.add(row)
        row.payload, row.size, row.path = payload, symbol.size, symbol.path
    return stored


def symbol(registration: Registration, encode: Callable[[str], Symbol]) -> PassQr:
    """The current code of one registration's pass (see ``symbols``)."""
    return symbols([registration], encode)[registration.id]
