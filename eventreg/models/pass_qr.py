"""The QR code of each registration's current pass, encoded once (domain.registration.pass_qr).

A pass's text (domain.registration.passes) changes only with its entry version or the event's
key, yet every badge, sheet, pass PDF and mail used to encode it again (4–5 ms of pure Python a
code, most of a 1,000-badge sheet). The code is kept here with the text it encodes, so a reader
can tell a stale row (the version or key moved on) from a current one by comparing ``payload``.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class PassQr(db.Model):
    __tablename__ = "pass_qr"

    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), primary_key=True)
    # The pass text it encodes; a row whose payload differs from the pass issued now is stale.
    payload: Mapped[str] = mapped_column(Text)
    # The symbol's width in modules, quiet zone included, and its dark modules as SVG path data
    # in module units (viewBox 0 0 size size): what every renderer draws from.
    size: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text)
