"""the post-event loop: when it runs and which of its three parts an event sends

- event.followup_rule: when the loop runs for each session, as a domain.timing.rules text
  ("end+30m"); NULL: the default, 30 minutes after the session ends.
- event.followup_survey / followup_noshow / followup_certificate: the three parts (survey
  invitation to those who came, a note to confirmed no-shows, the certificate of attendance).
  False for every existing event: an upgrade never mails the attendees of past events.
- event.noshow_text: the organizer's words in the no-show note ("" : the template's own).
- event.materials_url: where the slides / handouts are (the no-show note and the join page's
  "this session has ended"); "" when there are none.

Revision ID: 0015
Revises: 0013 (after 0014 certificates and 0013 surveys)
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0013'
branch_labels = None
depends_on = None

# A batch rebuild on SQLite (dropping a column) must keep AUTOINCREMENT: ids are never reused.
KEEP_IDS = {'sqlite_autoincrement': True}


def upgrade():
    with op.batch_alter_table('event', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('followup_rule', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('followup_survey', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('followup_noshow', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('followup_certificate', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('noshow_text', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('materials_url', sa.String(length=500), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('event', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_column('materials_url')
        batch_op.drop_column('noshow_text')
        batch_op.drop_column('followup_certificate')
        batch_op.drop_column('followup_noshow')
        batch_op.drop_column('followup_survey')
        batch_op.drop_column('followup_rule')
