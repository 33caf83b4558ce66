"""a withdrawn certificate's reason; the survey's title and introduction in English

- certificate.revoked_reason: the organizer's words when withdrawing a certificate (optional, "" when
  none given); revoked_at (0014) says when.
- survey.title_en, survey.intro_en: optional English versions of the survey's title and
  introduction, read by English-language registrants (domain.insight.surveys.in_language); ""
  for every existing survey: they keep reading the event's language.

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

# A batch rebuild on SQLite (dropping a column) must keep AUTOINCREMENT: ids are never reused.
KEEP_IDS = {'sqlite_autoincrement': True}


def upgrade():
    with op.batch_alter_table('certificate', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('revoked_reason', sa.String(length=500), server_default='', nullable=False))
    with op.batch_alter_table('survey', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('title_en', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('intro_en', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('survey', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_column('intro_en')
        batch_op.drop_column('title_en')
    with op.batch_alter_table('certificate', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_column('revoked_reason')
