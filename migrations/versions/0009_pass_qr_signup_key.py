"""physical limit: pass_qr (each pass's QR encoded once), registration.signup_key (idempotent sign-up)

- pass_qr: see eventreg/models/pass_qr.py. Starts empty; codes are made as passes are issued or
  first drawn.
- registration.signup_key: the sign-up form's one-time key, unique; NULL for existing rows.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

KEEP_IDS = {'sqlite_autoincrement': True}


def upgrade():
    op.create_table('pass_qr',
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_pass_qr_registration_id_registration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('registration_id', name=op.f('pk_pass_qr'))
    )
    with op.batch_alter_table('registration', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('signup_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_registration_signup_key'), ['signup_key'])


def downgrade():
    with op.batch_alter_table('registration', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_registration_signup_key'), type_='unique')
        batch_op.drop_column('signup_key')
    op.drop_table('pass_qr')
