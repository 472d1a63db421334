"""The people, preferences, consent and claims endpoints, and the API's shared rules."""

from datetime import date

import pytest
import sqlalchemy as sa

from tests.builders import assert_error, count
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.people.models import BenefitClaim, Consent, Person


def test_create_and_read_person(app, api_as):
    api = api_as("coordinator")
    resp = api.post(
        "/people",
        json={
            "name": "Zoë Ní Bhriain",
            "email": "zoe@example.org",
            "preferences": [{"kind": "voucher", "note": "supermarket"}, {"kind": "cash"}],
        },
    )
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["name"] == "Zoë Ní Bhriain"
    assert body["preferences"] == [{"kind": "voucher", "note": "supermarket"}, {"kind": "cash", "note": None}]
    got = api.get(f"/people/{body['id']}")
    assert got.status_code == 200 and got.get_json() == body
    listing = api.get("/people").get_json()
    assert [p["id"] for p in listing["items"]] == [body["id"]]
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert "person.created" in events


def test_no_token_is_401_and_bad_token_is_401(client, app):
    assert_error(client.get("/api/v1/people"), 401, "unauthorized")
    assert_error(client.get("/api/v1/people", headers={"Authorization": "Bearer trk_nope"}), 401)
    assert_error(client.get("/api/v1/people", headers={"Authorization": "Basic abc"}), 401)


def test_unknown_route_and_method_use_the_error_shape(api_as):
    api = api_as("admin")
    assert_error(api.get("/nothing-here"), 404, "not_found")
    assert_error(api.delete("/people"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": 123}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Ok", "email": "not-an-email"}, "email"),
        ({"name": "Ok", "email": "a" * 250 + "@x.org"}, "email"),
        ({"name": "Ok", "role": "admin"}, "role"),
        ({"name": "Ok", "preferences": [{"kind": "gold"}]}, "preferences.0.kind"),
        ({"name": "Ok", "preferences": [{"kind": "cash"}, {"kind": "cash"}]}, "preferences.1.kind"),
        ({"name": "Ok", "preferences": "cash"}, "preferences"),
        ({"name": "Ok", "preferences": [{"kind": "cash", "note": "n" * 501}]}, "preferences.0.note"),
    ],
)
def test_bad_people_input_is_422_and_writes_nothing(app, api_as, body, field):
    api = api_as("coordinator")
    before = count(app, Person), count(app, AuditEvent)
    assert_error(api.post("/people", json=body), 422, "invalid", field)
    assert (count(app, Person), count(app, AuditEvent)) == before


def test_non_json_body_is_422(api_as):
    api = api_as("coordinator")
    resp = api.client.post("/api/v1/people", data="name=x", headers={"Authorization": f"Bearer {api.token}"})
    assert_error(resp, 422, "invalid", "body")
    resp = api.client.post(
        "/api/v1/people",
        data="{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.token}"},
    )
    assert_error(resp, 422, "invalid")


@pytest.fixture
def person_with_consent(make_person):
    return make_person("Siobhán Walsh")


UC = {
    "benefit": "UC",
    "start_on": "2024-04-01",
    "attributes": {"ap_start_day": 15, "work_allowance": False, "lcw_pending": False, "joint_claim": False},
}


def test_claim_needs_consent(app, api_as, make_person):
    pid = make_person("No Consent", consent=False)
    api = api_as("coordinator")
    before = count(app, BenefitClaim)
    assert_error(api.post(f"/people/{pid}/claims", json=UC), 409, "consent_required")
    assert count(app, BenefitClaim) == before
    resp = api.post(f"/people/{pid}/consent", json={"given_on": "2024-03-01", "notice_version": "2024-01"})
    assert resp.status_code == 201
    resp = api.post(f"/people/{pid}/claims", json=UC)
    assert resp.status_code == 201
    claim = resp.get_json()
    assert claim["attributes"] == {
        "ap_start_day": 15,
        "work_allowance": False,
        "housing_element": False,
        "lcw_pending": False,
        "joint_claim": False,
    }


@pytest.mark.parametrize(
    "body, field",
    [
        ({**UC, "benefit": "XYZ"}, "benefit"),
        ({**UC, "attributes": {"ap_start_day": 0}}, "attributes.ap_start_day"),
        ({**UC, "attributes": {"ap_start_day": 32}}, "attributes.ap_start_day"),
        ({**UC, "attributes": {}}, "attributes.ap_start_day"),
        ({**UC, "attributes": {"ap_start_day": "fifteen"}}, "attributes.ap_start_day"),
        ({**UC, "attributes": {"ap_start_day": 5, "colour": "red"}}, "attributes.colour"),
        ({**UC, "attributes": {"ap_start_day": 5, "work_allowance": "maybe"}}, "attributes.work_allowance"),
        ({**UC, "end_on": "2024-03-01"}, "end_on"),
        ({**UC, "start_on": "2025-02-30"}, "start_on"),
        ({**UC, "start_on": 20240401}, "start_on"),
        ({**UC, "benefit": "TAX"}, "benefit"),
        ({**UC, "benefit": "x" * 50}, "benefit"),
        ({**UC, "person_id": 99}, "person_id"),
        (
            {"benefit": "ESA", "start_on": "2024-01-01", "attributes": {"permitted_work": "medium"}},
            "attributes.permitted_work",
        ),
        # issue 11 item 6: answers that decide which rule applies are never defaulted
        (
            {**UC, "attributes": {"ap_start_day": 5, "lcw_pending": False, "joint_claim": False}},
            "attributes.work_allowance",
        ),
        ({**UC, "attributes": {"ap_start_day": 5, "work_allowance": False}}, "attributes.lcw_pending"),
        (
            {
                **UC,
                "attributes": {"ap_start_day": 5, "work_allowance": True, "lcw_pending": False, "joint_claim": False},
            },
            "attributes.housing_element",
        ),
        ({"benefit": "ESA", "start_on": "2024-01-01", "attributes": {}}, "attributes.permitted_work"),
        ({"benefit": "ESA", "start_on": "2024-01-01"}, "attributes.permitted_work"),
    ],
)
def test_bad_claims_are_422_and_write_nothing(app, api_as, person_with_consent, body, field):
    api = api_as("coordinator")
    before = count(app, BenefitClaim), count(app, AuditEvent)
    assert_error(api.post(f"/people/{person_with_consent}/claims", json=body), 422, "invalid", field)
    assert (count(app, BenefitClaim), count(app, AuditEvent)) == before


def test_consent_in_the_future_is_refused(app, api_as, make_person):
    pid = make_person(consent=False)
    api = api_as("coordinator")
    assert_error(
        api.post(f"/people/{pid}/consent", json={"given_on": "2999-01-01", "notice_version": "v"}),
        422,
        field="given_on",
    )
    assert count(app, Consent) == 0


def test_preferences_replace_in_order(app, api_as, person_with_consent):
    api = api_as("coordinator")
    resp = api.put(
        f"/people/{person_with_consent}/preferences",
        json=[{"kind": "training", "note": "first aid course"}, {"kind": "declined"}],
    )
    assert resp.status_code == 200
    assert [p["kind"] for p in resp.get_json()["preferences"]] == ["training", "declined"]
    assert_error(api.put(f"/people/{person_with_consent}/preferences", json={"kind": "cash"}), 422)
    assert_error(api.put(f"/people/{person_with_consent}/preferences", json=[{"kind": "cash"}] * 8), 422)


def test_contributor_sees_only_themself(app, api_as, make_person):
    mine = make_person("Łukasz Nowak")
    other = make_person("Aoife Byrne")
    api = api_as("contributor", person_id=mine)
    assert api.get(f"/people/{mine}").status_code == 200
    assert_error(api.get(f"/people/{other}"), 404, "not_found")
    assert_error(api.get("/people/999999"), 404, "not_found")
    assert_error(api.put(f"/people/{other}/preferences", json=[]), 404)
    assert_error(api.post(f"/people/{other}/claims", json=UC), 404)
    assert_error(api.post(f"/people/{other}/consent", json={"given_on": "2024-01-01", "notice_version": "v"}), 404)
    assert_error(api.get("/people"), 403, "forbidden")
    assert_error(api.post("/people", json={"name": "New"}), 403)
    # Their own preferences and benefit information they may set.
    assert api.put(f"/people/{mine}/preferences", json=[{"kind": "cash"}]).status_code == 200
    assert api.post(f"/people/{mine}/claims", json=UC).status_code == 201


def test_finance_cannot_see_benefit_information(app, api_as, make_person):
    pid = make_person(claims=[{"benefit": "CA", "start_on": __import__("datetime").date(2024, 1, 1)}])
    api = api_as("finance")
    assert api.get(f"/people/{pid}").status_code == 200
    assert "claims" not in api.get(f"/people/{pid}").get_json()
    assert_error(api.get(f"/people/{pid}/claims"), 403)
    assert_error(api.post(f"/people/{pid}/claims", json=UC), 403)


def test_viewing_claims_is_audited(app, api_as, make_person):
    import datetime

    pid = make_person(claims=[{"benefit": "CA", "start_on": datetime.date(2024, 1, 1)}])
    api = api_as("coordinator")
    resp = api.get(f"/people/{pid}/claims")
    assert resp.status_code == 200
    assert [c["benefit"] for c in resp.get_json()["items"]] == ["CA"]
    with app.app_context():
        viewed = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "benefits.viewed")).all()
    assert len(viewed) == 1 and viewed[0].person_id == pid


def test_idempotency_key_replays_the_first_response(app, api_as):
    api = api_as("coordinator")
    h = {"Idempotency-Key": "abc-123"}
    first = api.post("/people", json={"name": "Once Only"}, headers=h)
    second = api.post("/people", json={"name": "Once Only"}, headers=h)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert count(app, Person) == 1
    other = api.post("/people", json={"name": "Someone Else"}, headers=h)
    assert_error(other, 422, "idempotency_key_reused", "Idempotency-Key")
    assert count(app, Person) == 1


def test_idempotency_keys_are_scoped_per_user(app, api_as):
    a, b = api_as("coordinator"), api_as("coordinator")
    h = {"Idempotency-Key": "shared-key"}
    assert a.post("/people", json={"name": "A"}, headers=h).status_code == 201
    assert b.post("/people", json={"name": "B"}, headers=h).status_code == 201
    assert count(app, Person) == 2


def test_failed_request_does_not_burn_the_key(app, api_as):
    api = api_as("coordinator")
    h = {"Idempotency-Key": "k1"}
    assert api.post("/people", json={"name": ""}, headers=h).status_code == 422
    assert api.post("/people", json={"name": "Fixed"}, headers=h).status_code == 201


def test_openapi_lists_every_api_route(app, client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = rule.rule.removeprefix("/api/v1")
        for part in ("<int:", "<"):
            path = path.replace(part, "{")
        path = path.replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, f"{method} {path} is not in the OpenAPI document"
    assert "PersonIn" in doc["components"]["schemas"]


def test_a_claim_lists_its_answers_to_confirm(app, api_as, make_person):
    """A claim stored before the answers were always asked says which hold a default (issue 11)."""
    answers = {"ap_start_day": 15, "work_allowance": False, "lcw_pending": False, "joint_claim": False}
    pid = make_person(claims=[{"benefit": "UC", "start_on": date(2024, 4, 1), "attributes": answers}])
    with app.app_context():
        claim = db.session.scalar(sa.select(BenefitClaim).where(BenefitClaim.person_id == pid))
        claim.answers_to_confirm = ["work_allowance"]
        db.session.commit()
    api = api_as("coordinator")
    [item] = api.get(f"/people/{pid}/claims").get_json()["items"]
    assert item["answers_to_confirm"] == ["work_allowance"]
