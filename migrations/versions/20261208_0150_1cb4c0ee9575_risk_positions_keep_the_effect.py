"""risk positions keep the worst verdict's effect (what it costs the person), which orders the dashboard

Revision ID: 1cb4c0ee9575
Revises: b7d3e9a1c5f2
Create Date: 2026-12-08 01:10:00.000000

The kept rows are only a shortcut for the dashboard's order: they are emptied, and worked out again
(with their effect) by the next view or the hourly scan.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1cb4c0ee9575'
down_revision = 'b7d3e9a1c5f2'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("DELETE FROM risk_position")
    with op.batch_alter_table('risk_position', schema=None) as batch_op:
        batch_op.add_column(sa.Column('effect', sa.String(length=10), nullable=True))


def downgrade():
    op.execute("DELETE FROM risk_position")
    with op.batch_alter_table('risk_position', schema=None) as batch_op:
        batch_op.drop_column('effect')
