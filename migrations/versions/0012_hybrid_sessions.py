"""hybrid seminars: a session's attendance mode, its meeting address, its on-site twin

- event_session.attendance_mode: 'onsite' (every existing session) or 'online'. A hybrid date is
  two sessions, the on-site one and an online twin, so each mode keeps its own capacity, seats,
  waiting list and deadline in the existing columns and guarded updates.
- event_session.meeting_url: an online session's meeting address, a secret read only by the join
  redirect inside its window; NULL for on-site sessions.
- event_session.hybrid_of_id: the on-site session an online twin belongs to; NULL otherwise.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# A batch rebuild on SQLite (dropping a column) must keep AUTOINCREMENT: ids are never reused.
KEEP_IDS = {'sqlite_autoincrement': True}


def upgrade():
    with op.batch_alter_table('event_session', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('attendance_mode', sa.Enum('onsite', 'online', name='attendancemode',
                                                                 native_enum=False, length=10),
                                      server_default='onsite', nullable=False))
        batch_op.add_column(sa.Column('meeting_url', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('hybrid_of_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_event_session_hybrid_of_id_event_session'), 'event_session',
                                    ['hybrid_of_id'], ['id'], ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('event_session', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_event_session_hybrid_of_id_event_session'), type_='foreignkey')
        batch_op.drop_column('hybrid_of_id')
        batch_op.drop_column('meeting_url')
        batch_op.drop_column('attendance_mode')
