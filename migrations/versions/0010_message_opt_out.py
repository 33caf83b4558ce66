"""organizer messages: message_opt_out (who stopped an event's organizer messages)

- message_opt_out: see eventreg/models/outbox.py (MessageOptOut). One row per registration whose
  unsubscribe link (or List-Unsubscribe one-click POST) was used; starts empty. Registration is
  left alone: no column added to the table every sign-up and check-in writes.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('message_opt_out',
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_message_opt_out_registration_id_registration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('registration_id', name=op.f('pk_message_opt_out'))
    )


def downgrade():
    op.drop_table('message_opt_out')
