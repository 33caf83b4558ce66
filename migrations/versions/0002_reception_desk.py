"""reception desk: staff, API tokens, login attempts, check-in log, check-in columns

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# SQLite: a table that batch mode rebuilds must keep AUTOINCREMENT (ids are never reused); this
# revision once rebuilt `registration` without it (0003 put it back).
KEEP_IDS = {'sqlite_autoincrement': True}


def upgrade():
    op.create_table('login_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempt')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempt_email_at', ['email', 'at'], unique=False)
        batch_op.create_index('ix_login_attempt_ip_at', ['ip', 'at'], unique=False)

    op.create_table('staff_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('organizer', 'reception', name='role', native_enum=False, length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_user')),
    sa.UniqueConstraint('email', name=op.f('uq_staff_user_email')),
    sqlite_autoincrement=True
    )
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], name=op.f('fk_api_token_user_id_staff_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('staff_event',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_staff_event_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], name=op.f('fk_staff_event_user_id_staff_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'event_id', name=op.f('pk_staff_event'))
    )
    op.create_table('scan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=16), nullable=False),
    sa.Column('result', sa.Enum('ok', 'already_checked_in', 'cancelled', 'waitlisted', 'wrong_event', 'wrong_session', 'unknown_pass', 'undone', 'walk_in', name='scanresult', native_enum=False, length=24), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('desk', sa.String(length=50), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_scan_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_scan_registration_id_registration'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['event_session.id'], name=op.f('fk_scan_session_id_event_session'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], name=op.f('fk_scan_user_id_staff_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('scan', schema=None) as batch_op:
        batch_op.create_index('ix_scan_event_at', ['event_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_scan_registration_id'), ['registration_id'], unique=False)

    with op.batch_alter_table('registration', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('checked_in_desk', sa.String(length=50), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('walk_in', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.alter_column('email',
               existing_type=sa.VARCHAR(length=254),
               nullable=True)
        batch_op.create_index('ix_registration_event_kana', ['event_id', 'family_kana', 'given_kana'], unique=False)




def downgrade():
    with op.batch_alter_table('registration', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_index('ix_registration_event_kana')
        batch_op.alter_column('email',
               existing_type=sa.VARCHAR(length=254),
               nullable=False)
        batch_op.drop_column('walk_in')
        batch_op.drop_column('checked_in_desk')
        batch_op.drop_column('checked_in_at')

    with op.batch_alter_table('scan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scan_registration_id'))
        batch_op.drop_index('ix_scan_event_at')

    op.drop_table('scan')
    op.drop_table('staff_event')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
    op.drop_table('staff_user')
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempt_ip_at')
        batch_op.drop_index('ix_login_attempt_email_at')

    op.drop_table('login_attempt')

