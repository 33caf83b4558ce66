"""offline desk: registration.changed_us, desk operations, check-in conflicts, desk tasks

- registration.changed_us: when the row last changed (µs since the epoch); offline desks fetch
  the rows changed since their last sync. Existing rows start at the migration's time, so the
  first sync of every desk (a full one anyway) carries them.
- desk_operation, checkin_conflict, desk_task: see eventreg/models/desk_sync.py.

Revision ID: 0008
Revises: 0007
"""
import time

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

KEEP_IDS = {'sqlite_autoincrement': True}


def upgrade():
    with op.batch_alter_table('registration', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('changed_us', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.create_index('ix_registration_event_changed', ['event_id', 'changed_us'], unique=False)
    op.execute(sa.text('UPDATE registration SET changed_us = :now').bindparams(now=time.time_ns() // 1000))

    op.create_table('desk_operation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('desk', sa.String(length=50), nullable=False),
    sa.Column('device', sa.String(length=64), nullable=False),
    sa.Column('device_seq', sa.Integer(), nullable=False),
    sa.Column('device_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('clock_skew_seconds', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('result', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_desk_operation_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_desk_operation_registration_id_registration'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], name=op.f('fk_desk_operation_user_id_staff_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_operation')),
    sa.UniqueConstraint('event_id', 'client_id', name='uq_desk_operation_client'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('desk_operation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_desk_operation_registration_id'), ['registration_id'], unique=False)

    op.create_table('checkin_conflict',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('kept_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kept_desk', sa.String(length=50), nullable=False),
    sa.Column('other_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('other_desk', sa.String(length=50), nullable=False),
    sa.Column('operation_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_checkin_conflict_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['operation_id'], ['desk_operation.id'], name=op.f('fk_checkin_conflict_operation_id_desk_operation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_checkin_conflict_registration_id_registration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_conflict')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('checkin_conflict', schema=None) as batch_op:
        batch_op.create_index('ix_checkin_conflict_event', ['event_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkin_conflict_registration_id'), ['registration_id'], unique=False)

    op.create_table('desk_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('desk', sa.String(length=50), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['done_by'], ['staff_user.id'], name=op.f('fk_desk_task_done_by_staff_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_desk_task_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_desk_task_registration_id_registration'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['event_session.id'], name=op.f('fk_desk_task_session_id_event_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_task')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('desk_task', schema=None) as batch_op:
        batch_op.create_index('ix_desk_task_event', ['event_id', 'done_at'], unique=False)


def downgrade():
    op.drop_table('desk_task')
    op.drop_table('checkin_conflict')
    op.drop_table('desk_operation')
    with op.batch_alter_table('registration', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_index('ix_registration_event_changed')
        batch_op.drop_column('changed_us')
