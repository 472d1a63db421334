"""Every date the tracker accepts lies from 2000 to 2100: outside that range it is a 422 with a field
message (the API) or a form error (pages), never a 500."""

from __future__ import annotations

import pytest

OUT_OF_RANGE = ["9999-12-31", "1999-12-31", "2101-01-01"]


def _api_bodies(pid: int, day: str) -> list[tuple[str, dict]]:
    return [
        ("/payments", {"person_id": pid, "kind": "cash", "amount": "5.00", "paid_on": day}),
        ("/payments/check", {"person_id": pid, "kind": "cash", "amount": "5.00", "paid_on": day}),
        ("/contributions", {"person_id": pid, "worked_on": day, "hours": "1", "value_owed": "5.00"}),
        ("/expenses", {"person_id": pid, "amount": "1.00", "incurred_on": day, "paid_on": day, "description": "Bus"}),
        ("/other-income", {"person_id": pid, "amount": "1.00", "received_on": day, "source": "Job"}),
        (f"/people/{pid}/consent", {"given_on": day, "notice_version": "v1"}),
        (f"/people/{pid}/claims", {"benefit": "CA", "start_on": day}),
        ("/documents", {"person_id": pid, "kind": "statement", "start_on": day, "end_on": "2025-04-30"}),
        ("/documents/batches", {"kind": "statement", "start_on": "2025-04-01", "end_on": day}),
    ]


@pytest.mark.parametrize("day", OUT_OF_RANGE)
def test_api_bodies_refuse_dates_outside_2000_to_2100(api_as, make_person, day):
    api = api_as("admin")
    pid = make_person("Dana Date")
    for path, body in _api_bodies(pid, day):
        resp = api.post(path, json=body)
        assert resp.status_code == 422, (path, resp.status_code, resp.get_data(as_text=True)[:300])
        assert resp.get_json()["error"]["fields"], path


@pytest.mark.parametrize("day", OUT_OF_RANGE)
def test_api_query_dates_outside_2000_to_2100_are_422(api_as, make_person, rules, day):
    api = api_as("admin")
    pid = make_person("Dana Date")
    for path in (
        f"/rules?on={day}",
        f"/people/{pid}/position?on={day}",
        f"/payments?from={day}",
        f"/payments?to={day}",
        f"/contributions?from={day}",
        f"/expenses?to={day}",
    ):
        resp = api.get(path)
        assert resp.status_code == 422, (path, resp.status_code, resp.get_data(as_text=True)[:300])


@pytest.mark.parametrize("day", ["9999-12-31", "1999-12-31"])
def test_pages_show_a_form_error_for_dates_outside_2000_to_2100(client, login, make_person, rules, day):
    login("admin")
    pid = make_person("Dana Date")
    for path in (
        f"/rules/?on={day}",
        f"/payments/?from={day}",
        f"/contributions/?to={day}",
        f"/audit/?from={day}",
        f"/exports/payments.csv?from={day}",
    ):
        resp = client.get(path)
        assert resp.status_code in (400, 422), (path, resp.status_code)
    resp = client.post(f"/risks/people/{pid}/plan", data={"action": "plan", "date_0": day, "amount_0": "10.00"})
    assert resp.status_code == 422
    assert "Date of the session must be between 2000 and 2100" in resp.get_data(as_text=True)
    resp = client.post(f"/people/{pid}/consent", data={"given_on": day, "notice_version": "v1"})
    assert resp.status_code != 500


def test_the_command_line_refuses_a_date_outside_2000_to_2100(app):
    result = app.test_cli_runner().invoke(args=["rules", "list", "--on", "9999-12-31"])
    assert result.exit_code != 0
    assert "between 2000 and 2100" in result.output


def test_edge_dates_are_accepted(api_as, rules):
    api = api_as("admin")
    for day in ("2000-01-01", "2100-12-31"):
        assert api.get(f"/rules?on={day}").status_code == 200
        assert api.get(f"/payments?from={day}").status_code == 200


def test_a_rule_pack_date_outside_2000_to_2100_is_refused():
    from tracker.engine import pack

    rule = pack.rule_to_dict(pack.load_default_pack()[0])
    for day in ("1999-12-31", "9999-12-31"):
        with pytest.raises(pack.RuleError) as caught:
            pack.parse_rule(dict(rule, effective_to=day))
        assert "between 2000 and 2100" in str(caught.value.fields["effective_to"])


def test_an_imported_date_outside_2000_to_2100_is_a_row_problem():
    from datetime import date, datetime

    from tracker.imports import service

    for value in ("9999-12-31", "31/12/1999", date(1900, 1, 1), datetime(2200, 1, 1)):
        with pytest.raises(service.Bad, match="between 2000 and 2100"):
            service.a_date(value)
    assert service.a_date("07/04/2025") == date(2025, 4, 7)


def test_demo_seed_refuses_a_today_outside_2000_to_2100(app):
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--today", "9999-12-31"])
    assert result.exit_code == 2 and "between 2000 and 2100" in result.output
