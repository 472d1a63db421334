"""partner earnings: a partner's pay recorded on the person, for household benefit rules

A new table only (no rebuild of the person table on SQLite). Existing Universal Credit claims get
the new question, a joint claim, answered "no" (what the tracker counted until now) and listed in
their answers to confirm, so a coordinator confirms it.

Revision ID: b7d3e9a1c5f2
Revises: e5a7c2d9b4f1
Create Date: 2026-12-08 01:40:00.000000

"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d3e9a1c5f2'
down_revision = 'e5a7c2d9b4f1'
branch_labels = None
depends_on = None

claim = sa.table(
    'benefit_claim',
    sa.column('id', sa.Integer),
    sa.column('attributes', sa.JSON),
    sa.column('answers_to_confirm', sa.JSON),
)


def _loaded(value):
    if isinstance(value, str):
        return json.loads(value) if value else None
    return value


def upgrade():
    op.create_table('partner_earning',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_partner_earning_amount_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_partner_earning_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_partner_earning_person_id_person'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_earning'))
    )
    op.create_index('ix_partner_earning_person_received', 'partner_earning', ['person_id', 'received_on'], unique=False)
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT id, attributes, answers_to_confirm FROM benefit_claim WHERE benefit = 'UC'")
    ).all()
    for row_id, attributes, to_confirm in rows:
        attributes = dict(_loaded(attributes) or {})
        if 'joint_claim' in attributes:
            continue
        attributes['joint_claim'] = False
        names = list(_loaded(to_confirm) or []) + ['joint_claim']
        conn.execute(claim.update().where(claim.c.id == row_id).values(attributes=attributes, answers_to_confirm=names))


def downgrade():
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT id, attributes, answers_to_confirm FROM benefit_claim WHERE benefit = 'UC'")
    ).all()
    for row_id, attributes, to_confirm in rows:
        attributes = {k: v for k, v in (_loaded(attributes) or {}).items() if k != 'joint_claim'}
        names = [n for n in (_loaded(to_confirm) or []) if n != 'joint_claim'] or None
        conn.execute(claim.update().where(claim.c.id == row_id).values(attributes=attributes, answers_to_confirm=names))
    op.drop_index('ix_partner_earning_person_received', table_name='partner_earning')
    op.drop_table('partner_earning')
