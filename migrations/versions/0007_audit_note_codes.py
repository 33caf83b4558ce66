"""audit notes as codes

- audit_entry.note_params (JSON): the parameters of the note, which is now a code whose words
  live in eventreg/web/audit_words.py (the page's language) instead of English text.
- Existing rows: the English notes the code wrote until 0007 become their codes and parameters
  (the texts are listed below, as the code wrote them). A note not recognised stays as it is;
  the pages show it as stored. The downgrade writes the English texts back.

Revision ID: 0007
Revises: 0006
"""
import ast
import re

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# Notes that were fixed English texts.
FIXED = {
    "no confirmation email": "no_confirmation_email",
    "added above capacity": "above_capacity",
    "attendee not told": "attendee_not_told",
    "seat freed (cancellation)": "seat_freed_by_cancellation",
    "seat freed (move)": "seat_freed_by_move",
    "by staff": "promoted_by_staff",
    "one person's data (JSON)": "one_person_json",
    "replaces the pending invitation": "replaces_pending_invitation",
    "personal data deleted on request": "deleted_on_request",
}
# Notes that carried values, by the entry's action. The purge cut "; filter …" off an export's note.
EXPORT = re.compile(r"(API )?(\S+) (\S+): (\d+) people(?:; filter (.*))?", re.S)
MESSAGE = re.compile(r"#(\d+)(?: (.*))?", re.S)
SCHEDULED = re.compile(r"#(\d+) (\S+)")
QUEUED = re.compile(r"#(\d+) → (\d+)")
PURGED = re.compile(r"(\w+) (\d+)")

KEEP_IDS = {'sqlite_autoincrement': True}

entries = sa.table('audit_entry', sa.column('id', sa.Integer), sa.column('action', sa.String),
                   sa.column('note', sa.String), sa.column('note_params', sa.JSON))


def _filter(text):
    try:
        value = ast.literal_eval(text or "{}")
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, dict) else None


def code_of(action, note):
    """(code, params) for an old note, or None when it is not one the code wrote."""
    if note in FIXED:
        return FIXED[note], {}
    if action == "personal_data_exported" and (m := EXPORT.fullmatch(note)):
        params = {"set": m[2], "format": m[3], "people": int(m[4])}
        if m[5] is not None:
            if (flt := _filter(m[5])) is None:
                return None
            params["filter"] = flt
        return ("export_by_api" if m[1] else "export"), params
    if action in ("message_drafted", "message_edited") and (m := MESSAGE.fullmatch(note)):
        return "message", {"message": int(m[1]), "subject": m[2] or ""}
    if action == "message_scheduled" and (m := SCHEDULED.fullmatch(note)):
        return "message_send_at", {"message": int(m[1]), "send_at": m[2]}
    if action == "message_cancelled" and (m := MESSAGE.fullmatch(note)) and m[2] is None:
        return "message_number", {"message": int(m[1])}
    if action == "message_queued" and (m := QUEUED.fullmatch(note)):
        return "message_recipients", {"message": int(m[1]), "recipients": int(m[2])}
    if action == "personal_data_purged":
        parts = [PURGED.fullmatch(part) for part in note.split("; ")]
        if all(parts):
            return "purged", {"counts": {m[1]: int(m[2]) for m in parts}}
    return None


def text_of(code, params):
    """The English text the code wrote for (code, params) before 0007; None for a note that is not a code."""
    texts = {value: key for key, value in FIXED.items()}
    if code in texts:
        return texts[code]
    p = params or {}
    if code in ("export", "export_by_api"):
        text = f"{'API ' if code == 'export_by_api' else ''}{p.get('set')} {p.get('format')}: {p.get('people')} people"
        return text + (f"; filter {p['filter']}" if "filter" in p else "")
    if code == "message":
        return f"#{p.get('message')} {p.get('subject') or ''}"
    if code == "message_send_at":
        return f"#{p.get('message')} {p.get('send_at')}"
    if code == "message_number":
        return f"#{p.get('message')}"
    if code == "message_recipients":
        return f"#{p.get('message')} → {p.get('recipients')}"
    if code == "purged":
        return "; ".join(f"{k} {v}" for k, v in (p.get("counts") or {}).items())
    return None


def upgrade():
    with op.batch_alter_table('audit_entry', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.add_column(sa.Column('note_params', sa.JSON(), server_default=sa.text("'{}'"), nullable=False))
    bind = op.get_bind()
    rows = bind.execute(sa.select(entries.c.id, entries.c.action, entries.c.note).where(entries.c.note != "")).all()
    for row in rows:
        found = code_of(row.action, row.note)
        if found is not None:
            bind.execute(entries.update().where(entries.c.id == row.id)
                         .values(note=found[0], note_params=found[1]))


def downgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.select(entries.c.id, entries.c.note, entries.c.note_params)
                        .where(entries.c.note != "")).all()
    for row in rows:
        text = text_of(row.note, row.note_params)
        if text is not None:
            bind.execute(entries.update().where(entries.c.id == row.id).values(note=text[:500]))
    with op.batch_alter_table('audit_entry', schema=None, table_kwargs=KEEP_IDS) as batch_op:
        batch_op.drop_column('note_params')
