"""the back office: event status, per-event roles, invitations, audit log, building-security lists

- event.published becomes event.status (draft / published / closed); the building-security
  list's settings (recipient, columns, format, send rule) are on the event.
- staff_event becomes event_member with a role per event (owner / editor / reception / viewer):
  every organizer owns every existing event (they could open all of them before), reception
  staff keep the desk of their events, and "reception" accounts become "staff" accounts.
- api_token gets an event and a role; invitation, audit_entry, security_list_send are new.
- question.hidden; registration indexes for the attendee list's sorts.

Revision ID: 0004
Revises: 0003
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# SQLite: a table that batch mode rebuilds must keep AUTOINCREMENT (ids are never reused).
KEEP_IDS = {'sqlite_autoincrement': True}
DEFAULT_COLUMNS = '["name", "kana", "organization", "department", "session"]'


def upgrade():
    op.create_table('event_member',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('owner', 'editor', 'reception', 'viewer', name='eventrole', native_enum=False, length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_event_member_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], name=op.f('fk_event_member_user_id_staff_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'user_id', name=op.f('pk_event_member'))
    )
    with op.batch_alter_table('event_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_member_user_id'), ['user_id'], unique=False)

    op.create_table('invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('role', sa.Enum('owner', 'editor', 'reception', 'viewer', name='eventrole', native_enum=False, length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('invited_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_invitation_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by'], ['staff_user.id'], name=op.f('fk_invitation_invited_by_staff_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitation_token_hash')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitation_event_id'), ['event_id'], unique=False)

    op.create_table('security_list_send',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('people', sa.JSON(), nullable=False),
    sa.Column('added', sa.JSON(), nullable=False),
    sa.Column('removed', sa.JSON(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=True),
    sa.Column('sent_by', sa.Integer(), nullable=True),
    sa.Column('outbox_key', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_security_list_send_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['file_id'], ['stored_file.id'], name=op.f('fk_security_list_send_file_id_stored_file'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sent_by'], ['staff_user.id'], name=op.f('fk_security_list_send_sent_by_staff_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['event_session.id'], name=op.f('fk_security_list_send_session_id_event_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_list_send')),
    sa.UniqueConstraint('session_id', 'seq', name='uq_security_list_send_session_seq'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('security_list_send', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_security_list_send_event_id'), ['event_id'], unique=False)

    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['staff_user.id'], name=op.f('fk_audit_entry_actor_id_staff_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_audit_entry_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registration.id'], name=op.f('fk_audit_entry_registration_id_registration'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entry_event_at', ['event_id', 'at'], unique=False)
        batch_op.create_index('ix_audit_entry_registration', ['registration_id', 'at'], unique=False)

    with op.batch_alter_table('api_token', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('event_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('role', sa.Enum('owner', 'editor', 'reception', 'viewer', name='eventrole', native_enum=False, length=16), nullable=True))
        batch_op.create_index(batch_op.f('ix_api_token_event_id'), ['event_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_api_token_event_id_event'), 'event', ['event_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('event', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('status', sa.Enum('draft', 'published', 'closed', name='eventstatus', native_enum=False, length=16), server_default='published', nullable=False))
        batch_op.add_column(sa.Column('security_email', sa.String(length=254), server_default='', nullable=False))
        batch_op.add_column(sa.Column('security_columns', sa.JSON(), nullable=False, server_default=DEFAULT_COLUMNS))
        batch_op.add_column(sa.Column('security_format', sa.Enum('xlsx', 'csv', 'csv_cp932', name='securityformat', native_enum=False, length=16), server_default='xlsx', nullable=False))
        batch_op.add_column(sa.Column('security_send_rule', sa.String(length=40), nullable=True))

    with op.batch_alter_table('question', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('hidden', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('registration', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.create_index('ix_registration_event_arrival', ['event_id', 'checked_in_at'], unique=False)
        batch_op.create_index('ix_registration_event_created', ['event_id', 'created_at'], unique=False)



    bind = op.get_bind()
    bind.execute(sa.text("UPDATE event SET status = 'draft' WHERE NOT published"))
    with op.batch_alter_table('event', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_column('published')

    # Roles move onto events. Organizers had every event: they own every existing one; reception
    # staff keep the desk of the events they were assigned to. "reception" accounts become "staff".
    now = datetime.now(timezone.utc)
    stamp = now.replace(tzinfo=None) if bind.dialect.name == "sqlite" else now
    bind.execute(sa.text(
        "INSERT INTO event_member (event_id, user_id, role, created_at) "
        "SELECT event.id, staff_user.id, 'owner', :now FROM event CROSS JOIN staff_user "
        "WHERE staff_user.role = 'organizer'"), {"now": stamp})
    bind.execute(sa.text(
        "INSERT INTO event_member (event_id, user_id, role, created_at) "
        "SELECT se.event_id, se.user_id, 'reception', :now FROM staff_event se "
        "JOIN staff_user u ON u.id = se.user_id WHERE u.role <> 'organizer'"), {"now": stamp})
    bind.execute(sa.text("UPDATE staff_user SET role = 'staff' WHERE role = 'reception'"))
    op.drop_table('staff_event')


def downgrade():
    bind = op.get_bind()
    with op.batch_alter_table('registration', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_index('ix_registration_event_created')
        batch_op.drop_index('ix_registration_event_arrival')

    with op.batch_alter_table('question', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_column('hidden')

    with op.batch_alter_table('event', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('published', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.drop_column('security_send_rule')
        batch_op.drop_column('security_format')
        batch_op.drop_column('security_columns')
        batch_op.drop_column('security_email')
    bind.execute(sa.text("UPDATE event SET published = (status <> 'draft')"))
    with op.batch_alter_table('event', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_column('status')
        batch_op.alter_column('published', existing_type=sa.Boolean(), server_default=None)  # 0001 had none

    with op.batch_alter_table('api_token', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_api_token_event_id_event'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_api_token_event_id'))
        batch_op.drop_column('role')
        batch_op.drop_column('event_id')

    op.create_table('staff_event',
    sa.Column('user_id', sa.INTEGER(), nullable=False),
    sa.Column('event_id', sa.INTEGER(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_staff_event_event_id_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], name=op.f('fk_staff_event_user_id_staff_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'event_id', name=op.f('pk_staff_event'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entry_registration')
        batch_op.drop_index('ix_audit_entry_event_at')

    op.drop_table('audit_entry')
    with op.batch_alter_table('security_list_send', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_security_list_send_event_id'))

    op.drop_table('security_list_send')
    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitation_event_id'))

    op.drop_table('invitation')
    bind.execute(sa.text("INSERT INTO staff_event (user_id, event_id) SELECT user_id, event_id FROM event_member "
                         "WHERE role = 'reception'"))
    bind.execute(sa.text("UPDATE staff_user SET role = 'reception' WHERE role = 'staff'"))
    with op.batch_alter_table('event_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_member_user_id'))

    op.drop_table('event_member')
