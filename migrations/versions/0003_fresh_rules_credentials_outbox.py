"""fresh rules, separate credentials, general outbox, jobs, scheduled tasks, staff sessions

- event_session.opens_at / closes_at: the registration window resolved per session, so the seat
  UPDATE checks time and capacity at once; sequence for calendar files.
- event.pass_key: seed of the key that signs entry passes.
- registration.entry_id / entry_version: the entry credential, separate from the management
  link. Every existing management token was printed in the QR of passes and badges, so it is
  replaced, and every active registration of a session not yet over is sent its new links and
  pass ("pass_resent"); the old QR codes stop working.
- outbox_message: mail to non-attendees, attachments and context on the row, idempotency key.
- job, stored_file, scheduled_task, staff_session: new tables.

Revision ID: 0003
Revises: 0002
"""
import secrets
import uuid
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# SQLite: a table that batch mode rebuilds must keep AUTOINCREMENT (ids are never reused).
KEEP_IDS = {'sqlite_autoincrement': True}


def _aware(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _closes_at(event, starts):
    """The deadline rule as domain.timing.deadlines resolved it when this migration was written."""
    if event.deadline_at is not None:
        deadline = _aware(event.deadline_at)
    elif event.deadline_days_before is not None:
        tz = ZoneInfo(event.timezone)
        local_day = starts.astimezone(tz).date() - timedelta(days=event.deadline_days_before)
        at = time.fromisoformat(event.deadline_time) if event.deadline_time else starts.astimezone(tz).time()
        deadline = datetime.combine(local_day, at, tzinfo=tz)
    else:
        deadline = starts
    return min(deadline, starts).astimezone(timezone.utc)


def _utc_param(bind, value):
    value = value.astimezone(timezone.utc)
    return value.replace(tzinfo=None) if bind.dialect.name == "sqlite" else value


def upgrade():
    with op.batch_alter_table('event', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('pass_key', sa.String(length=64), nullable=True))
    with op.batch_alter_table('event_session', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('opens_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closes_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sequence', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('registration', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('entry_id', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('entry_version', sa.Integer(), server_default='1', nullable=False))

    bind = op.get_bind()
    now = datetime.now(timezone.utc)
    for event in bind.execute(sa.text(
            "SELECT id, timezone, registration_opens_at, deadline_at, deadline_days_before, deadline_time "
            "FROM event")).all():
        bind.execute(sa.text("UPDATE event SET pass_key = :k WHERE id = :id"),
                     {"k": secrets.token_urlsafe(32), "id": event.id})
        for session in bind.execute(sa.text("SELECT id, starts_at FROM event_session WHERE event_id = :id"),
                                    {"id": event.id}).all():
            opens = _aware(event.registration_opens_at)
            bind.execute(sa.text("UPDATE event_session SET opens_at = :o, closes_at = :c WHERE id = :id"), {
                "o": _utc_param(bind, opens) if opens else None,
                "c": _utc_param(bind, _closes_at(event, _aware(session.starts_at))), "id": session.id})
    rows = bind.execute(sa.text(
        "SELECT r.id, r.status, s.ends_at FROM registration r JOIN event_session s ON s.id = r.session_id")).all()
    for row in rows:
        bind.execute(sa.text("UPDATE registration SET entry_id = :e, token = :t WHERE id = :id"),
                     {"e": secrets.token_urlsafe(12), "t": secrets.token_urlsafe(24), "id": row.id})
        if row.status != "cancelled" and _aware(row.ends_at) > now:
            bind.execute(sa.text(
                "INSERT INTO outbox_message (registration_id, kind, message_id, status, attempts, "
                "created_at, next_attempt_at) VALUES (:r, 'pass_resent', :m, 'pending', 0, :n, :n)"),
                {"r": row.id, "m": f"{uuid.uuid4().hex}.pass_resent", "n": _utc_param(bind, now)})

    with op.batch_alter_table('event', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.alter_column('pass_key', existing_type=sa.String(length=64), nullable=False)
    with op.batch_alter_table('event_session', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.alter_column('closes_at', existing_type=sa.DateTime(timezone=True), nullable=False)
    with op.batch_alter_table('registration', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.alter_column('entry_id', existing_type=sa.String(length=24), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_registration_entry_id'), ['entry_id'])

    with op.batch_alter_table('outbox_message', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.alter_column('registration_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('kind', existing_type=sa.Enum(
            'confirmation', 'waitlisted', 'promoted', 'cancelled', 'pass_resent',
            name='mailkind', native_enum=False, length=16), type_=sa.Enum(
            'confirmation', 'waitlisted', 'promoted', 'cancelled', 'pass_resent', 'deadline_summary',
            name='mailkind', native_enum=False, length=32), existing_nullable=False)
        batch_op.add_column(sa.Column('to_address', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('to_name', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('language', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('context', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('attachments', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_message_idempotency_key'), ['idempotency_key'])
    # What the adapter used to decide by kind is now written on each row.
    bind.execute(sa.text("UPDATE outbox_message SET context = '{}', attachments = '[]'"))
    bind.execute(sa.text(
        "UPDATE outbox_message SET attachments = '[{\"kind\": \"pass_pdf\"}, {\"kind\": \"ics\", \"method\": \"REQUEST\"}]' "
        "WHERE kind IN ('confirmation', 'promoted', 'pass_resent')"))
    with op.batch_alter_table('outbox_message', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.alter_column('context', existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column('attachments', existing_type=sa.JSON(), nullable=False)

    op.create_table('stored_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_stored_file_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_file')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('stored_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_file_event_id'), ['event_id'], unique=False)

    op.create_table('job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('badge_sheet', name='jobkind', native_enum=False, length=32), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='jobstatus', native_enum=False, length=16), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=100), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('result_file_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_job_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by'], ['staff_user.id'], name=op.f('fk_job_requested_by_staff_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['result_file_id'], ['stored_file.id'], name=op.f('fk_job_result_file_id_stored_file'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_event_id'), ['event_id'], unique=False)
        batch_op.create_index('ix_job_due', ['status', 'id'], unique=False)

    op.create_table('scheduled_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('deadline_summary', name='taskkind', native_enum=False, length=32), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_scheduled_task_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['event_session.id'], name=op.f('fk_scheduled_task_session_id_event_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_task')),
    sa.UniqueConstraint('kind', 'session_id', name='uq_scheduled_task_kind_session'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('scheduled_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduled_task_event_id'), ['event_id'], unique=False)
        batch_op.create_index('ix_scheduled_task_due', ['done_at', 'due_at'], unique=False)

    op.create_table('staff_session',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], name=op.f('fk_staff_session_user_id_staff_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_session'))
    )
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_session_user_id'), ['user_id'], unique=False)


def downgrade():
    op.drop_table('staff_session')
    op.drop_table('scheduled_task')
    op.drop_table('job')
    op.drop_table('stored_file')
    # Mail that 0002 cannot hold (to staff, without a registration, or of a kind it does not
    # know) is dropped: its registration_id becomes NOT NULL again and its kind 16 characters.
    op.get_bind().execute(sa.text(
        "DELETE FROM outbox_message WHERE registration_id IS NULL "
        "OR kind NOT IN ('confirmation', 'waitlisted', 'promoted', 'cancelled', 'pass_resent')"))
    with op.batch_alter_table('outbox_message', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_outbox_message_idempotency_key'), type_='unique')
        for column in ('idempotency_key', 'attachments', 'context', 'language', 'to_name', 'to_address'):
            batch_op.drop_column(column)
        batch_op.alter_column('kind', existing_type=sa.Enum(
            'confirmation', 'waitlisted', 'promoted', 'cancelled', 'pass_resent', 'deadline_summary',
            name='mailkind', native_enum=False, length=32), type_=sa.Enum(
            'confirmation', 'waitlisted', 'promoted', 'cancelled', 'pass_resent',
            name='mailkind', native_enum=False, length=16), existing_nullable=False)
        batch_op.alter_column('registration_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('registration', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_registration_entry_id'), type_='unique')
        batch_op.drop_column('entry_version')
        batch_op.drop_column('entry_id')
    with op.batch_alter_table('event_session', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_column('sequence')
        batch_op.drop_column('closes_at')
        batch_op.drop_column('opens_at')
    with op.batch_alter_table('event', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_column('pass_key')
