"""messages, reminders, email-confirmation holds, retention

- attendee_message: an organizer's message to a filtered set of attendees; outbox rows that
  deliver it point at it (outbox_message.attendee_message_id).
- reminder_rule: an event's reminders as time rules; scheduled_task.ref_id tells several tasks
  of one kind per session apart (the unique key becomes kind + session + ref).
- event: confirm_email / hold_minutes (email confirmation holds), retention_days / purged_at.
- registration: hold_expires_at / email_confirmed_at (status "held" is a new value of the
  non-native enum, no DDL), anonymised_at / repeat_attendee (retention).

Existing events get no reminder rule: they never promised one (new events get the default).

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

KEEP_IDS = {'sqlite_autoincrement': True}


def upgrade():
    op.create_table('attendee_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('filter', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'scheduled', 'queued', 'cancelled', name='messagestatus', native_enum=False, length=16), nullable=False),
    sa.Column('send_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recipient_count', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['staff_user.id'], name=op.f('fk_attendee_message_created_by_staff_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_attendee_message_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendee_message')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('attendee_message', schema=None) as batch_op:
        batch_op.create_index('ix_attendee_message_due', ['status', 'send_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendee_message_event_id'), ['event_id'], unique=False)

    op.create_table('reminder_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_reminder_rule_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_rule')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('reminder_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_rule_event_id'), ['event_id'], unique=False)

    with op.batch_alter_table('outbox_message', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('attendee_message_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_message_attendee_message_id'), ['attendee_message_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_message_attendee_message_id_attendee_message'), 'attendee_message', ['attendee_message_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('scheduled_task', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('ref_id', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_constraint('uq_scheduled_task_kind_session', type_='unique')
        batch_op.create_unique_constraint('uq_scheduled_task_kind_session_ref', ['kind', 'session_id', 'ref_id'])

    with op.batch_alter_table('event', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('confirm_email', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('hold_minutes', sa.Integer(), server_default='60', nullable=False))
        batch_op.add_column(sa.Column('retention_days', sa.Integer(), server_default='90', nullable=False))
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('registration', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('hold_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('email_confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('repeat_attendee', sa.Boolean(), nullable=True))
        batch_op.create_index('ix_registration_hold_expires', ['hold_expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('registration', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_index('ix_registration_hold_expires')
        batch_op.drop_column('repeat_attendee')
        batch_op.drop_column('anonymised_at')
        batch_op.drop_column('email_confirmed_at')
        batch_op.drop_column('hold_expires_at')

    with op.batch_alter_table('event', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_column('purged_at')
        batch_op.drop_column('retention_days')
        batch_op.drop_column('hold_minutes')
        batch_op.drop_column('confirm_email')

    # Reminder tasks have no place in the old key (one task per kind and session).
    op.execute("DELETE FROM scheduled_task WHERE ref_id <> 0")
    with op.batch_alter_table('scheduled_task', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_constraint('uq_scheduled_task_kind_session_ref', type_='unique')
        batch_op.create_unique_constraint('uq_scheduled_task_kind_session', ['kind', 'session_id'])
        batch_op.drop_column('ref_id')

    with op.batch_alter_table('outbox_message', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_message_attendee_message_id_attendee_message'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_message_attendee_message_id'))
        batch_op.drop_column('attendee_message_id')

    with op.batch_alter_table('reminder_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_rule_event_id'))
    op.drop_table('reminder_rule')

    with op.batch_alter_table('attendee_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendee_message_event_id'))
        batch_op.drop_index('ix_attendee_message_due')
    op.drop_table('attendee_message')
