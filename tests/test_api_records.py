"""Activities, contributions, expenses, other income and the filtered lists."""

from datetime import date
from decimal import Decimal

import pytest

from tests.builders import assert_error, count
from tracker.audit.models import AuditEvent
from tracker.contributions.models import Contribution
from tracker.payments.models import Expense


@pytest.fixture
def activity(api_as):
    api = api_as("coordinator")
    resp = api.post(
        "/activities",
        json={
            "name": "Carers' forum",
            "default_rate": "25.00",
            "rate_unit": "hour",
            "includes_preparation": True,
            "service_user_context": "yes",
        },
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_value_owed_comes_from_the_rate_card(app, api_as, activity, make_person):
    pid = make_person()
    api = api_as("coordinator")
    resp = api.post(
        "/contributions",
        json={
            "person_id": pid,
            "worked_on": "2025-05-01",
            "hours": "2.5",
            "preparation_hours": "0.5",
            "activity_id": activity["id"],
        },
    )
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["value_owed"] == "75.00"  # 3 hours at £25 (preparation is paid here)


def test_day_rate_is_one_unit(api_as, make_person):
    api = api_as("coordinator")
    act = api.post("/activities", json={"name": "Away day", "default_rate": "140.00", "rate_unit": "day"}).get_json()
    pid = make_person()
    c = api.post(
        "/contributions", json={"person_id": pid, "worked_on": "2025-05-01", "hours": "6", "activity_id": act["id"]}
    ).get_json()
    assert c["value_owed"] == "140.00"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"hours": "-1"}, "hours"),
        ({"hours": "25"}, "hours"),
        ({"hours": "1.234"}, "hours"),
        ({"hours": 2}, "hours"),
        ({"worked_on": "2025-02-30"}, "worked_on"),
        ({"person_id": 424242}, "person_id"),
        ({"activity_id": 424242}, "activity_id"),
        ({"hours": "0"}, "hours"),
        ({"description": "x" * 1001}, "description"),
    ],
)
def test_bad_contributions_write_nothing(app, api_as, make_person, body, field):
    pid = make_person()
    api = api_as("coordinator")
    before = count(app, Contribution), count(app, AuditEvent)
    assert_error(
        api.post("/contributions", json={"person_id": pid, "worked_on": "2025-05-01", "hours": "2", **body}),
        422,
        "invalid",
        field,
    )
    assert (count(app, Contribution), count(app, AuditEvent)) == before


def test_expenses(app, api_as, make_person):
    pid = make_person()
    api = api_as("finance")
    resp = api.post(
        "/expenses",
        json={
            "person_id": pid,
            "amount": "12.40",
            "incurred_on": "2025-05-01",
            "paid_on": "2025-05-03",
            "description": "Bus fares",
            "receipt_ref": "R-88",
            "service_user_context": "yes",
        },
    )
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["amount"] == "12.40"
    for bad, field in [
        ({"amount": "0.00"}, "amount"),
        ({"paid_on": "2025-04-01"}, "paid_on"),
        ({"description": ""}, "description"),
        ({"service_user_context": "maybe"}, "service_user_context"),
    ]:
        body = {
            "person_id": pid,
            "amount": "5.00",
            "incurred_on": "2025-05-01",
            "paid_on": "2025-05-03",
            "description": "Taxi",
            **bad,
        }
        assert_error(api.post("/expenses", json=body), 422, "invalid", field)
    assert count(app, Expense) == 1
    listed = api.get(f"/expenses?person_id={pid}&count=true").get_json()
    assert listed["total"] == 1 and listed["items"][0]["receipt_ref"] == "R-88"


def test_other_income(api_as, make_person):
    pid = make_person()
    resp = api_as("coordinator").post(
        "/other-income",
        json={"person_id": pid, "amount": "80.00", "received_on": "2025-05-02", "source": "Another charity"},
    )
    assert resp.status_code == 201


def test_lists_filter_and_page(app, api_as, make_person):
    from tracker.extensions import db
    from tracker.rules import service

    with app.app_context():
        service.ensure_default_pack()
        db.session.commit()
    a, b = make_person("A Person"), make_person("B Person")
    fin = api_as("finance")
    for i in range(5):
        fin.post("/payments", json={"person_id": a, "kind": "cash", "amount": "10.00", "paid_on": f"2025-05-0{i + 1}"})
    fin.post("/payments", json={"person_id": b, "kind": "voucher", "amount": "15.00", "paid_on": "2025-06-01"})
    page = fin.get(f"/payments?person_id={a}&per_page=2&page=2&count=true").get_json()
    assert page["total"] == 5 and len(page["items"]) == 2
    assert {p["person_id"] for p in page["items"]} == {a}
    assert fin.get("/payments?kind=voucher&count=true").get_json()["total"] == 1
    assert fin.get("/payments?from=2025-05-03&to=2025-05-04&count=true").get_json()["total"] == 2
    assert_error(fin.get("/payments?status=lost"), 422, field="status")
    assert_error(fin.get("/payments?from=2025-13-01"), 422, field="from")
    assert_error(fin.get("/payments?per_page=1000"), 422, field="per_page")
    # A contributor only ever sees their own rows, whatever they ask for.
    me = api_as("contributor", person_id=b)
    mine = me.get(f"/payments?person_id={a}&count=true").get_json()
    assert mine["total"] == 1 and mine["items"][0]["person_id"] == b
    assert Decimal(mine["items"][0]["amount"]) == Decimal("15.00")
    assert date.fromisoformat(mine["items"][0]["paid_on"]) == date(2025, 6, 1)


def test_huge_ids_in_filters_are_422_not_500(api_as):
    api = api_as("finance")
    assert_error(api.get("/payments?person_id=99999999999999999999"), 422, field="person_id")
    assert_error(api.get("/payments?page=0"), 422, field="page")


def test_huge_ids_in_paths_are_404_not_500(api_as, client):
    api = api_as("admin")
    for path in ("/people/99999999999999999999", "/payments/99999999999999999999", "/documents/99999999999999999999"):
        assert_error(api.get(path), 404)
    assert client.get("/people/99999999999999999999").status_code in (302, 404)
    assert_error(api.get("/risks?person_id=99999999999999999999"), 422, field="person_id")
    assert api.get("/people?page=99999999999999999999").status_code == 200
