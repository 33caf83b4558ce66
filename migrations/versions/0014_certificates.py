"""certificates of attendance: one row per registration, with its verification code

- certificate: registration_id unique (issue() is INSERT … ON CONFLICT DO NOTHING on it), code
  unique (12 characters, /verify/<code>), and what the paper says as issued (name, event title,
  organizer, session title, venue or online, time zone, start and end, language), issued_at,
  revoked_at.
- job.kind gains 'certificates' (a string column without a CHECK: nothing to change).

Revision ID: 0014
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'certificate',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('registration_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=12), nullable=False),
        sa.Column('holder_name', sa.String(length=120), nullable=False),
        sa.Column('language', sa.String(length=5), nullable=False),
        sa.Column('event_title', sa.String(length=200), nullable=False),
        sa.Column('organizer', sa.String(length=200), nullable=False),
        sa.Column('session_title', sa.String(length=200), nullable=False),
        sa.Column('venue', sa.String(length=200), nullable=False),
        sa.Column('online', sa.Boolean(), nullable=False),
        sa.Column('timezone', sa.String(length=64), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_certificate_event_id_event'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['registration_id'], ['registration.id'],
                                name=op.f('fk_certificate_registration_id_registration'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate')),
        sa.UniqueConstraint('code', name=op.f('uq_certificate_code')),
        sa.UniqueConstraint('registration_id', name=op.f('uq_certificate_registration_id')),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_certificate_event_id'), 'certificate', ['event_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_certificate_event_id'), table_name='certificate')
    op.drop_table('certificate')
