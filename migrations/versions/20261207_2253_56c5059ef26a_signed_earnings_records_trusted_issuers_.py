"""signed earnings records: trusted issuers, imports, and other income from them

Revision ID: 56c5059ef26a
Revises: 1efdc7ccbc21
Create Date: 2026-12-07 22:27:37.859097

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '56c5059ef26a'
down_revision = '1efdc7ccbc21'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('trusted_issuer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['added_by_id'], ['user_account.id'], name=op.f('fk_trusted_issuer_added_by_id_user_account')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['user_account.id'], name=op.f('fk_trusted_issuer_revoked_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trusted_issuer')),
    sa.UniqueConstraint('key_id', name=op.f('uq_trusted_issuer_key_id'))
    )
    op.create_table('earnings_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('record_id', sa.String(length=64), nullable=False),
    sa.Column('issuer_name', sa.String(length=200), nullable=False),
    sa.Column('person_ref', sa.String(length=100), nullable=False),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('end_on', sa.Date(), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('verification_code', sa.String(length=16), nullable=False),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('consent_by_id', sa.Integer(), nullable=True),
    sa.Column('consented_at', sa.DateTime(), nullable=False),
    sa.Column('replaced_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['consent_by_id'], ['user_account.id'], name=op.f('fk_earnings_import_consent_by_id_user_account')),
    sa.ForeignKeyConstraint(['issuer_id'], ['trusted_issuer.id'], name=op.f('fk_earnings_import_issuer_id_trusted_issuer')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_earnings_import_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_earnings_import')),
    sa.UniqueConstraint('person_id', 'key_id', 'record_id', name='uq_earnings_import_record')
    )
    with op.batch_alter_table('earnings_import', schema=None) as batch_op:
        batch_op.create_index('ix_earnings_import_series', ['person_id', 'key_id', 'person_ref', 'start_on', 'end_on'], unique=False)

    with op.batch_alter_table('other_income', schema=None) as batch_op:
        batch_op.add_column(sa.Column('earnings_import_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('entry_ref', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('worked_on', sa.Date(), nullable=True))
        batch_op.create_index('ix_other_income_earnings_import', ['earnings_import_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_other_income_earnings_import_id_earnings_import'), 'earnings_import', ['earnings_import_id'], ['id'])



def downgrade():
    with op.batch_alter_table('other_income', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_other_income_earnings_import_id_earnings_import'), type_='foreignkey')
        batch_op.drop_index('ix_other_income_earnings_import')
        batch_op.drop_column('worked_on')
        batch_op.drop_column('due_on')
        batch_op.drop_column('entry_ref')
        batch_op.drop_column('earnings_import_id')

    with op.batch_alter_table('earnings_import', schema=None) as batch_op:
        batch_op.drop_index('ix_earnings_import_series')

    op.drop_table('earnings_import')
    op.drop_table('trusted_issuer')
