"""deadline kinds: business days and hours before for the event; a deadline per session

- event.deadline_business_days: deadline_days_before counts business days (営業日: weekends,
  Japanese public holidays and 12/29–1/3 skipped; domain.timing.business_days). False for every
  existing event, whose rule reads as before.
- event.deadline_hours_before: "N hours before the start" (the registration deadline refused it
  until now); NULL everywhere.
- event_session.deadline_at / deadline_rule: the session's own deadline (a fixed time, or a
  domain.timing.rules text), overriding the event's; NULL: the event's rule. closes_at stays the
  resolved value the seat UPDATE checks, so nothing is recomputed here.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# A batch rebuild on SQLite (dropping a column) must keep AUTOINCREMENT: ids are never reused.
KEEP_IDS = {'sqlite_autoincrement': True}


def upgrade():
    with op.batch_alter_table('event', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('deadline_business_days', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('deadline_hours_before', sa.Float(), nullable=True))
    with op.batch_alter_table('event_session', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('deadline_rule', sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table('event_session', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_column('deadline_rule')
        batch_op.drop_column('deadline_at')
    with op.batch_alter_table('event', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_column('deadline_hours_before')
        batch_op.drop_column('deadline_business_days')
