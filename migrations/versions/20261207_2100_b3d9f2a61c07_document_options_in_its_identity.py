"""document options in its identity: two requests with other options are two documents

A document is the same (a retry or a second click gives the first one back) only when its person,
kind, period, template version and options all match: ``options_key`` is the SHA-256 of the options'
canonical JSON ('' for none). Existing rows get their key from the options they hold.

Revision ID: b3d9f2a61c07
Revises: a7c3e5f19b42
Create Date: 2026-12-07 21:00:00.000000

"""
import hashlib
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3d9f2a61c07'
down_revision = 'a7c3e5f19b42'
branch_labels = None
depends_on = None

OLD = 'uq_document_person_id_kind_start_on_end_on_template_version'
NEW = 'uq_document_identity'
COLUMNS = ['person_id', 'kind', 'start_on', 'end_on', 'template_version']
document = sa.table('document', sa.column('id', sa.Integer), sa.column('options_key', sa.String))


def _key(options) -> str:
    if isinstance(options, str):
        options = json.loads(options) if options else None
    if not options:
        return ''
    return hashlib.sha256(json.dumps(options, sort_keys=True, separators=(',', ':')).encode()).hexdigest()


def upgrade():
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('options_key', sa.String(length=64), server_default='', nullable=False))
    conn = op.get_bind()
    for row_id, options in conn.execute(sa.text('SELECT id, options FROM document')).all():
        key = _key(options)
        if key:
            conn.execute(document.update().where(document.c.id == row_id).values(options_key=key))
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_constraint(OLD, type_='unique')
        batch_op.create_unique_constraint(NEW, COLUMNS + ['options_key'])


def downgrade():
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_constraint(NEW, type_='unique')
        batch_op.create_unique_constraint(OLD, COLUMNS)
        batch_op.drop_column('options_key')
