"""claim answers to confirm: answers that decide which benefit rule applies are never defaulted

Until now a Universal Credit claim without a work allowance, housing or work capability answer, and
an ESA claim without a permitted-work level, was stored with a default. Those answers decide which
rule applies, so they are now always asked. ``answers_to_confirm`` lists, per claim, the answers
that still hold such a default, so a coordinator can confirm them: existing claims whose stored
value is the old default are listed (a person may have given that answer, but nothing recorded
whether they did).

Revision ID: e4a1c8d2f3b6
Revises: e4a8c1d25f93
Create Date: 2026-12-07 22:30:00.000000

"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4a1c8d2f3b6'
down_revision = 'e4a8c1d25f93'
branch_labels = None
depends_on = None

claim = sa.table('benefit_claim', sa.column('id', sa.Integer), sa.column('answers_to_confirm', sa.JSON))


def defaulted(benefit: str, attributes) -> list[str]:
    """The answers that hold the value the tracker used to fill in when none was given."""
    if isinstance(attributes, str):
        attributes = json.loads(attributes) if attributes else {}
    attributes = attributes or {}
    out = []
    if benefit == 'UC':
        if not attributes.get('work_allowance'):
            out.append('work_allowance')
        elif not attributes.get('housing_element'):
            out.append('housing_element')
        if not attributes.get('lcw_pending'):
            out.append('lcw_pending')
    elif benefit == 'ESA' and attributes.get('permitted_work') in (None, '', 'higher'):
        out.append('permitted_work')
    return out


def upgrade():
    with op.batch_alter_table('benefit_claim', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answers_to_confirm', sa.JSON(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT id, benefit, attributes FROM benefit_claim WHERE benefit IN ('UC', 'ESA')")
    ).all()
    for row_id, benefit, attributes in rows:
        names = defaulted(benefit, attributes)
        if names:
            conn.execute(claim.update().where(claim.c.id == row_id).values(answers_to_confirm=names))


def downgrade():
    with op.batch_alter_table('benefit_claim', schema=None) as batch_op:
        batch_op.drop_column('answers_to_confirm')
