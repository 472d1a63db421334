"""Notional earnings through the API (issue 11 item 4): money offered and declined, reduced or given
to a charity counts where no exemption is established, and the verdict says why or which exemption."""

from __future__ import annotations

from datetime import date

import pytest

from tests import builders
from tests.builders import pay


def ca_verdict(body):
    found = [v for v in body["verdicts"] if (v["rule"] or "").startswith("CA_EARN")]
    assert found, body["verdicts"]
    return found[0]


def contribution_in(app, person_id, context):
    """A contribution on 2 April 2025 for an activity whose service-user context is ``context``."""
    with app.app_context():
        act = builders.activity(f"Panel {context}", service_user_context=context)
        row = builders.contribution(person_id, activity=act)
        builders.db.session.commit()
        return row.id


def declined(person_id, contribution_ids=(), offered="250.00"):
    return pay(person_id, "0.00", kind="declined", amount_offered=offered, contribution_ids=list(contribution_ids))


@pytest.mark.parametrize("context", ["no", "unknown"])
def test_a_declined_fee_counts_as_notional_earnings_when_no_exemption_is_established(app, api_as, carer, context):
    api = api_as("admin")
    body = api.post("/payments/check", json=declined(carer, [contribution_in(app, carer, context)])).get_json()
    v = ca_verdict(body)
    assert v["measure"] == "notional_earnings"
    assert v["status"] == "over" and v["total_after"] == "250.00" and body["blocked"] is True
    assert v["notional"]["counted"] == "250.00" and v["notional"]["exempt"] == "0.00"
    assert v["notional"]["exemptions"] == [] and v["notional"]["considered"] == ["service_user"]
    assert v["notional"]["source"].startswith("https://www.legislation.gov.uk/")
    words = " ".join(v["notes"])
    assert "£250.00 offered and not taken counts as earnings for Carer's Allowance" in words
    reason = "recorded as not being" if context == "no" else "nobody has recorded whether"
    assert reason in words


def test_a_declined_fee_for_service_user_involvement_is_exempt_and_says_so(app, api_as, carer):
    api = api_as("admin")
    body = api.post("/payments/check", json=declined(carer, [contribution_in(app, carer, "yes")])).get_json()
    v = ca_verdict(body)
    assert v["measure"] == "earnings" and v["status"] == "ok" and v["total_after"] == "0.00"
    assert v["notional"]["exempt"] == "250.00" and v["notional"]["exemptions"] == ["service_user"]
    assert body["blocked"] is False
    assert "the person took part as a service user" in " ".join(v["notes"])


def test_one_contribution_outside_service_user_involvement_is_enough_to_count(app, api_as, carer):
    api = api_as("admin")
    ids = [contribution_in(app, carer, "yes"), contribution_in(app, carer, "no")]
    v = ca_verdict(api.post("/payments/check", json=declined(carer, ids)).get_json())
    assert v["measure"] == "notional_earnings" and v["status"] == "over"


def test_a_reduced_payment_counts_at_the_amount_offered(app, api_as, carer):
    api = api_as("admin")
    v = ca_verdict(api.post("/payments/check", json=pay(carer, "100.00", amount_offered="250.00")).get_json())
    assert v["measure"] == "notional_earnings" and v["total_after"] == "250.00"
    assert v["notional"]["counted"] == "150.00"
    # the full amount taken is no reduction: nothing notional, and the verdict is as before
    v = ca_verdict(api.post("/payments/check", json=pay(carer, "100.00", amount_offered="100.00")).get_json())
    assert v["measure"] == "earnings" and v["total_after"] == "100.00" and "notional" not in v


def test_a_recorded_decline_counts_in_the_ledger_until_it_is_reversed(app, api_as, make_user, carer):
    with app.app_context():
        row = builders.payment(carer, "0.00", date(2025, 4, 8), kind="declined", amount_offered="150.00")
        builders.db.session.commit()
        declined_id = row.id
    api = api_as("admin")
    v = ca_verdict(api.post("/payments/check", json=pay(carer, "100.00")).get_json())
    assert v["total_before"] == "150.00" and v["total_after"] == "250.00" and v["status"] == "over"
    assert v["measure"] == "notional_earnings"
    with app.app_context():
        builders.payment(
            carer, "0.00", date(2025, 4, 8), kind="declined", amount_offered="150.00", reversal_of=declined_id
        )
        builders.db.session.commit()
    v = ca_verdict(api.post("/payments/check", json=pay(carer, "100.00")).get_json())
    assert v["total_after"] == "100.00" and v["measure"] == "earnings" and v["status"] == "ok"


def test_the_position_counts_a_recorded_decline(app, api_as, carer):
    with app.app_context():
        builders.payment(carer, "0.00", date(2025, 4, 8), kind="declined", amount_offered="250.00")
        builders.db.session.commit()
    body = api_as("admin").get(f"/people/{carer}/position?on=2025-04-08").get_json()
    v = ca_verdict(body)
    assert v["total"] == "250.00" and v["measure"] == "notional_earnings" and v["status"] == "over"


def test_finance_sees_the_notional_figures_but_no_benefit_names(app, api_as, carer):
    body = api_as("finance").post("/payments/check", json=declined(carer)).get_json()
    v = [v for v in body["verdicts"] if v["measure"] == "notional_earnings"][0]
    assert v["notional"]["counted"] == "250.00" and v["notional"]["exempt"] == "0.00"
    assert v["benefit"] is None and v["notes"] == []
    # which exemptions a benefit allows, and its regulation, would name the benefit
    assert (v["notional"]["exemptions"], v["notional"]["considered"], v["notional"]["source"]) == (None, None, None)


def test_the_ledger_reads_offers_and_service_user_answers(app, carer):
    _ledger_reads_offers(app, carer)


def test_the_ledger_reads_offers_and_service_user_answers_on_postgresql(postgresql_carer):
    _ledger_reads_offers(*postgresql_carer)


def _ledger_reads_offers(app, pid):
    """The ledger's SQL (the least answer of a payment's activities, a reversal's negated offer),
    one person at a time and in bulk."""
    from tracker.rules import ledger

    with app.app_context():
        yes = builders.activity("Panel yes", service_user_context="yes")
        no = builders.activity("Panel no", service_user_context="no")
        both = [builders.contribution(pid, activity=yes), builders.contribution(pid, activity=no)]
        only_yes = [builders.contribution(pid, activity=yes)]
        on = date(2025, 4, 8)
        counted = builders.payment(pid, "0.00", on, kind="declined", amount_offered="150.00", contributions=both)
        builders.payment(pid, "0.00", on, kind="declined", amount_offered="80.00", contributions=only_yes)
        builders.payment(pid, "0.00", on, kind="declined", amount_offered="150.00", reversal_of=counted)
        builders.payment(pid, "0.00", on, kind="declined", amount_offered="40.00")
        builders.payment(pid, "20.00", on)
        builders.db.session.commit()
        one = {(p.offered, p.service_user_context) for p in ledger.ledger_for(pid, on).payments}
        bulk = {(p.offered, p.service_user_context) for p in ledger.bulk_for([pid], on)[pid][1].payments}
        assert ledger.ledger_for(pid, on).payer == "public_body"
        builders.db.engine.dispose()
    from decimal import Decimal as D

    expected = {
        (D("150.00"), "no"),
        (D("80.00"), "yes"),
        (D("-150.00"), "no"),  # a reversal answers for the payment it reverses
        (D("40.00"), "unknown"),
        (None, "unknown"),
    }
    assert one == expected and bulk == expected
