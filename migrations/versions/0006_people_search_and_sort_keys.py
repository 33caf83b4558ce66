"""registration.search_text and registration.sort_key: one search, one 五十音 order

Both are written by eventreg.domain.people.person_keys from the person's fields; existing rows
are backfilled here with the same function. sort_key is compared by code point (PostgreSQL's
"C" collation) and indexed with the event, in place of the furigana index.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

from eventreg.domain.people.person_keys import SOURCES, keys

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

BATCH = 1000
# SQLite: a table that batch mode rebuilds must keep AUTOINCREMENT (ids are never reused).
KEEP_IDS = {'sqlite_autoincrement': True}


def upgrade():
    sort_type = sa.Text().with_variant(sa.Text(collation='C'), 'postgresql')
    with op.batch_alter_table('registration', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('sort_key', sort_type, nullable=True))
    _backfill()
    with op.batch_alter_table('registration', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.alter_column('search_text', existing_type=sa.Text(), nullable=False)
        batch_op.alter_column('sort_key', existing_type=sort_type, nullable=False)
        batch_op.drop_index('ix_registration_event_kana')
        batch_op.create_index('ix_registration_event_sort', ['event_id', 'sort_key'], unique=False)


def _backfill():
    connection = op.get_bind()
    table = sa.table('registration', sa.column('id', sa.Integer),
                     *(sa.column(name, sa.String) for name in (*SOURCES, 'search_text', 'sort_key')))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(table.c.id, *(table.c[name] for name in SOURCES))
            .where(table.c.id > last).order_by(table.c.id).limit(BATCH)).mappings().all()
        if not rows:
            return
        connection.execute(
            table.update().where(table.c.id == sa.bindparam('row_id'))
            .values(search_text=sa.bindparam('new_search_text'), sort_key=sa.bindparam('new_sort_key')),
            [{'row_id': row['id'], **{f'new_{k}': v for k, v in keys(row).items()}} for row in rows])
        last = rows[-1]['id']


def downgrade():
    with op.batch_alter_table('registration', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_index('ix_registration_event_sort')
        batch_op.create_index('ix_registration_event_kana', ['event_id', 'family_kana', 'given_kana'], unique=False)
        batch_op.drop_column('sort_key')
        batch_op.drop_column('search_text')
