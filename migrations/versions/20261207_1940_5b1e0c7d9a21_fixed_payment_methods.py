"""fixed payment methods

Payments keep a method from a fixed list (tracker.vocab.PAY_METHOD_CHOICES). Older free-text
methods are mapped: the spellings of a bank transfer become "bank transfer"; a value on the list in
another case becomes that value; anything else becomes "other", with the old text kept in the new
``method_note`` column.

Revision ID: 5b1e0c7d9a21
Revises: 26a477b472f2
Create Date: 2026-12-07 19:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1e0c7d9a21'
down_revision = '26a477b472f2'
branch_labels = None
depends_on = None

# Kept here as they were when this migration was written (the vocabulary may grow later).
METHODS = ("bank transfer", "cash", "voucher", "cheque", "training place", "charity donation",
           "no money (certificate or decline)", "other")
BANK_TRANSFER = ("faster payment", "faster payments", "bacs", "bank transfer")

payment = sa.table("payment", sa.column("method", sa.String), sa.column("method_note", sa.String))


def upgrade():
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('method_note', sa.String(length=200), nullable=True))
    tidy = sa.func.lower(sa.func.trim(payment.c.method))
    op.execute(payment.update().where(tidy.in_(BANK_TRANSFER)).values(method="bank transfer"))
    op.execute(payment.update().where(tidy.in_(METHODS), payment.c.method.not_in(METHODS)).values(method=tidy))
    unknown = sa.and_(payment.c.method.is_not(None), payment.c.method.not_in(METHODS))
    op.execute(payment.update().where(unknown).values(method_note=sa.func.substr(payment.c.method, 1, 200),
                                                      method="other"))


def downgrade():
    # The old free text comes back from the note; the mapped spellings stay "bank transfer".
    op.execute(payment.update().where(payment.c.method == "other", payment.c.method_note.is_not(None))
               .values(method=sa.func.substr(payment.c.method_note, 1, 40)))
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_column('method_note')
