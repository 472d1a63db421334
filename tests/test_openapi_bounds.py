"""The OpenAPI document states what the API enforces (ids, dates, amounts, hours, codes, pages, path
parameters, error answers), and the API holds to it: an id beyond a database integer or a date outside
2000 to 2100 is a 422 that writes nothing, never a 500. tests/test_api_fuzz.py fuzzes every operation
against this document; these are the plain cases it found."""

from __future__ import annotations

import re
from decimal import Decimal

import jsonschema
import pytest

from tests import builders
from tests.builders import assert_error
from tracker.api import openapi
from tracker.api.schemas import DAY_SCHEMA, HOURS_PATTERN, MoneyText, up_to, year_pattern
from tracker.payments.models import Payment
from tracker.risks.models import RiskFlag
from tracker.runs import accounts
from tracker.timeutil import DAY_RANGE_MESSAGE
from tracker.vocab import FIRST_YEAR, LAST_YEAR, MAX_AMOUNT, MAX_HOURS, MAX_ID, MAX_PAGE

TOO_BIG = 18446744073709551617  # 2**64 + 1: no database integer holds it


@pytest.fixture
def doc(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def _operations(doc):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def test_a_person_id_too_big_for_the_database_is_a_422_on_that_field(api_as, make_person, app):
    pid = make_person("Robin Risk")
    api = api_as("coordinator")
    resp = api.post("/risks", json={"person_id": TOO_BIG, "note": "Close to the limit"})
    assert_error(resp, 422, field="person_id")
    assert resp.get_json()["error"]["fields"]["person_id"] == [f"Use a whole number from 1 to {MAX_ID}."]
    assert builders.count(app, RiskFlag) == 0
    assert api.post("/risks", json={"person_id": pid, "note": "Close to the limit"}).status_code == 201


def _too_big_bodies(pid: int) -> list[tuple[str, str, dict, str]]:
    """(role, path, body, field): each body carries one id no database integer holds."""
    day = "2025-04-09"
    pay = {"kind": "cash", "amount": "5.00", "paid_on": day}
    return [
        ("coordinator", "/contributions", {"person_id": TOO_BIG, "worked_on": day, "hours": "1"}, "person_id"),
        (
            "coordinator",
            "/contributions",
            {"person_id": pid, "worked_on": day, "hours": "1", "activity_id": TOO_BIG},
            "activity_id",
        ),
        (
            "coordinator",
            "/documents",
            {"person_id": TOO_BIG, "kind": "statement", "start_on": day, "end_on": day},
            "person_id",
        ),
        ("finance", "/payments", {"person_id": TOO_BIG, **pay}, "person_id"),
        ("finance", "/payments", {"person_id": pid, **pay, "contribution_ids": [TOO_BIG]}, "contribution_ids.0"),
        ("finance", "/payments/check", {"person_id": TOO_BIG, **pay}, "person_id"),
        (
            "finance",
            "/expenses",
            {"person_id": TOO_BIG, "amount": "1.00", "incurred_on": day, "paid_on": day, "description": "Bus"},
            "person_id",
        ),
        (
            "finance",
            "/other-income",
            {"person_id": TOO_BIG, "amount": "1.00", "received_on": day, "source": "Job"},
            "person_id",
        ),
        ("finance", "/payment-runs", {"payment_ids": [TOO_BIG], "pay_on": "2099-01-05"}, "payment_ids.0"),
        ("finance", "/payments/approve", {"ids": [TOO_BIG]}, "ids.0"),
    ]


def test_every_id_in_a_body_too_big_for_the_database_is_a_422(api_as, make_person, app):
    pid = make_person("Ida Id")
    clients = {role: api_as(role) for role in ("coordinator", "finance")}
    for role, path, body, field in _too_big_bodies(pid):
        resp = clients[role].post(path, json=body)
        assert resp.status_code == 422, (path, resp.get_data(as_text=True))
        assert_error(resp, 422, field=field)
    assert builders.count(app, Payment) == 0


def _run_and_payment(app, make_person, api_as):
    """An approved bank transfer in an open run, and the finance client that made the run."""
    with app.app_context():
        person = builders.person("Bank Person", claims=[builders.CA])
        recorder = builders.user("finance")
        payment = builders.payment(person, "20.00", kind="bank_transfer", status="approved", recorded_by=recorder)
        builders.db.session.commit()
        person_id, payment_id = person.id, payment.id
    finance = api_as("finance")
    bank = {"account_name": "BANK PERSON", "sort_code": "12-34-56", "account_number": "12345678"}
    assert finance.put(f"/people/{person_id}/bank-account", json=bank).status_code == 200
    return finance, payment_id


@pytest.mark.parametrize("day", ["1999-12-31", "2101-01-01", "9999-12-31"])
def test_payment_run_and_pay_dates_outside_2000_to_2100_are_422(app, rules, make_person, api_as, day):
    finance, payment_id = _run_and_payment(app, make_person, api_as)
    resp = finance.post("/payment-runs", json={"payment_ids": [payment_id], "pay_on": day})
    assert_error(resp, 422, field="pay_on")
    assert resp.get_json()["error"]["fields"]["pay_on"] == [DAY_RANGE_MESSAGE]
    run = finance.post("/payment-runs", json={"payment_ids": [payment_id], "pay_on": "2099-01-05"})
    assert run.status_code == 201, run.get_data(as_text=True)
    assert_error(
        finance.post(f"/payment-runs/{run.get_json()['id']}/paid", json={"paid_on": day}), 422, field="paid_on"
    )
    resp = finance.post(f"/payments/{payment_id}/pay", json={"paid_on": day, "method": "cash"})
    assert_error(resp, 422, field="paid_on")


def test_a_payment_without_a_kept_check_answers_check_null_as_the_document_says(app, api_as, doc):
    with app.app_context():
        payment = builders.payment(builders.person("Nell Null"), status="draft")
        builders.db.session.commit()
        payment_id = payment.id
    body = api_as("finance").get(f"/payments/{payment_id}").get_json()
    assert body["check"] is None
    schema = {**doc["paths"]["/payments/{payment_id}"]["get"]["responses"]["200"]["content"]["application/json"]}
    jsonschema.validate(body, {**schema["schema"], "components": doc["components"]})


def test_every_path_parameter_is_documented_with_the_database_id_bounds(doc):
    for path, method, op in _operations(doc):
        named = set(re.findall(r"{(\w+)}", path))
        documented = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "path"}
        assert set(documented) == named, (method, path)
        for param in documented.values():
            assert param["required"] is True
            assert param["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_ID}, (method, path)
    assert doc["paths"]["/payments/{payment_id}"]["delete"]["parameters"][0]["name"] == "payment_id"


def _date_schemas(node):
    """Every schema in the document that is a date."""
    if isinstance(node, dict):
        if node.get("format") == "date" and "formatMinimum" in node:
            yield node
        elif node.get("format") == "date" and node.get("type") in ("string", ["string", "null"]):
            yield node
        for value in node.values():
            yield from _date_schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _date_schemas(value)


def test_every_date_the_api_reads_is_documented_from_2000_to_2100(doc):
    bodies = [doc["components"]["schemas"][m.__name__] for m in openapi.MODELS]
    params = [p for _, _, op in _operations(doc) for p in op.get("parameters", []) if p["in"] == "query"]
    found = list(_date_schemas(bodies)) + list(_date_schemas(params))
    assert len(found) > 20
    for schema in found:
        assert schema["formatMinimum"] == f"{FIRST_YEAR}-01-01" and schema["formatMaximum"] == f"{LAST_YEAR}-12-31"
        assert schema["pattern"] == DAY_SCHEMA["pattern"]


def test_the_date_pattern_holds_exactly_the_years_2000_to_2100():
    years = re.compile("^" + year_pattern(FIRST_YEAR, LAST_YEAR) + "$")
    assert [y for y in range(1000, 10000) if years.match(str(y))] == list(range(FIRST_YEAR, LAST_YEAR + 1))
    assert year_pattern(2003, 2031) == "(2003|2004|2005|2006|2007|2008|2009|201[0-9]|202[0-9]|2030|2031)"
    day = re.compile(DAY_SCHEMA["pattern"])
    assert day.match("2000-01-01") and day.match("2100-12-31")
    assert not any(day.match(d) for d in ("1999-12-31", "2101-01-01", "2025-13-01", "2025-00-10", "2025-01-32"))


def test_the_amount_and_hours_patterns_state_the_ceilings_the_services_check():
    amount = re.compile(up_to(MAX_AMOUNT))
    assert amount.match(f"{MAX_AMOUNT}") and amount.match("99999.99") and amount.match("0.5")
    assert not any(amount.match(t) for t in (f"{MAX_AMOUNT + Decimal('0.01')}", "1000000", "1.234", "-1.00"))
    hours = re.compile(HOURS_PATTERN)
    assert hours.match(str(MAX_HOURS)) and hours.match("23.99") and hours.match("7.5") and hours.match("0")
    assert not any(hours.match(t) for t in ("24.01", "25", "99", "1.234"))
    with pytest.raises(ValueError):
        up_to(Decimal("250"))
    assert MoneyText  # the request type the pattern describes


def test_the_bank_detail_patterns_are_the_checks_the_bank_service_runs(doc):
    props = doc["components"]["schemas"]["BankAccountIn"]["properties"]
    for sort_code in ("12-34-56", "123456", "12 34 56", "12-3456", "12 34-56", "١٢٣٤٥٦"):
        documented = bool(re.match(props["sort_code"]["pattern"], sort_code))
        assert documented == (not accounts._sort_code_errors(sort_code, re.sub("[- ]", "", sort_code))), sort_code
    for number in ("12345678", "1234567", "123456789", "١٢٣٤٥٦٧٨"):
        assert bool(re.match(props["account_number"]["pattern"], number)) == (not accounts._account_errors(number))
    assert props["account_name"]["maxLength"] == accounts.NAME_MAX


def test_a_unicode_account_number_is_refused(app, make_person, api_as):
    pid = make_person("Uma Unicode")
    bank = {"account_name": "UMA", "sort_code": "12-34-56", "account_number": "١٢٣٤٥٦٧٨"}
    assert_error(api_as("finance").put(f"/people/{pid}/bank-account", json=bank), 422, field="account_number")


def test_list_pages_and_filters_are_documented_with_the_bounds_they_enforce(api_as, doc):
    params = {p["name"]: p["schema"] for p in doc["paths"]["/payments"]["get"]["parameters"]}
    assert params["page"]["maximum"] == MAX_PAGE and params["person_id"]["maximum"] == MAX_ID
    assert params["kind"]["enum"] and params["sort"]["enum"]
    api = api_as("finance")
    assert_error(api.get(f"/payments?page={MAX_PAGE + 1}"), 422, field="page")
    assert api.get(f"/payments?page={MAX_PAGE}").status_code == 200
    assert_error(api.get("/payments?kind=bitcoin"), 422, field="kind")


def test_every_operation_behind_a_token_documents_401_and_the_one_error_shape(doc):
    for path, method, op in _operations(doc):
        if op.get("security") == []:
            continue
        assert "401" in op["responses"], (method, path)
        for status, answer in op["responses"].items():
            if status.startswith(("4", "5")):
                assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_a_note_added_to_a_flag_is_required_in_the_document_and_the_api(app, api_as, make_person, doc):
    note = doc["components"]["schemas"]["NoteTextIn"]
    assert note["required"] == ["note"] and note["properties"]["note"]["pattern"] == r"\S"
    api = api_as("coordinator")
    flag = api.post("/risks", json={"person_id": make_person("Nora Note"), "note": "Close"}).get_json()
    for body in ({}, {"note": None}, {"note": "   "}):
        assert_error(api.post(f"/risks/{flag['id']}/notes", json=body), 422, field="note")
    assert api.post(f"/risks/{flag['id']}/notes", json={"note": "Spoke to them"}).status_code == 201
