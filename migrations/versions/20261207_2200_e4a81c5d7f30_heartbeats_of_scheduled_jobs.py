"""heartbeats of scheduled jobs: when each one last finished its work

The outbox sweep, the document re-drive, the risk scan and the daily digest each write the time
they finished to ``heartbeat`` (one row per job). ``/readyz`` and ``/metrics`` show their ages.

Revision ID: e4a81c5d7f30
Revises: b3d9f2a61c07
Create Date: 2026-12-07 22:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4a81c5d7f30'
down_revision = 'b3d9f2a61c07'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'heartbeat',
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('beat_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_heartbeat')),
    )


def downgrade():
    op.drop_table('heartbeat')
