"""The usual sign-up on PostgreSQL in one statement: seat, registration and confirmation mail.

Data-modifying CTEs: ``seat`` is capacity's conditional seat UPDATE itself (a seat left, the
window open, the event published, the session one of the event's), here also only for an event
that asks for no email confirmation; ``reg`` inserts the registration when the UPDATE took a seat,
``mail`` queues its confirmation. All or nothing: the INSERT has no ON CONFLICT, so a form sent
again or an email already registered fails the whole statement on its unique index, seat
included. Whatever this statement does not write (no seat, a waiting list, a held seat, a
duplicate) is decided by signup.register, from scratch, in a transaction of its own.

Being one statement, it needs no transaction around it: the web runs it in autocommit (one round
trip instead of BEGIN, UPDATE, INSERT, INSERT, COMMIT). It has no rule of its own: the values are
those signup.register writes for a confirmed sign-up (signup.register_confirmed builds them).
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import bindparam, exists, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError

from eventreg.domain.registration import capacity
from eventreg.extensions import db
from eventreg.models import Event, EventSession, OutboxMessage, Registration

_REG = Registration.__table__
_MAIL = OutboxMessage.__table__
_events = Event.__table__.c
# holds.hold_length is None exactly when the event does not ask: those sign-ups are confirmed at once.
_NO_CONFIRMATION = ~exists().where(_events.id == EventSession.__table__.c.event_id, _events.confirm_email)


def usable() -> bool:
    # The app's one engine (Session.get_bind resolves binds per statement: a cost on every POST).
    return db.engine.dialect.name == "postgresql"


@lru_cache(maxsize=4)
def _statement(registration_columns: tuple[str, ...], mail_columns: tuple[str, ...]):
    """Built once per process (per set of column names); values come as parameters r_* and m_*."""
    seat = capacity.TAKE.where(_NO_CONFIRMATION).cte("seat")
    reg = (
        postgresql.insert(_REG)
        .from_select(list(registration_columns),
                     select(*(bindparam(f"r_{name}", type_=_REG.c[name].type) for name in registration_columns))
                     .select_from(seat))
        .returning(_REG.c.id)
        .cte("reg")
    )
    mail = (
        postgresql.insert(_MAIL)
        .from_select(["registration_id", *mail_columns],
                     select(reg.c.id, *(bindparam(f"m_{name}", type_=_MAIL.c[name].type) for name in mail_columns)))
        .cte("mail")
    )
    return select(reg.c.id).add_cte(mail)


def take_seat_and_register(session_id: int, event_id: int, now, registration: dict, mail: dict) -> int | None:
    """One statement: a seat, the registration ``registration`` (all its values, keys included)
    and the mail ``mail`` (outbox.attendee_values) for it. The new registration's id, or None:
    nothing was written (no seat for this sign-up here, or a unique index refused it; in a
    transaction, the caller rolls back before anything else)."""
    registration, mail = _with_defaults(_REG, registration), _with_defaults(_MAIL, mail)
    mail_columns = tuple(name for name in mail if name != "registration_id")
    statement = _statement(tuple(registration), mail_columns)
    params = {"sid": session_id, "eid": event_id, "now": now,
              **{f"r_{name}": value for name, value in registration.items()},
              **{f"m_{name}": mail[name] for name in mail_columns}}
    try:
        return db.session.execute(statement, params).scalar()
    except IntegrityError:  # the email or the form's key is taken: signup.register says how
        return None


def _with_defaults(table, values: dict) -> dict:
    """``values`` with the Python-side column defaults an INSERT … SELECT does not apply
    (``changed_us``, ``answers``, ``attempts``...), as an INSERT … VALUES would."""
    return {**values, **{name: make() for name, make in _defaults(table) if name not in values}}


@lru_cache(maxsize=4)
def _defaults(table) -> tuple:
    """(column name, a function giving its default) for each column with a Python-side default."""
    made = []
    for column in table.columns:
        default = column.default
        if default is not None and default.is_scalar:
            made.append((column.name, lambda value=default.arg: value))
        elif default is not None and default.is_callable:
            # SQLAlchemy's wrapper takes the execution context, which these defaults do not read.
            made.append((column.name, lambda make=default.arg: make(None)))
    return tuple(made)
