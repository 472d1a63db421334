"""payment due dates and covered periods

A payment may say which period of work it pays for (``covers_from``/``covers_to``): rules that
spread a payment (CA, CSP, ESA, JSA) count it evenly across that period. A payment's ``due_on``
now defaults to the date it is received: existing rows without one get their ``paid_on``, which is
what the rules read for them anyway. Payments are also read by person and due date.

Revision ID: c4e8a1d5b7f3
Revises: e4a1c8d2f3b6
Create Date: 2026-12-07 22:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8a1d5b7f3'
down_revision = 'e4a1c8d2f3b6'
branch_labels = None
depends_on = None

COVERS = (
    "(covers_from IS NULL AND covers_to IS NULL) OR "
    "(covers_from IS NOT NULL AND covers_to IS NOT NULL AND covers_from <= covers_to)"
)


def upgrade():
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('covers_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('covers_to', sa.Date(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_payment_covers_in_order'), COVERS)
        batch_op.create_index('ix_payment_person_due_on', ['person_id', 'due_on'], unique=False)
    op.execute(sa.text('UPDATE payment SET due_on = paid_on WHERE due_on IS NULL'))


def downgrade():
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_person_due_on')
        batch_op.drop_constraint(op.f('ck_payment_covers_in_order'), type_='check')
        batch_op.drop_column('covers_to')
        batch_op.drop_column('covers_from')
