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


def test_claims_with_a_defaulted_answer_are_listed_to_confirm(make_app, tmp_path):
    """Issue 11 item 6: claims stored with a default for an answer that decides a rule are flagged."""
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/answers.sqlite")
    now = "2026-12-01 10:00:00"
    claims = [
        ("UC", '{"ap_start_day": 3, "work_allowance": false, "housing_element": false, "lcw_pending": false}'),
        ("UC", '{"ap_start_day": 3, "work_allowance": true, "housing_element": false, "lcw_pending": true}'),
        ("UC", '{"ap_start_day": 3, "work_allowance": true, "housing_element": true, "lcw_pending": true}'),
        ("ESA", '{"permitted_work": "higher", "week_start": "monday"}'),
        ("ESA", '{"permitted_work": "lower", "week_start": "monday"}'),
        ("CA", '{"week_start": "monday"}'),
    ]
    with app.app_context():
        upgrade(revision="b3d9f2a61c07")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO person (id, name, ledger_version, created_at, updated_at) VALUES (1, 'A', 0, :t, :t)"
                ),
                {"t": now},
            )
            for n, (benefit, attributes) in enumerate(claims, start=1):
                conn.execute(
                    sa.text(
                        "INSERT INTO benefit_claim"
                        " (id, person_id, benefit, start_on, attributes, created_at, updated_at)"
                        " VALUES (:id, 1, :b, '2024-01-01', :a, :t, :t)"
                    ),
                    {"id": n, "b": benefit, "a": attributes, "t": now},
                )
        upgrade(revision="e4a1c8d2f3b6")  # the migration of item 6 (the joint claim question comes later)
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, answers_to_confirm FROM benefit_claim ORDER BY id")).all()
        downgrade(revision="b3d9f2a61c07")
    import json

    found = {row_id: json.loads(value) if value else None for row_id, value in rows}
    assert found == {
        1: ["work_allowance", "lcw_pending"],
        2: ["housing_element"],
        3: None,
        4: ["permitted_work"],
        5: None,
        6: None,
    }


def test_uc_claims_get_the_joint_claim_question_to_confirm(make_app, tmp_path):
    """Issue 11 item 5: existing UC claims answer "not joint" (what was counted until then) and
    list the answer to confirm; the partner earnings table comes and goes."""
    import json

    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/joint.sqlite")
    now = "2026-12-01 10:00:00"
    claims = [
        ("UC", '{"ap_start_day": 3, "work_allowance": false, "lcw_pending": false}', '["work_allowance"]'),
        ("UC", '{"ap_start_day": 3, "work_allowance": false, "lcw_pending": false}', None),
        ("CA", '{"week_start": "monday"}', None),
    ]
    with app.app_context():
        upgrade(revision="e5a7c2d9b4f1")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO person (id, name, ledger_version, created_at, updated_at) VALUES (1, 'A', 0, :t, :t)"
                ),
                {"t": now},
            )
            for n, (benefit, attributes, to_confirm) in enumerate(claims, start=1):
                conn.execute(
                    sa.text(
                        "INSERT INTO benefit_claim"
                        " (id, person_id, benefit, start_on, attributes, answers_to_confirm, created_at, updated_at)"
                        " VALUES (:id, 1, :b, '2024-01-01', :a, :c, :t, :t)"
                    ),
                    {"id": n, "b": benefit, "a": attributes, "c": to_confirm, "t": now},
                )
        upgrade(revision="b7d3e9a1c5f2")
        query = sa.text("SELECT id, attributes, answers_to_confirm FROM benefit_claim ORDER BY id")
        with db.engine.connect() as conn:
            after = conn.execute(query).all()
            assert "partner_earning" in sa.inspect(conn).get_table_names()
        downgrade(revision="e5a7c2d9b4f1")
        with db.engine.connect() as conn:
            back = conn.execute(query).all()
            assert "partner_earning" not in sa.inspect(conn).get_table_names()

    def read(rows):
        return {i: (json.loads(a).get("joint_claim"), json.loads(c) if c else None) for i, a, c in rows}

    assert read(after) == {1: (False, ["work_allowance", "joint_claim"]), 2: (False, ["joint_claim"]), 3: (None, None)}
    assert read(back) == {1: (None, ["work_allowance"]), 2: (None, None), 3: (None, None)}
