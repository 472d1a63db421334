"""`flask db upgrade` builds an empty database, and the result matches the models exactly."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from tracker.extensions import db

ROOT_MIGRATIONS = None


def _diff(app) -> list:
    with app.app_context():
        with db.engine.connect() as conn:
            mc = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(mc, db.metadata)


def _upgrade_and_compare(app):
    with app.app_context():
        upgrade()
    assert _diff(app) == []
    with app.app_context():
        tables = set(sa.inspect(db.engine).get_table_names())
    assert {"person", "payment", "benefit_claim", "audit_event", "user_account", "outbox_task"} <= tables
    with app.app_context():
        downgrade(revision="base")
        remaining = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert remaining == set()


def test_migrations_build_sqlite_and_match_models(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'migrated.sqlite'}")
    _upgrade_and_compare(app)


def test_migrations_build_postgresql_and_match_models(make_app, own_postgres_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=own_postgres_url)
    _upgrade_and_compare(app)
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("column", ["amount", "benefit_value", "amount_offered"])
def test_money_columns_are_integers_in_the_schema(app, column):
    with app.app_context():
        cols = {c["name"]: c for c in sa.inspect(db.engine).get_columns("payment")}
    assert isinstance(cols[column]["type"], sa.BigInteger)
