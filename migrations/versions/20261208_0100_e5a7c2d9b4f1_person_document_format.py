"""a person's preferred document format: standard or easy read

Revision ID: e5a7c2d9b4f1
Revises: 56c5059ef26a
Create Date: 2026-12-08 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5a7c2d9b4f1'
down_revision = '56c5059ef26a'
branch_labels = None
depends_on = None


KNOWN = "document_format IN ('standard', 'easy_read')"


def upgrade():
    # Not a batch rebuild on SQLite: recreating the person table would drop it, and with foreign keys
    # on, its claims, preferences and consents (ON DELETE CASCADE) with it. SQLite adds a column with
    # its own CHECK in place; PostgreSQL adds the column, then the named constraint.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE person ADD COLUMN document_format VARCHAR(20) DEFAULT 'standard' NOT NULL"
            f" CONSTRAINT ck_person_document_format_known CHECK ({KNOWN})"
        )
        return
    op.add_column(
        'person', sa.Column('document_format', sa.String(length=20), server_default='standard', nullable=False)
    )
    op.create_check_constraint(op.f('ck_person_document_format_known'), 'person', KNOWN)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE person DROP COLUMN document_format")  # SQLite 3.35+; its own CHECK goes with it
        return
    op.drop_constraint(op.f('ck_person_document_format_known'), 'person', type_='check')
    op.drop_column('person', 'document_format')
