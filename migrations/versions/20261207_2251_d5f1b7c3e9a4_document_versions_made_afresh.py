"""document versions: a statement made afresh when its period's figures changed

A document can be asked for again "fresh": when the figures it shows have changed since it was
made (a new payment in its period), a new row is made with the next ``version``; the old one is
kept. ``figures_key`` (SHA-256 of what a rendered document shows) tells whether they changed.
Existing documents are version 1.

Revision ID: d5f1b7c3e9a4
Revises: c4e8a1d2f5b3
Create Date: 2026-12-07 22:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5f1b7c3e9a4'
down_revision = 'c4e8a1d2f5b3'
branch_labels = None
depends_on = None

NAME = 'uq_document_identity'
COLUMNS = ['person_id', 'kind', 'start_on', 'end_on', 'template_version', 'options_key']


def upgrade():
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('figures_key', sa.String(length=64), nullable=True))
        batch_op.drop_constraint(NAME, type_='unique')
        batch_op.create_unique_constraint(NAME, COLUMNS + ['version'])


def downgrade():
    op.execute('DELETE FROM document WHERE version > 1')
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_constraint(NAME, type_='unique')
        batch_op.create_unique_constraint(NAME, COLUMNS)
        batch_op.drop_column('figures_key')
        batch_op.drop_column('version')
