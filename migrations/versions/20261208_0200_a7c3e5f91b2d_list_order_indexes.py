"""list order indexes: each list reads a page from an index on its order (keyset pages)

Revision ID: a7c3e5f91b2d
Revises: 1cb4c0ee9575
Create Date: 2026-12-08 01:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7c3e5f91b2d'
down_revision = '1cb4c0ee9575'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_name')
        batch_op.create_index('ix_person_name_id', ['name', 'id'], unique=False)
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index('ix_payment_amount_id', ['amount', 'id'], unique=False)
        batch_op.create_index('ix_payment_status_id', ['status', 'id'], unique=False)
    with op.batch_alter_table('expense', schema=None) as batch_op:
        batch_op.create_index('ix_expense_paid_on_id', ['paid_on', 'id'], unique=False)
    with op.batch_alter_table('risk_flag', schema=None) as batch_op:
        batch_op.create_index('ix_risk_flag_period_end_id', ['period_end', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('risk_flag', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_flag_period_end_id')
    with op.batch_alter_table('expense', schema=None) as batch_op:
        batch_op.drop_index('ix_expense_paid_on_id')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_status_id')
        batch_op.drop_index('ix_payment_amount_id')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index('ix_person_name_id')
        batch_op.create_index('ix_person_name', ['name'], unique=False)
