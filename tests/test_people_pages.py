"""The people pages: list, details, preferences, consent and benefit claims, role by role."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.people.models import BenefitClaim, Consent, Person, Preference

UC = {
    "benefit": "UC",
    "start_on": date(2024, 4, 1),
    "attributes": {"ap_start_day": 15, "work_allowance": False, "lcw_pending": False, "joint_claim": False},
}


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _audits(app, action: str, person_id: int | None = None) -> int:
    where = [AuditEvent.action == action]
    if person_id is not None:
        where.append(AuditEvent.person_id == person_id)
    return _count(app, AuditEvent, *where)


def _claim_id(app, person_id: int) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(BenefitClaim.id).where(BenefitClaim.person_id == person_id))


def _pages(pid: int, cid: int) -> list[str]:
    return [
        f"/people/{pid}",
        f"/people/{pid}/edit",
        f"/people/{pid}/preferences",
        f"/people/{pid}/consent",
        f"/people/{pid}/claims/new",
        f"/people/{pid}/claims/new?benefit=UC",
        f"/people/{pid}/claims/{cid}/edit",
    ]


# ---- who sees what ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "coordinator"])
def test_managers_see_every_page(app, client, login, make_person, role):
    pid = make_person("Sam Jones", claims=[UC])
    cid = _claim_id(app, pid)
    login(role)
    for url in ["/people/", "/people/new"] + _pages(pid, cid):
        resp = client.get(url)
        assert resp.status_code == 200, url


def test_finance_sees_the_list_and_details_but_no_benefits(app, client, login, make_person):
    pid = make_person("Sam Jones", claims=[UC], preferences=[{"kind": "voucher", "note": "supermarket"}])
    cid = _claim_id(app, pid)
    login("finance")
    assert client.get("/people/").status_code == 200
    resp = client.get(f"/people/{pid}")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "Sam Jones" in page and "supermarket" in page
    assert "Universal Credit" not in page and "assessment period" not in page
    assert "Consent" not in page and "privacy notice" not in page
    assert _audits(app, "benefits.viewed") == 0
    for url in [
        "/people/new",
        f"/people/{pid}/edit",
        f"/people/{pid}/preferences",
        f"/people/{pid}/consent",
        f"/people/{pid}/claims/new",
        f"/people/{pid}/claims/new?benefit=UC",
        f"/people/{pid}/claims/{cid}/edit",
    ]:
        assert client.get(url).status_code == 403, url
    for url in [
        f"/people/{pid}/consent",
        f"/people/{pid}/consent/withdraw",
        f"/people/{pid}/claims/new?benefit=UC",
        f"/people/{pid}/claims/{cid}/edit",
        f"/people/{pid}/claims/{cid}/remove",
    ]:
        assert client.post(url, data={}).status_code == 403, url
    assert _count(app, BenefitClaim) == 1 and _count(app, Consent, Consent.withdrawn_on.is_(None)) == 1


def test_contributor_sees_own_pages_and_gets_404_for_others(app, client, login, make_person):
    own = make_person("Own Person", claims=[UC])
    other = make_person("Other Person", claims=[UC])
    login("contributor", person_id=own)
    for url in _pages(own, _claim_id(app, own)):
        assert client.get(url).status_code == 200, url
    page = client.get(f"/people/{own}").get_data(as_text=True)
    assert "Your details" in page and "How you want to be paid" in page and "Universal Credit" in page
    assert client.get("/people/").status_code == 403
    assert client.get("/people/new").status_code == 403
    other_claim = _claim_id(app, other)
    for url in _pages(other, other_claim):
        assert client.get(url).status_code == 404, url
    for url in [
        f"/people/{other}/edit",
        f"/people/{other}/preferences",
        f"/people/{other}/consent",
        f"/people/{other}/consent/withdraw",
        f"/people/{other}/claims/new?benefit=CA",
        f"/people/{other}/claims/{other_claim}/edit",
        f"/people/{other}/claims/{other_claim}/remove",
    ]:
        assert client.post(url, data={"name": "Hijacked", "kind_0": "cash"}).status_code == 404, url
    with app.app_context():
        assert db.session.get(Person, other).name == "Other Person"
        assert db.session.get(Person, other).consent is not None
    assert _count(app, BenefitClaim, BenefitClaim.person_id == other) == 1


def test_a_claim_of_another_person_is_404(app, client, login, make_person):
    own = make_person("Own Person", claims=[UC])
    other = make_person("Other Person", claims=[UC])
    login("coordinator")
    other_claim = _claim_id(app, other)
    assert client.get(f"/people/{own}/claims/{other_claim}/edit").status_code == 404
    assert client.post(f"/people/{own}/claims/{other_claim}/remove").status_code == 404
    assert (
        client.post(
            f"/people/{own}/claims/{other_claim}/edit", data={"start_on": "2024-01-01", "attr_ap_start_day": "3"}
        ).status_code
        == 404
    )
    assert _count(app, BenefitClaim) == 2
    assert client.get(f"/people/{own}/claims/999999/edit").status_code == 404


def test_anonymous_is_sent_to_sign_in(client, make_person):
    pid = make_person()
    resp = client.get(f"/people/{pid}")
    assert resp.status_code == 302 and "/sign-in" in resp.headers["Location"]


# ---- the list -----------------------------------------------------------------------------


def test_list_searches_and_pages(app, client, login, make_person):
    make_person("Alice Adams", email="alice@example.org", consent=False)
    make_person("Bob Brown", email="bob@example.org", consent=False)
    for i in range(30):
        make_person(f"Zed {i:02d}", consent=False)
    login("finance")
    page = client.get("/people/?q=alice").get_data(as_text=True)
    assert "Alice Adams" in page and "Bob Brown" not in page
    assert "Bob Brown" in client.get("/people/?q=bob@example").get_data(as_text=True)
    assert "No one matches" in client.get("/people/?q=nobody-here").get_data(as_text=True)
    first = client.get("/people/").get_data(as_text=True)
    assert "<caption>" in first and 'scope="col"' in first and "Next page" in first
    second = client.get("/people/?page=2")
    assert second.status_code == 200 and "Previous page" in second.get_data(as_text=True)
    assert client.get("/people/?page=abc").status_code == 200
    assert client.get("/people/?page=99999999999999999999999").status_code == 200


# ---- a new person and their details ---------------------------------------------------------


def test_create_person(app, client, login):
    login("coordinator")
    resp = client.post(
        "/people/new",
        data={
            "name": "  Priya Patel ",
            "email": "priya@example.org",
            "phone": "01234 567890",
            "notes": "Prefers mornings",
        },
    )
    assert resp.status_code == 302
    with app.app_context():
        person = db.session.scalar(sa.select(Person))
        assert (person.name, person.email, person.notes) == ("Priya Patel", "priya@example.org", "Prefers mornings")
        assert resp.headers["Location"].endswith(f"/people/{person.id}")
    assert _audits(app, "person.created") == 1
    assert "Priya Patel has been added." in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_create_person_with_an_empty_name_writes_nothing(app, client, login):
    login("admin")
    resp = client.post("/people/new", data={"name": "   ", "email": "not-an-email"})
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "There is a problem" in page
    assert 'href="#name"' in page and "Enter the person&#39;s name." in page
    assert 'href="#email"' in page
    assert 'aria-invalid="true"' in page
    assert _count(app, Person) == 0 and _audits(app, "person.created") == 0


def test_edit_details(app, client, login, make_person):
    pid = make_person("Old Name")
    login("contributor", person_id=pid)
    page = client.get(f"/people/{pid}/edit").get_data(as_text=True)
    assert 'value="Old Name"' in page
    resp = client.post(f"/people/{pid}/edit", data={"name": "", "email": ""})
    assert resp.status_code == 422
    with app.app_context():
        assert db.session.get(Person, pid).name == "Old Name"
    resp = client.post(f"/people/{pid}/edit", data={"name": "New Name", "email": "new@example.org", "phone": ""})
    assert resp.status_code == 302
    with app.app_context():
        person = db.session.get(Person, pid)
        assert (person.name, person.email, person.phone) == ("New Name", "new@example.org", None)
    assert _audits(app, "person.updated", pid) == 1


# ---- preferences --------------------------------------------------------------------------


def _prefs(app, pid):
    with app.app_context():
        return [
            (p.kind, p.note)
            for p in db.session.scalars(
                sa.select(Preference).where(Preference.person_id == pid).order_by(Preference.position)
            )
        ]


def test_contributor_ticks_ways_then_orders_them(app, client, login, make_person):
    """How you want to be paid, GOV.UK style (issue 13, item 5): tick the ways, each with what it
    usually means for benefits, then put the ticked ones in order; the contract of the old seven rows
    of dropdowns is gone."""
    pid = make_person(preferences=[{"kind": "cash"}])
    login("contributor", person_id=pid)
    page = client.get(f"/people/{pid}/preferences").get_data(as_text=True)
    assert "Which ways would you like to be paid?" in page and "Select all that apply" in page
    assert page.count('type="checkbox" name="kinds"') == 7
    assert re.search(r'value="cash" id="kinds-cash"[^>]*checked', page)  # as they left it
    assert "Turning down money you were offered can sometimes still count for benefits" in page
    assert "You chose not to be paid" in page  # the contributor's own words for a decline
    # Step 1: three ways ticked. Step 2 lists only those, in the order they already had, then the rest.
    step2 = client.post(f"/people/{pid}/preferences", data={"step": "choose", "kinds": ["training", "voucher", "cash"]})
    assert step2.status_code == 200
    html = step2.get_data(as_text=True)
    assert html.index("<legend>Cash") < html.index("<legend>Vouchers") < html.index("<legend>Training")
    assert "<legend>Bank transfer" not in html and _prefs(app, pid) == [("cash", None)]  # nothing saved yet
    resp = client.post(
        f"/people/{pid}/preferences",
        data={
            "step": "order",
            "kinds": ["cash", "voucher", "training"],
            "rank_cash": "3",
            "rank_voucher": "1",
            "note_voucher": "supermarket",
            "rank_training": "2",
        },
    )
    assert resp.status_code == 302
    assert _prefs(app, pid) == [("voucher", "supermarket"), ("training", None), ("cash", None)]
    assert _audits(app, "person.preferences_set", pid) == 1
    detail = client.get(f"/people/{pid}").get_data(as_text=True)
    assert detail.index("Vouchers: supermarket") < detail.index("Training") < detail.index("Cash")


def test_nothing_ticked_saves_not_decided(app, client, login, make_person):
    pid = make_person(preferences=[{"kind": "cash"}])
    login("coordinator")
    resp = client.post(f"/people/{pid}/preferences", data={"step": "choose"})
    assert resp.status_code == 302 and _prefs(app, pid) == []


def test_two_ways_in_the_same_place_or_an_unknown_way_is_422_and_saves_nothing(app, client, login, make_person):
    pid = make_person(preferences=[{"kind": "cash"}])
    login("coordinator")
    resp = client.post(
        f"/people/{pid}/preferences",
        data={"step": "order", "kinds": ["voucher", "cash"], "rank_voucher": "1", "rank_cash": "1"},
    )
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert 'href="#rank_voucher"' in page and "Give each way a different place in the order, from 1st to 2nd." in page
    resp = client.post(f"/people/{pid}/preferences", data={"step": "choose", "kinds": ["bitcoin"]})
    assert resp.status_code == 422 and 'href="#kinds"' in resp.get_data(as_text=True)
    long_note = {"step": "order", "kinds": ["voucher"], "rank_voucher": "1", "note_voucher": "x" * 501}
    resp = client.post(f"/people/{pid}/preferences", data=long_note)
    assert resp.status_code == 422 and 'href="#note_voucher"' in resp.get_data(as_text=True)
    assert _prefs(app, pid) == [("cash", None)]


# ---- consent ------------------------------------------------------------------------------


def test_record_consent(app, client, login, make_person):
    pid = make_person(consent=False)
    login("contributor", person_id=pid)
    resp = client.post(f"/people/{pid}/consent", data={"given_on": "2025-01-10", "notice_version": "v2"})
    assert resp.status_code == 302
    with app.app_context():
        c = db.session.get(Person, pid).consent
        assert (c.given_on, c.notice_version) == (date(2025, 1, 10), "v2")
    assert _audits(app, "consent.recorded", pid) == 1


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"given_on": "2025-02-30", "notice_version": "v1"}, "given_on", "must be a real date"),
        ({"given_on": "not a date", "notice_version": "v1"}, "given_on", "must be a real date"),
        ({"given_on": "", "notice_version": "v1"}, "given_on", "Enter the date consent was given"),
        ({"given_on": "2099-01-01", "notice_version": "v1"}, "given_on", "cannot be dated in the future"),
        ({"given_on": "2999-01-01", "notice_version": "v1"}, "given_on", "must be between 2000 and 2100"),
        ({"given_on": "2025-01-01", "notice_version": " "}, "notice_version", "privacy notice the person saw"),
    ],
)
def test_consent_errors_are_422_and_write_nothing(app, client, login, make_person, data, field, message):
    pid = make_person(consent=False)
    login("coordinator")
    resp = client.post(f"/people/{pid}/consent", data=data)
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    anchor = f"{field}-day" if field.endswith("_on") else field  # a date links to its first box
    assert message in page and f'href="#{anchor}"' in page
    assert _count(app, Consent) == 0


def test_withdrawing_consent_removes_the_claims(app, client, login, make_person):
    pid = make_person(claims=[UC, {"benefit": "CA", "start_on": date(2024, 1, 1)}])
    login("coordinator")
    page = client.get(f"/people/{pid}/consent").get_data(as_text=True)
    assert "removes" in page and "benefit information" in page
    resp = client.post(f"/people/{pid}/consent/withdraw")
    assert resp.status_code == 302
    assert _count(app, BenefitClaim, BenefitClaim.person_id == pid) == 0
    with app.app_context():
        assert db.session.get(Person, pid).consent is None
    assert _audits(app, "consent.withdrawn", pid) == 1
    # Again: nothing to withdraw, a plain message, no error page.
    resp = client.post(f"/people/{pid}/consent/withdraw", follow_redirects=True)
    assert resp.status_code == 200 and "no consent to withdraw" in resp.get_data(as_text=True)


# ---- benefit claims -----------------------------------------------------------------------


def test_choose_a_benefit_first(app, client, login, make_person):
    pid = make_person()
    login("coordinator")
    page = client.get(f"/people/{pid}/claims/new").get_data(as_text=True)
    assert 'method="get"' in page and "Universal Credit" in page and "Carer&#39;s Allowance" in page
    assert "Trading allowance" not in page
    resp = client.get(f"/people/{pid}/claims/new?benefit=XYZ")
    assert resp.status_code == 422 and "Choose a benefit from the list." in resp.get_data(as_text=True)
    page = client.get(f"/people/{pid}/claims/new?benefit=UC").get_data(as_text=True)
    assert "Day of the month the assessment period starts" in page
    assert 'type="number"' in page and 'name="start_on-day"' in page and 'name="start_on-year"' in page
    # issue 11 item 6: the answers that decide which rule applies are asked, with nothing chosen
    assert "Has a work allowance" in page and "Waiting for a work capability assessment" in page
    # issue 11 item 5: and whether it is a couple's joint claim (their earnings count together)
    assert "Joint claim with a partner" in page
    assert page.count('<option selected value="">Choose an answer</option>') == 4 and 'type="checkbox"' not in page
    page = client.get(f"/people/{pid}/claims/new?benefit=ESA").get_data(as_text=True)
    assert "<select" in page and "Supported" in page


def test_a_good_claim_is_saved_with_its_attributes(app, client, login, make_person):
    pid = make_person()
    login("coordinator")
    resp = client.post(
        f"/people/{pid}/claims/new?benefit=UC",
        data={
            "start_on": "2024-04-01",
            "end_on": "",
            "attr_ap_start_day": "15",
            "attr_work_allowance": "yes",
            "attr_housing_element": "no",
            "attr_lcw_pending": "no",
            "attr_joint_claim": "no",
        },
    )
    assert resp.status_code == 302, resp.get_data(as_text=True)
    with app.app_context():
        claim = db.session.scalar(sa.select(BenefitClaim).where(BenefitClaim.person_id == pid))
        assert (claim.benefit, claim.start_on, claim.end_on) == ("UC", date(2024, 4, 1), None)
        assert claim.attributes == {
            "ap_start_day": 15,
            "work_allowance": True,
            "housing_element": False,
            "lcw_pending": False,
            "joint_claim": False,
        }
    assert _audits(app, "claim.added", pid) == 1


def test_a_choice_attribute_is_saved(app, client, login, make_person):
    pid = make_person()
    login("contributor", person_id=pid)
    resp = client.post(
        f"/people/{pid}/claims/new?benefit=CSP",
        data={"start_on": "2024-04-01", "end_on": "2025-03-31", "attr_week_start": "wednesday"},
    )
    assert resp.status_code == 302
    with app.app_context():
        claim = db.session.scalar(sa.select(BenefitClaim))
        assert claim.attributes == {"week_start": "wednesday"} and claim.end_on == date(2025, 3, 31)


@pytest.mark.parametrize("day", ["0", "32"])
def test_uc_assessment_day_out_of_range_is_422(app, client, login, make_person, day):
    pid = make_person()
    login("coordinator")
    resp = client.post(
        f"/people/{pid}/claims/new?benefit=UC", data={"start_on": "2024-04-01", "attr_ap_start_day": day}
    )
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert 'href="#attr_ap_start_day"' in page and "must be from 1 to 31" in page
    assert f'value="{day}"' in page  # what was typed is kept
    assert _count(app, BenefitClaim) == 0 and _audits(app, "claim.added") == 0


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"start_on": "2024-04-01", "attr_ap_start_day": ""}, "attr_ap_start_day", "is required"),
        ({"start_on": "2024-04-01", "attr_ap_start_day": "ten"}, "attr_ap_start_day", "must be a whole number"),
        ({"start_on": "2025-02-30", "attr_ap_start_day": "3"}, "start_on", "must be a real date"),
        ({"start_on": "", "attr_ap_start_day": "3"}, "start_on", "Enter the date the benefit started"),
        ({"start_on": "2024-04-01", "end_on": "2024-03-01", "attr_ap_start_day": "3"}, "end_on", "on or after"),
        ({"start_on": "2024-04-01", "end_on": "2024-13-01", "attr_ap_start_day": "3"}, "end_on", "must be a real date"),
    ],
)
def test_claim_form_errors_are_422(app, client, login, make_person, data, field, message):
    pid = make_person()
    login("admin")
    resp = client.post(f"/people/{pid}/claims/new?benefit=UC", data=data)
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    anchor = f"{field}-day" if field.endswith("_on") else field  # a date links to its first box
    assert message in page and f'href="#{anchor}"' in page
    assert _count(app, BenefitClaim) == 0


def test_a_claim_without_consent_is_409_and_writes_nothing(app, client, login, make_person):
    pid = make_person(consent=False)
    login("coordinator")
    resp = client.get(f"/people/{pid}/claims/new?benefit=UC")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "Consent needed first" in page and f'href="/people/{pid}/consent"' in page
    resp = client.post(
        f"/people/{pid}/claims/new?benefit=UC", data={"start_on": "2024-04-01", "attr_ap_start_day": "15"}
    )
    assert resp.status_code == 409
    assert "Consent needed first" in resp.get_data(as_text=True)
    assert _count(app, BenefitClaim) == 0 and _audits(app, "claim.added") == 0


def test_edit_and_remove_a_claim(app, client, login, make_person):
    pid = make_person(claims=[UC])
    cid = _claim_id(app, pid)
    login("coordinator")
    page = client.get(f"/people/{pid}/claims/{cid}/edit").get_data(as_text=True)
    assert 'value="15"' in page
    for part, value in (("day", "1"), ("month", "4"), ("year", "2024")):
        assert f'name="start_on-{part}" type="text" inputmode="numeric" autocomplete="off" value="{value}"' in page
    resp = client.post(
        f"/people/{pid}/claims/{cid}/edit",
        data={"start_on-day": "1", "start_on-month": "4", "start_on-year": "2024", "attr_ap_start_day": "40"},
    )
    assert resp.status_code == 422
    resp = client.post(
        f"/people/{pid}/claims/{cid}/edit",
        data={
            "start_on": "2024-04-01",
            "end_on": "2025-01-31",
            "attr_ap_start_day": "20",
            "attr_work_allowance": "yes",
            "attr_housing_element": "yes",
            "attr_lcw_pending": "no",
            "attr_joint_claim": "no",
        },
    )
    assert resp.status_code == 302
    with app.app_context():
        claim = db.session.get(BenefitClaim, cid)
        assert claim.end_on == date(2025, 1, 31)
        assert claim.attributes["ap_start_day"] == 20 and claim.attributes["housing_element"] is True
    assert _audits(app, "claim.updated", pid) == 1
    resp = client.post(f"/people/{pid}/claims/{cid}/remove")
    assert resp.status_code == 302
    assert _count(app, BenefitClaim) == 0 and _audits(app, "claim.removed", pid) == 1
    # Pressing "Remove" twice is harmless.
    assert client.post(f"/people/{pid}/claims/{cid}/remove").status_code == 302


def test_viewing_the_detail_page_audits_the_benefits_view(app, client, login, make_person):
    pid = make_person("Sam Jones", claims=[UC])
    uid = login("coordinator")
    resp = client.get(f"/people/{pid}")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "Universal Credit" in page
    assert "Day of the month the assessment period starts: 15" in page
    assert "Has a work allowance: No" in page
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "benefits.viewed"))
        assert (event.person_id, event.actor_id, event.after) == (pid, uid, {"where": "person page"})


def test_every_claim_problem_is_listed_at_once(app, client, login, make_person):
    pid = make_person()
    login("coordinator")
    resp = client.post(
        f"/people/{pid}/claims/new?benefit=UC", data={"start_on": "2025-02-30", "attr_ap_start_day": "32"}
    )
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert 'href="#start_on-day"' in page and 'href="#attr_ap_start_day"' in page
    assert _count(app, BenefitClaim) == 0


# ---- the person page leads somewhere (issue 13, item 3) ----------------------------------


def _money_person(app, make_person) -> int:
    from tests.builders import contribution, payment, saved

    pid = make_person("Sam Jones", claims=[UC])
    saved(app, contribution, pid, date(2025, 4, 2), value_owed="40.00")
    saved(app, contribution, pid, date(2025, 4, 9), value_owed="35.50")
    for day in range(1, 8):
        saved(app, payment, pid, "10.00", date(2025, 3, day))
    return pid


def test_finance_sees_what_is_owed_the_latest_payments_and_create_a_payment(app, client, login, make_person):
    pid = _money_person(app, make_person)
    login("finance")
    page = client.get(f"/people/{pid}").get_data(as_text=True)
    assert "Owed and not yet paid: £75.50</strong> for 2 sessions" in page
    assert f'href="/payments/new?person_id={pid}"' in page and "Create a payment" in page
    assert len(re.findall(r'href="/payments/\d+"', page)) == 5
    assert "7 March 2025" in page and "1 March 2025" not in page  # newest five only
    assert f'href="/payments/?person_id={pid}"' in page
    assert f'href="/documents/new?person_id={pid}"' in page
    # Finance sees no benefit information, so no link to the risk page or the planner.
    assert f"/risks/people/{pid}" not in page


def test_a_coordinator_gets_the_risk_page_and_planner_but_cannot_create_a_payment(app, client, login, make_person):
    pid = _money_person(app, make_person)
    login("coordinator")
    page = client.get(f"/people/{pid}").get_data(as_text=True)
    assert "Owed and not yet paid: £75.50" in page
    assert f'href="/risks/people/{pid}"' in page and f'href="/risks/people/{pid}/plan"' in page
    assert "/payments/new" not in page
    for url in (f"/risks/people/{pid}", f"/risks/people/{pid}/plan", f"/documents/new?person_id={pid}"):
        assert client.get(url).status_code == 200, url


def test_a_contributor_s_own_page_has_no_staff_money_section(app, client, login, make_person):
    pid = _money_person(app, make_person)
    login("contributor", person_id=pid)
    page = client.get(f"/people/{pid}").get_data(as_text=True)
    assert "Owed and not yet paid" not in page and "Create a payment" not in page


def test_claims_with_answers_to_confirm_are_listed_and_answering_clears_them(app, client, login, make_person):
    """Issue 11 item 6: a claim whose deciding answers hold an old default is listed for a
    coordinator, its edit form chooses nothing for them, and answering them clears the flag."""
    pid = make_person("Dee Fault", claims=[UC])
    cid = _claim_id(app, pid)
    with app.app_context():
        db.session.get(BenefitClaim, cid).answers_to_confirm = ["work_allowance", "lcw_pending"]
        db.session.commit()
    login("finance")
    assert client.get("/people/answers-to-confirm").status_code == 403
    login("coordinator")
    page = client.get("/people/answers-to-confirm").get_data(as_text=True)
    assert "Dee Fault" in page and "Has a work allowance" in page and f"/people/{pid}/claims/{cid}/edit" in page
    assert _audits(app, "benefits.viewed", pid) >= 1
    detail = client.get(f"/people/{pid}").get_data(as_text=True)
    assert "not confirmed: filled in by the tracker" in detail
    form = client.get(f"/people/{pid}/claims/{cid}/edit").get_data(as_text=True)
    # nothing chosen: the two to confirm, and housing costs (not asked without a work allowance)
    assert form.count('<option selected value="">Choose an answer</option>') == 3
    resp = client.post(f"/people/{pid}/claims/{cid}/edit", data={"start_on": "2024-04-01", "attr_ap_start_day": "15"})
    assert resp.status_code == 422 and "It decides which benefit rule applies" in resp.get_data(as_text=True)
    resp = client.post(
        f"/people/{pid}/claims/{cid}/edit",
        data={
            "start_on": "2024-04-01",
            "attr_ap_start_day": "15",
            "attr_work_allowance": "no",
            "attr_lcw_pending": "no",
            "attr_joint_claim": "no",
        },
    )
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(BenefitClaim, cid).answers_to_confirm is None
    assert "Dee Fault" not in client.get("/people/answers-to-confirm").get_data(as_text=True)
