"""outbox rows done when their task ran: running and done, with when each started and ended

An outbox row is ``sent`` once the broker took its message, ``running`` once a worker started its
task and ``done`` once the task has run; rows sent but never started are sent again by the sweep.
Rows sent before this revision are taken as done (their task ran or was re-driven long ago).

Revision ID: c4e8a1d2f5b3
Revises: c4e8a1d5b7f3
Create Date: 2026-12-07 22:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8a1d2f5b3'
down_revision = 'c4e8a1d5b7f3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('started_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('done_at', sa.DateTime(), nullable=True))
        batch_op.drop_constraint(batch_op.f('ck_outbox_task_status_known'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_outbox_task_status_known'), "status IN ('pending', 'sent', 'running', 'done')"
        )
    op.execute("UPDATE outbox_task SET status = 'done', done_at = sent_at WHERE status = 'sent'")


def downgrade():
    op.execute("UPDATE outbox_task SET status = 'sent' WHERE status IN ('running', 'done')")
    with op.batch_alter_table('outbox_task', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_outbox_task_status_known'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_outbox_task_status_known'), "status IN ('pending', 'sent')")
        batch_op.drop_column('done_at')
        batch_op.drop_column('started_at')
