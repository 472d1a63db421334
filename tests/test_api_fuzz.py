"""Fuzzing the JSON API from its own OpenAPI document, as every role (Schemathesis).

For each operation in the document ``/api/v1/openapi.json`` serves, Schemathesis generates requests:
its coverage phase sends each field's boundaries (the minimum, the maximum, one past each, a missing
required field, a wrong type) and its fuzzing phase sends requests that follow the document and
requests that break it. Each goes to the Flask app in-process with the token of one role, and each
answer is checked: never a 5xx, a status code the document lists, the content type it names, and a
body that matches its schema for that status.

The run has its own database, seeded once: a person with a claim, consent, bank details and a
contribution; payments in draft, approved and paid; a risk flag, a document, a statement batch and a
payment run. Most ids a case carries (in its path, in its body) are pointed at those rows, so requests
reach the logic behind validation; an id the document does not allow is left as generated, and so is
every id in a quarter of the cases. Examples are bounded and derandomized (a fixed seed): the run is
the same on every machine and fast enough for every CI run, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import tracker.api.views  # noqa: F401  (every route module adds its paths to the document)
from tests import builders
from tests.conftest import base_config, scratch_postgres
from tracker import create_app
from tracker.api import openapi
from tracker.extensions import db
from tracker.rules import service as rules_service
from tracker.vocab import MAX_ID, ROLES

#: Generated cases per operation in the fuzzing phase (the coverage phase adds its boundary cases).
EXAMPLES = 10
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CONFIG = {
    "seed": 20261207,
    "suppress-health-check": ["all"],
    "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True},
    "phases": {
        "examples": {"enabled": False},
        # Methods a path does not have are 405 before any token is read: not this run's concern.
        "coverage": {"enabled": True, "unexpected-methods": []},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": False},
    },
}
#: The document the app serves (tests/test_api_fuzz.py checks that it is this one).
SCHEMA = schemathesis.openapi.from_dict(openapi.build_document(), config=schemathesis.Config.from_dict(CONFIG))

#: Which seeded rows an id may point at: by path parameter, by body field, by body list of ids.
PATH_IDS = {
    "person_id": "person",
    "payment_id": "payments",
    "flag_id": "flag",
    "document_id": "document",
    "batch_id": "batch",
    "run_id": "run",
}
BODY_IDS = {"person_id": "person", "activity_id": "activity"}
BODY_ID_LISTS = {"ids": "payments", "payment_ids": "payments", "contribution_ids": "contribution"}


@dataclass
class World:
    app: Any
    tokens: dict[str, str]
    ids: dict[str, list[int]]


def _rows() -> tuple[dict[str, str], dict[str, list[int]]]:
    """The rows every role's requests are aimed at, and a token for each role (in an app context)."""
    person = builders.person("Fuzz Carer", preferences=["cash"], claims=[builders.CA])
    activity = builders.activity()
    contribution = builders.contribution(person, activity=activity)
    users = {role: builders.user(role, person=person if role == "contributor" else None) for role in ROLES}
    other = builders.user("finance")  # recorded the payments, so each role may approve them
    payments = [
        builders.payment(person, status="draft", recorded_by=other, contributions=[contribution]),
        builders.payment(person, "20.00", kind="bank_transfer", status="approved", recorded_by=other),
        builders.payment(person, "30.00", status="paid", recorded_by=other),
    ]
    tokens = {role: builders.token(u) for role, u in users.items()}
    ids = {
        "person": [person.id],
        "payments": [p.id for p in payments],
        "activity": [activity.id],
        "contribution": [contribution.id],
    }
    return tokens, ids


def _seed(app) -> World:
    with app.app_context():
        db.create_all()
        rules_service.ensure_default_pack()
        tokens, ids = _rows()
        db.session.commit()
    admin = builders.Api(app.test_client(), tokens["admin"])
    bank = {"account_name": "FUZZ CARER", "sort_code": "12-34-56", "account_number": "12345678"}
    assert admin.put(f"/people/{ids['person'][0]}/bank-account", json=bank).status_code == 200
    month = {"start_on": "2025-04-01", "end_on": "2025-04-30"}
    made = {
        "flag": admin.post("/risks", json={"person_id": ids["person"][0], "note": "Close to the limit"}),
        "document": admin.post("/documents", json={"person_id": ids["person"][0], "kind": "statement", **month}),
        "batch": admin.post("/documents/batches", json=month),
        "run": admin.post("/payment-runs", json={"payment_ids": [ids["payments"][1]], "pay_on": "2099-01-05"}),
    }
    for name, resp in made.items():
        assert resp.status_code in (201, 202), resp.get_data(as_text=True)
        ids[name] = [resp.get_json()["id"]]
    return World(app, tokens, ids)


@pytest.fixture(scope="module")
def world(database_url, broker_dir, tmp_path_factory) -> Iterator[World]:
    """An app on a database of its own (a new PostgreSQL database when the suite runs on PostgreSQL),
    seeded once for the whole run; no task is sent to a broker."""
    with pytest.MonkeyPatch.context() as patch, _own_database(database_url, tmp_path_factory) as url:
        app = create_app(base_config(url, broker_dir))
        patch.setattr(app.extensions["celery"], "send_task", lambda *args, **kwargs: None)
        rules_service.forget_cache()
        try:
            yield _seed(app)
        finally:
            rules_service.forget_cache()
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def _own_database(database_url: str, tmp_path_factory):
    if database_url.startswith("postgresql"):
        return scratch_postgres(database_url, "tracker_fuzz")
    from contextlib import nullcontext

    return nullcontext(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.sqlite'}")


def _valid_id(value: object) -> bool:
    """An id the document allows (path parameters arrive as text)."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    return type(value) is int and 1 <= value <= MAX_ID


def _aim(case, ids: dict[str, list[int]]) -> None:
    """Point the case's ids (in its path, in its body) at rows that exist, except in a quarter of the
    cases. An id the document does not allow (too big, negative, text) is left as generated."""
    pick = len(repr(case.body)) + len(repr(case.query))
    if pick % 4 == 3:
        return
    for name, value in (case.path_parameters or {}).items():
        rows = ids.get(PATH_IDS.get(name, ""), [])
        if rows and _valid_id(value):
            case.path_parameters[name] = rows[pick % len(rows)]
    if not isinstance(case.body, dict):
        return
    for name, kind in BODY_IDS.items():
        if _valid_id(case.body.get(name)):
            case.body[name] = ids[kind][0]
    for name, kind in BODY_ID_LISTS.items():
        value = case.body.get(name)
        if isinstance(value, list) and value and all(map(_valid_id, value)):
            case.body[name] = ids[kind][: pick % 3 + 1]


@pytest.mark.parametrize("role", ROLES)
@SCHEMA.parametrize()
def test_no_answer_is_a_server_error_or_breaks_the_document(case, role, world):
    _aim(case, world.ids)
    response = case.call(app=world.app, headers={"Authorization": f"Bearer {world.tokens[role]}"})
    case.validate_response(response, checks=CHECKS)


def test_the_fuzzed_document_is_the_one_the_app_serves(world):
    served = world.app.test_client().get("/api/v1/openapi.json").get_json()
    assert served == openapi.build_document()
    assert {(p, m) for p, ops in served["paths"].items() for m in ops} == {
        (op.path, op.method) for op in (r.ok() for r in SCHEMA.get_all_operations())
    }
