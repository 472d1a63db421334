"""account lifecycle: API tokens expire; single-use set-password links

Existing tokens get an expiry 90 days from the upgrade (they never expired before).

Revision ID: a7c3e5f19b42
Revises: 5b1e0c7d9a21
Create Date: 2026-12-07 20:10:00.000000

"""
from datetime import UTC, datetime, timedelta

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e5f19b42'
down_revision = '5b1e0c7d9a21'
branch_labels = None
depends_on = None

api_token = sa.table("api_token", sa.column("expires_at", sa.DateTime))


def upgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
    expiry = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=90)
    op.execute(api_token.update().values(expires_at=expiry))
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=sa.DateTime(), nullable=False)
    op.create_table(
        'set_password_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('purpose', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_set_password_link_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_set_password_link')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_set_password_link_token_hash')),
    )
    with op.batch_alter_table('set_password_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_set_password_link_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('set_password_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_set_password_link_user_id'))
    op.drop_table('set_password_link')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
