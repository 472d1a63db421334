"""The benefit-rule pages: the list, one rule, edit, confirm, retire and load, role by role."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.rules import forms, service
from tracker.rules.models import RuleRevision

STAFF = ("admin", "finance", "coordinator")
APRIL_7 = date(2025, 4, 7)


@pytest.fixture(autouse=True)
def _fresh_rule_cache():
    # The service caches parsed rules per process, keyed on (newest id, count). Between tests the
    # tables are emptied and ids can repeat, so start every test with an empty cache.
    service._cache.update(key=None, rules=())
    yield
    service._cache.update(key=None, rules=())


@pytest.fixture
def pack(app):
    with app.app_context():
        service.ensure_default_pack()
        db.session.commit()


def _revisions(app, code: str | None = None) -> int:
    with app.app_context():
        q = sa.select(sa.func.count(RuleRevision.id))
        if code:
            q = q.where(RuleRevision.code == code)
        return db.session.scalar(q)


def _current(app, code: str) -> RuleRevision:
    with app.app_context():
        row = service.current(code)
        db.session.expunge(row)
        return row


def _in_force(app, on: date) -> dict:
    with app.app_context():
        return {rule.code: rule for _, rule in service.rules_in_force(on)}


def _form(app, code: str, **changes) -> dict:
    """What the edit form posts for the rule as it is now, with some fields changed."""
    with app.app_context():
        row = service.current(code)
        data = forms.form_data(row.definition, row.revision)
    post = {}
    for k, v in data.items():
        if isinstance(v, bool):
            if v:
                post[k] = "y"
        elif isinstance(v, date):
            post[k] = v.isoformat()
        elif v is None:
            post[k] = ""
        else:
            post[k] = v
    post.update(changes)
    return {k: v for k, v in post.items() if v is not None}


def _text(resp) -> str:
    return resp.get_data(as_text=True)


# ---- who may see and do what -----------------------------------------------------------------


@pytest.mark.parametrize("role", STAFF)
def test_staff_can_read_the_rules(client, login, pack, role):
    login(role)
    for url in ("/rules/", "/rules/?on=2025-04-07", "/rules/CA_EARN_2025", "/rules/UC_SURPLUS_2026"):
        resp = client.get(url)
        assert resp.status_code == 200, url
    page = _text(client.get("/rules/CA_EARN_2025"))
    # Only admins are offered changes.
    assert ("/rules/CA_EARN_2025/edit" in page) == (role == "admin")
    assert ("Retire this rule" in page) == (role == "admin")


def test_a_rule_page_says_which_date_counts_and_which_week_it_decides(client, login, pack):
    login("admin")
    page = _text(client.get("/rules/CA_EARN_2025"))
    assert "The date the money is due" in page and "Counts evenly by day across the days it covers" in page
    assert "The following benefit week, against that week’s limit" in page
    page = _text(client.get("/rules/UC_SURPLUS_2026"))
    assert "The date the person receives the money" in page and "following benefit week" not in page


def test_admin_sees_the_change_pages(client, login, pack):
    login("admin")
    for url in ("/rules/CA_EARN_2025/edit", "/rules/UC_SURPLUS_2026/edit", "/rules/ESA_PW_HOURS/edit", "/rules/load"):
        assert client.get(url).status_code == 200, url


def test_contributors_get_403_everywhere(app, client, login, pack):
    before = _revisions(app)
    login("contributor")
    for url in ("/rules/", "/rules/CA_EARN_2025", "/rules/CA_EARN_2025/edit", "/rules/load"):
        assert client.get(url).status_code == 403, url
    for url in (
        "/rules/CA_EARN_2025/edit",
        "/rules/UC_SURPLUS_2026/confirm",
        "/rules/CA_EARN_2025/retire",
        "/rules/load",
    ):
        assert client.post(url, data={"reason": "x", "confirm-reason": "x", "retire-reason": "x"}).status_code == 403
    assert _revisions(app) == before


@pytest.mark.parametrize("role", ["finance", "coordinator"])
def test_only_admins_change_rules(app, client, login, pack, role):
    before = _revisions(app)
    login(role)
    assert client.get("/rules/CA_EARN_2025/edit").status_code == 403
    assert client.get("/rules/load").status_code == 403
    assert (
        client.post("/rules/CA_EARN_2025/edit", data=_form(app, "CA_EARN_2025", limit="1.00", reason="x")).status_code
        == 403
    )
    assert client.post("/rules/UC_SURPLUS_2026/confirm", data={"confirm-reason": "gov.uk"}).status_code == 403
    assert client.post("/rules/CA_EARN_2025/retire", data={"retire-reason": "old"}).status_code == 403
    assert (
        client.post(
            "/rules/load", data={"file": (io.BytesIO(b"[]"), "p.yaml")}, content_type="multipart/form-data"
        ).status_code
        == 403
    )
    assert _revisions(app) == before


def test_anonymous_is_sent_to_sign_in(client, pack):
    resp = client.get("/rules/")
    assert resp.status_code == 302 and "/sign-in" in resp.headers["Location"]


def test_unknown_code_is_404(client, login, pack):
    login("admin")
    assert client.get("/rules/NO_SUCH_RULE").status_code == 404
    assert client.get("/rules/NO_SUCH_RULE/edit").status_code == 404
    assert client.post("/rules/NO_SUCH_RULE/edit", data={"reason": "x"}).status_code == 404
    assert client.post("/rules/NO_SUCH_RULE/confirm", data={"confirm-reason": "x"}).status_code == 404
    assert client.post("/rules/NO_SUCH_RULE/retire", data={"retire-reason": "x"}).status_code == 404
    assert client.get("/rules/ca_earn_2025").status_code == 404
    assert client.get("/rules/CA%00EARN").status_code == 404
    assert client.get("/rules/" + "A" * 500).status_code == 404


# ---- the list --------------------------------------------------------------------------------


def test_the_list_groups_rules_by_benefit_in_plain_words(client, login, pack):
    login("coordinator")
    page = _text(client.get("/rules/?show=all"))
    assert "a safeguard, not benefits advice" in page
    assert "sources listed" in page
    for name in ("Universal Credit", "Carer&#39;s Allowance", "Employment and Support Allowance"):
        assert f">{name}</h2>" in page, name
    ca = page.split(">Carer&#39;s Allowance</h2>")[1].split("</table>")[0]
    row = ca.split("(CA_EARN_2025)")[1].split("</tr>")[0]
    assert "£196.00" in row
    assert "Each week, starting on Monday" in row
    assert "7 April 2025" in row and "5 April 2026" in row
    assert "Blocks a payment" in row
    assert 'href="/rules/CA_EARN_2025"' in ca
    surplus = page.split("(UC_SURPLUS_2026)")[1].split("</tr>")[0]
    assert "Figure not verified" in surplus and "Warns" in surplus
    lcw = page.split("(UC_LCW_BAR_2025)")[1].split("</tr>")[0]
    assert "Derived from a formula" in lcw
    hours = page.split("(ESA_PW_HOURS)")[1].split("</tr>")[0]
    assert "16 hours" in hours
    # Accessible tables: a caption and header cells with a scope.
    assert "<caption" in page and 'scope="col"' in page and 'scope="row"' in page


def test_the_in_force_filter_hides_other_years(client, login, pack):
    login("finance")
    every = _text(client.get("/rules/?show=all"))
    assert "CA_EARN_2024" in every and "£151.00" in every
    resp = client.get("/rules/?on=2025-04-07")
    assert resp.status_code == 200
    page = _text(resp)
    assert "in force on 7 April 2025" in page
    assert "CA_EARN_2025" in page and "£196.00" in page
    for code in ("CA_EARN_2024", "CSP_EARN_2024", "UC_WA_HOUSING_2024", "ESA_PW_HIGHER_2024", "CA_EARN_2026"):
        assert code not in page, code
    assert "£151.00" not in page


def test_the_list_shows_the_rules_in_force_today_by_default(client, login, pack, monkeypatch):
    from tracker.rules import views

    login("coordinator")
    monkeypatch.setattr(views, "today", lambda: date(2025, 6, 1))
    page = _text(client.get("/rules/"))
    assert "in force today" in page
    ca = page.split(">Carer&#39;s Allowance</h2>")[1].split("</table>")[0]
    assert "CA_EARN_2025" in ca and "In force today" in ca
    for code in ("CA_EARN_2024", "CA_EARN_2026"):
        assert code not in page, code
    assert "In use" not in page and "Retired rules" not in page
    assert 'href="/rules/?show=all"' in page and "Show every version" in page
    # The count is of the rules in force that day, not of every version.
    with client.application.app_context():
        in_force = len(service.rules_in_force(date(2025, 6, 1)))
        every = len(service.rules_in_force(None))
    assert in_force < every
    assert f"{in_force} rules are in force today" in page


def test_every_version_says_where_each_stands_today(client, login, pack, monkeypatch):
    from tracker.rules import views

    login("finance")
    monkeypatch.setattr(views, "today", lambda: date(2025, 6, 1))
    page = _text(client.get("/rules/?show=all"))
    assert "Show every version" not in page and 'href="/rules/"' in page

    def status(code: str) -> str:
        return page.split(f"({code})")[1].split("</tr>")[0]

    assert "Ended on 6 April 2025" in status("CA_EARN_2024")
    assert "In force today" in status("CA_EARN_2025")
    assert "Starts on 6 April 2026" in status("CA_EARN_2026")
    assert "In use" not in page
    # A day given in the filter wins over "every version".
    assert "CA_EARN_2024" not in _text(client.get("/rules/?show=all&on=2025-06-01"))


def test_a_rules_page_lists_its_familys_history(client, login, pack, monkeypatch):
    from tracker.rules import views

    login("coordinator")
    monkeypatch.setattr(views, "today", lambda: date(2025, 6, 1))
    page = _text(client.get("/rules/CA_EARN_2025"))
    history = page.split(">Every version of this rule</h2>")[1].split("</table>")[0]
    rows = history.split("<tbody>")[1].split("</tr>")[:3]
    assert 'href="/rules/CA_EARN_2024"' in rows[0] and "£151.00" in rows[0] and "Ended on 6 April 2025" in rows[0]
    assert "CA_EARN_2025 (this version)" in rows[1] and "£196.00" in rows[1] and "In force today" in rows[1]
    assert 'href="/rules/CA_EARN_2025"' not in history
    assert 'href="/rules/CA_EARN_2026"' in rows[2] and "£204.00" in rows[2] and "Starts on 6 April 2026" in rows[2]
    assert "8 April 2024" in rows[0] and "No end date" in rows[2]


def test_a_date_that_does_not_exist_is_an_error_not_a_crash(client, login, pack):
    login("admin")
    resp = client.get("/rules/?on=2025-02-30")
    assert resp.status_code == 422
    page = _text(resp)
    assert "There is a problem" in page and 'href="#on-day"' in page and "must be a real date" in page


# ---- one rule --------------------------------------------------------------------------------


def test_the_rule_page_shows_every_field_sources_and_history(client, login, pack):
    login("finance")
    page = _text(client.get("/rules/CA_EARN_2025"))
    for words in (
        "Carer&#39;s Allowance earnings limit",
        "£196.00",
        "Each week, starting on Monday",
        "When the total is more than the limit",
        "90% of the limit (£176.40)",
        "Blocks a payment",
        "Cash, Bank transfer, Vouchers, Paid to a charity the person chose",
        "The date the money is due",
        "Counts evenly by day across the days it covers",
        "7 April 2025",
        "5 April 2026",
        "Confirmed from legislation",
        "Carers UK press release",
        "Loaded from a rule pack",
        "First version",
        "Revisions of CA_EARN_2025",
    ):
        assert words in page, words
    assert '<a href="https://carersuk.org/press-releases/' in page
    # the other versions of the family
    assert 'href="/rules/CA_EARN_2024"' in page and 'href="/rules/CA_EARN_2026"' in page


def test_an_unconfirmed_rule_says_so_and_offers_confirmation_to_admins(client, login, pack):
    login("admin")
    page = _text(client.get("/rules/UC_SURPLUS_2026"))
    assert "Figure not verified" in page
    assert "How did you check the figure?" in page and "Address of the official page you checked" in page
    # A confirmed rule is not offered confirmation; a secondary or derived one is (issue 11 item 1).
    assert "How did you check the figure?" not in _text(client.get("/rules/CA_EARN_2025"))
    assert "How did you check the figure?" in _text(client.get("/rules/CA_EARN_2026"))
    assert "How did you check the figure?" in _text(client.get("/rules/ESA_PW_HIGHER_2026"))


# ---- editing ---------------------------------------------------------------------------------


def test_the_edit_form_is_filled_in(client, login, pack):
    login("admin")
    page = _text(client.get("/rules/CA_EARN_2025/edit"))
    assert 'value="196.00"' in page
    assert 'name="warn_at"' in page and 'value="90"' in page
    for name, (day, month, year) in (("effective_from", (7, 4, 2025)), ("effective_to", (5, 4, 2026))):
        for part, value in (("day", day), ("month", month), ("year", year)):
            assert f'name="{name}-{part}" type="text" inputmode="numeric" autocomplete="off" value="{value}"' in page
    assert re.search(r'<input[^>]*checked[^>]*value="cash"|<input[^>]*value="cash"[^>]*checked', page)
    assert not re.search(r'<input[^>]*value="training"[^>]*checked', page)
    assert "Reason for the change" in page


def test_editing_the_limit_makes_a_new_revision_that_the_engine_uses(app, client, login, pack):
    uid = login("admin")
    resp = client.post(
        "/rules/CA_EARN_2025/edit",
        data=_form(app, "CA_EARN_2025", limit="200.50", reason="New figure announced by DWP"),
    )
    assert resp.status_code == 302, _text(resp)[:3000]
    assert resp.headers["Location"].endswith("/rules/CA_EARN_2025")

    row = _current(app, "CA_EARN_2025")
    assert row.revision == 2 and row.change == "edited" and row.reason == "New figure announced by DWP"
    assert row.created_by_id == uid
    assert row.definition["limit"] == "200.50"
    assert _revisions(app, "CA_EARN_2025") == 2

    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "rule.edited"))
        assert event is not None and event.actor_id == uid
        assert event.before["limit"] == "196.00" and event.after["limit"] == "200.50"
        # Only the limit changed: every other field round-trips through the form unchanged.
        assert {k for k in event.after if event.after[k] != event.before[k]} == {"limit"}

    rule = _in_force(app, APRIL_7)["CA_EARN_2025"]
    assert rule.limit == Decimal("200.50")

    page = _text(client.get("/rules/CA_EARN_2025"))
    assert "has been changed (revision 2)" in page
    assert "£200.50" in page
    history = page.split("Revisions of CA_EARN_2025")[1]
    assert "Edited" in history and "Loaded from a rule pack" in history
    assert "New figure announced by DWP" in history
    assert "196.00" in history and "200.50" in history and "First version" in history
    assert "£200.50" in _text(client.get("/rules/?on=2025-04-07"))


def test_editing_warn_at_and_what_counts(app, client, login, pack):
    login("admin")
    data = _form(app, "CA_EARN_2025", warn_at="75", reason="Warn earlier")
    data["counts_kinds"] = ["cash", "bank_transfer", "charity"]  # vouchers no longer count
    data["counts_expenses"] = "never"
    resp = client.post("/rules/CA_EARN_2025/edit", data=data)
    assert resp.status_code == 302, _text(resp)[:3000]
    rule = _in_force(app, APRIL_7)["CA_EARN_2025"]
    assert rule.warn_at == Decimal("0.75")
    assert rule.counts.kinds == frozenset({"cash", "bank_transfer", "charity"})
    assert rule.counts.expenses == "never"
    page = _text(client.get("/rules/CA_EARN_2025"))
    assert "90%" in page and "75%" in page


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"reason": ""}, "reason", "Say why the rule is changing"),
        ({"limit": "196.001"}, "limit", "at most 2 decimal places"),
        ({"limit": "abc"}, "limit", "Enter the limit as a number"),
        ({"limit": "-5"}, "limit", "cannot be negative"),
        ({"limit": "NaN"}, "limit", "Enter the limit as a number"),
        ({"limit": "1e999999"}, "limit", "less than 1,000,000"),
        ({"limit": ""}, "limit", "needs a limit"),
        ({"warn_at": "0"}, "warn_at", "from 1 to 100"),
        ({"warn_at": "150"}, "warn_at", "from 1 to 100"),
        ({"warn_at": "ninety"}, "warn_at", "number from 1 to 100"),
        ({"effective_to": "2025-01-01"}, "effective_to", "must be on or after the date in “In force from”"),
        ({"effective_from": "2025-02-30"}, "effective_from", "must be a real date"),
        ({"effective_from": ""}, "effective_from", "Enter the date the rule starts"),
        ({"title": ""}, "title", "Enter a title."),
        ({"source": ""}, "source", "Enter the address of the official source."),
        ({"source": "carersuk.org"}, "source", "starting with http:// or https://"),
        ({"severity": "explode"}, "severity", "Unknown value"),
        ({"counts_kinds": "lottery"}, "counts_kinds", "Unknown payment kind"),
    ],
)
def test_invalid_edits_are_shown_on_the_field_and_write_nothing(app, client, login, pack, changes, field, message):
    login("admin")
    before = _revisions(app)
    data = _form(app, "CA_EARN_2025", limit="210.00", reason="A reason")
    data.update(changes)
    resp = client.post("/rules/CA_EARN_2025/edit", data=data)
    assert resp.status_code == 422
    page = _text(resp)
    assert "There is a problem" in page and message in page
    anchor = f"{field}-0" if field == "counts_kinds" else f"{field}-day" if field.startswith("effective") else field
    assert f'href="#{anchor}"' in page  # the error summary links to the field
    assert f'id="{field}-error"' in page  # and the message sits on the field
    assert _revisions(app) == before
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "rule.edited")) == 0


def test_every_problem_is_listed_at_once(app, client, login, pack):
    login("admin")
    resp = client.post(
        "/rules/CA_EARN_2025/edit", data=_form(app, "CA_EARN_2025", limit="abc", effective_to="2024-01-01", reason="")
    )
    assert resp.status_code == 422
    page = _text(resp)
    for message in ("Enter the limit as a number", "must be on or after the date in", "Say why the rule"):
        assert message in page


def test_an_unconfirmed_figure_cannot_block(app, client, login, pack):
    login("admin")
    resp = client.post(
        "/rules/ESA_PW_HIGHER_2026/edit",
        data=_form(app, "ESA_PW_HIGHER_2026", confidence="unconfirmed", severity="block", reason="Not checked yet"),
    )
    assert resp.status_code == 422
    page = _text(resp)
    assert "An unconfirmed figure cannot block a payment" in page
    assert 'id="severity-error"' in page
    assert _revisions(app, "ESA_PW_HIGHER_2026") == 1


def test_an_information_rule_cannot_block(app, client, login, pack):
    login("admin")
    resp = client.post("/rules/PIP_INFO/edit", data=_form(app, "PIP_INFO", severity="block", reason="x"))
    assert resp.status_code == 422
    assert "never blocks a payment" in _text(resp)


def test_saving_without_a_change_says_so(app, client, login, pack):
    login("admin")
    resp = client.post("/rules/CA_EARN_2025/edit", data=_form(app, "CA_EARN_2025", reason="Just looking"))
    assert resp.status_code == 422
    assert "Nothing was changed." in _text(resp)
    assert _revisions(app, "CA_EARN_2025") == 1


def test_an_edit_may_not_overlap_another_version(app, client, login, pack):
    login("admin")
    resp = client.post(
        "/rules/CA_EARN_2024/edit", data=_form(app, "CA_EARN_2024", effective_to="2025-04-10", reason="Typo")
    )
    assert resp.status_code == 422
    page = _text(resp)
    assert "CA_EARN_2024 and CA_EARN_2025 would both be in force on 2025-04-07" in page
    assert 'id="effective_to-error"' in page
    assert _revisions(app, "CA_EARN_2024") == 1


def test_an_edit_made_meanwhile_by_someone_else_is_not_overwritten_silently(app, client, login, pack):
    login("admin")
    stale = _form(app, "CA_EARN_2025", limit="201.00", reason="Mine")
    with app.app_context():
        service.edit("CA_EARN_2025", {"limit": "199.00"}, actor=None, reason="Theirs")
        db.session.commit()
    resp = client.post("/rules/CA_EARN_2025/edit", data=stale)
    assert resp.status_code == 409
    assert "Someone else changed this rule" in _text(resp)
    assert _current(app, "CA_EARN_2025").definition["limit"] == "199.00"
    # Saving again (the form now carries the new revision) goes through.
    again = dict(stale, revision="2")
    assert client.post("/rules/CA_EARN_2025/edit", data=again).status_code == 302
    assert _current(app, "CA_EARN_2025").definition["limit"] == "201.00"


def test_an_information_rule_may_have_no_limit(app, client, login, pack):
    login("admin")
    resp = client.post(
        "/rules/UC_SURPLUS_2026/edit", data=_form(app, "UC_SURPLUS_2026", limit="300", reason="Permanent figure")
    )
    assert resp.status_code == 302, _text(resp)[:3000]
    assert _current(app, "UC_SURPLUS_2026").definition["limit"] == "300.00"


def test_an_empty_post_is_an_error_not_a_crash(app, client, login, pack):
    login("admin")
    assert client.post("/rules/CA_EARN_2025/edit", data={}).status_code == 422
    assert client.post("/rules/UC_SURPLUS_2026/confirm", data={}).status_code == 422
    assert client.post("/rules/CA_EARN_2025/retire", data={}).status_code == 422
    assert client.post("/rules/load", data={}).status_code == 422


# ---- confirming and retiring -----------------------------------------------------------------


SOURCE = "https://www.gov.uk/government/publications/universal-credit-surplus-earnings-determination-2026"


def test_confirming_an_unconfirmed_rule(app, client, login, pack):
    uid = login("admin")
    assert _current(app, "UC_SURPLUS_2026").definition["confidence"] == "unconfirmed"

    resp = client.post("/rules/UC_SURPLUS_2026/confirm", data={"confirm-reason": "  ", "confirm-source": SOURCE})
    assert resp.status_code == 422
    page = _text(resp)
    assert "Say how you checked the figure" in page and 'href="#confirm-reason"' in page
    resp = client.post("/rules/UC_SURPLUS_2026/confirm", data={"confirm-reason": "checked"})
    assert resp.status_code == 422
    assert "Give the address of the official page" in _text(resp) and 'href="#confirm-source"' in _text(resp)
    assert _revisions(app, "UC_SURPLUS_2026") == 1
    resp = client.post(
        "/rules/UC_SURPLUS_2026/confirm", data={"confirm-reason": "checked", "confirm-source": "not an address"}
    )
    assert resp.status_code == 422 and "Give the address of the official page" in _text(resp)
    assert _revisions(app, "UC_SURPLUS_2026") == 1

    resp = client.post(
        "/rules/UC_SURPLUS_2026/confirm",
        data={"confirm-reason": "gov.uk determination, checked 1 May 2026", "confirm-source": SOURCE},
    )
    assert resp.status_code == 302
    row = _current(app, "UC_SURPLUS_2026")
    assert row.definition["confidence"] == "confirmed" and row.change == "confirmed" and row.revision == 2
    assert row.definition["source"] == SOURCE and row.definition["sources"][0]["url"] == SOURCE
    assert _in_force(app, date(2026, 5, 1))["UC_SURPLUS_2026"].confidence == "confirmed"
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "rule.confirmed"))
        assert event.actor_id == uid and event.reason == "gov.uk determination, checked 1 May 2026"

    page = _text(client.get("/rules/UC_SURPLUS_2026"))
    assert "How did you check the figure?" not in page
    assert "Figure confirmed" in page
    # Confirming again changes nothing.
    resp = client.post("/rules/UC_SURPLUS_2026/confirm", data={"confirm-reason": "again"}, follow_redirects=True)
    assert resp.status_code == 200 and "already confirmed" in _text(resp)
    assert _revisions(app, "UC_SURPLUS_2026") == 2


def test_retiring_a_rule_stops_checks_against_it(app, client, login, pack):
    login("admin")
    assert "CA_EARN_2025" in _in_force(app, APRIL_7)
    page = _text(client.get("/rules/CA_EARN_2025"))
    assert "payments will no longer be checked against it" in page

    resp = client.post("/rules/CA_EARN_2025/retire", data={"retire-reason": ""})
    assert resp.status_code == 422 and "Say why the rule is being retired" in _text(resp)
    assert "CA_EARN_2025" in _in_force(app, APRIL_7)

    resp = client.post("/rules/CA_EARN_2025/retire", data={"retire-reason": "Replaced by a new rule"})
    assert resp.status_code == 302
    assert "CA_EARN_2025" not in _in_force(app, APRIL_7)
    row = _current(app, "CA_EARN_2025")
    assert row.status == "retired" and row.revision == 2
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "rule.retired")) == 1
        )

    page = _text(client.get("/rules/CA_EARN_2025"))
    assert "This rule is retired" in page and "Retire this rule" not in page
    listing = _text(client.get("/rules/?show=all"))
    assert "CA_EARN_2025" in listing.split(">Retired rules</h2>")[1]
    assert "CA_EARN_2025" not in _text(client.get("/rules/?on=2025-04-07"))
    # A retired rule cannot be edited, confirmed or retired again, and none of these is a crash.
    assert client.get("/rules/CA_EARN_2025/edit").status_code == 302
    assert client.post("/rules/CA_EARN_2025/edit", data=_form(app, "CA_EARN_2025", reason="x")).status_code == 302
    assert client.post("/rules/CA_EARN_2025/retire", data={"retire-reason": "again"}).status_code == 302
    assert _revisions(app, "CA_EARN_2025") == 2


def test_a_retired_unconfirmed_rule_is_not_brought_back_by_confirming(app, client, login, pack):
    login("admin")
    assert client.post("/rules/UC_SURPLUS_2026/retire", data={"retire-reason": "Gone"}).status_code == 302
    assert client.post("/rules/UC_SURPLUS_2026/confirm", data={"confirm-reason": "x"}).status_code == 302
    assert _current(app, "UC_SURPLUS_2026").status == "retired"
    assert "UC_SURPLUS_2026" not in _in_force(app, date(2026, 5, 1))


# ---- loading a rule pack ---------------------------------------------------------------------

NEW_RULE = """
  - code: TEST_NEW_2030
    family: TEST_NEW
    benefit: CA
    title: A test limit
    measure: earnings
    kind: cliff
    limit: "{limit}"
    period: week
    effective_from: 2030-04-01
    confidence: unconfirmed
    source: https://example.org/rules
"""


def _upload(client, text: str | bytes, name: str = "pack.yaml"):
    raw = text.encode() if isinstance(text, str) else text
    return client.post("/rules/load", data={"file": (io.BytesIO(raw), name)}, content_type="multipart/form-data")


def test_loading_a_pack_with_an_error_loads_nothing(app, client, login, pack):
    login("admin")
    before = _revisions(app)
    text = (
        "rules:\n"
        + NEW_RULE.format(limit="100.00")
        + NEW_RULE.replace("TEST_NEW_2030", "TEST_BAD_2030").replace("TEST_NEW", "TEST_BAD").format(limit="196.001")
    )
    resp = _upload(client, text)
    assert resp.status_code == 422
    page = _text(resp)
    assert "Nothing was loaded" in page
    assert "Rule 2 (TEST_BAD_2030)" in page and "Use at most 2 decimal places." in page
    assert "Limit (limit)" in page
    assert _revisions(app) == before
    assert _revisions(app, "TEST_NEW_2030") == 0


@pytest.mark.parametrize(
    "text, message",
    [
        ("- {code: X, effective_from: 2025-02-30}", "could not be read"),
        ("[" * 3000 + "]" * 3000, "could not be read"),
        ("- {code: X, limit: 100000000000000000000000000000000000000000}", "could not be read"),
        ("just some text", "A rule pack is a list of rules"),
        ("rules: [\n", "Not valid YAML"),
        ("- !!python/object:os.system {}", "Not valid YAML"),
        ("/etc/hostname", "A rule pack is a list of rules"),
        ("", "A rule pack is a list of rules"),
    ],
)
def test_a_malformed_pack_is_an_error_not_a_crash(app, client, login, pack, text, message):
    login("admin")
    before = _revisions(app)
    resp = _upload(client, text)
    assert resp.status_code == 422
    assert message in _text(resp)
    assert _revisions(app) == before


def test_only_yaml_text_files_are_accepted(app, client, login, pack):
    login("admin")
    resp = _upload(client, NEW_RULE.format(limit="1.00"), name="pack.txt")
    assert resp.status_code == 422 and ".yaml or .yml" in _text(resp)
    resp = _upload(client, b"\xff\xfe\x00bad", name="pack.yml")
    assert resp.status_code == 422 and "UTF-8" in _text(resp)
    resp = client.post("/rules/load", data={}, content_type="multipart/form-data")
    assert resp.status_code == 422 and "Choose a rule pack file" in _text(resp)
    assert _revisions(app, "TEST_NEW_2030") == 0


def test_loading_a_good_pack_shows_the_counts(app, client, login, pack):
    import yaml

    login("admin")
    with app.app_context():
        existing = service.current("CA_EARN_2025").definition
        changed = dict(service.current("CA_EARN_2026").definition, notes="Checked against gov.uk")
    new = yaml.safe_load(NEW_RULE.format(limit="100.00"))[0]
    resp = _upload(client, yaml.safe_dump({"pack": {"name": "test"}, "rules": [new, existing, changed]}))
    assert resp.status_code == 302, _text(resp)[:3000]
    page = _text(client.get(resp.headers["Location"]))
    assert "1 added, 1 updated, 1 unchanged" in page
    assert _revisions(app, "TEST_NEW_2030") == 1
    assert _revisions(app, "CA_EARN_2026") == 2
    assert _revisions(app, "CA_EARN_2025") == 1
    assert "TEST_NEW_2030" in _text(client.get("/rules/?show=all"))
    with app.app_context():
        assert db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "rule.loaded")
        ) == _revisions(app)


ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join(['*' + chr(97 + n)] * 10)}]\n" for n in range(9)
)


@pytest.mark.parametrize(
    "text",
    [
        ALIAS_BOMB,
        "x: &shared {kinds: [cash]}\nrules: []\n",
        "rules:\n  - <<: {code: X}\n",
        "rules: []\n# " + "x" * (1024 * 1024) + "\n",
    ],
)
def test_a_pack_with_anchors_aliases_merge_keys_or_over_a_megabyte_is_refused(app, client, login, pack, text):
    """A billion-laughs pack is refused by scanning, quickly, without being expanded."""
    import time

    login("admin")
    before = _revisions(app)
    started = time.monotonic()
    resp = _upload(client, text)
    assert time.monotonic() - started < 2
    assert resp.status_code == 422
    page = _text(resp)
    assert "anchors, aliases" in page or "at most 1024 KB" in page
    assert len(resp.data) < 200_000
    assert _revisions(app) == before


def test_the_command_line_refuses_a_pack_with_aliases(app, pack, tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(ALIAS_BOMB)
    result = app.test_cli_runner().invoke(args=["rules", "load", str(bomb)])
    assert result.exit_code != 0
    assert "anchors, aliases" in result.output


def test_a_secondary_figure_is_confirmed_with_its_source_on_the_page_and_the_command_line(app, client, login, pack):
    """Issue 11 item 1: any figure not yet confirmed can be confirmed, with an address and a reason."""
    login("admin")
    resp = client.post(
        "/rules/CA_EARN_2026/confirm",
        data={"confirm-reason": "Earnings rules table, checked 7 December 2026", "confirm-source": RATES},
    )
    assert resp.status_code == 302
    row = _current(app, "CA_EARN_2026")
    assert (row.definition["confidence"], row.definition["source"], row.change) == ("confirmed", RATES, "confirmed")

    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["rules", "confirm", "ESA_PW_HIGHER_2026", "--source", ESA_2013, "--reason", "reg 39(1)(c) and (4)"]
    )
    assert result.exit_code == 0, result.output
    row = _current(app, "ESA_PW_HIGHER_2026")
    assert (row.definition["confidence"], row.definition["source"]) == ("confirmed", ESA_2013)
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "rule.confirmed").order_by(AuditEvent.id.desc())
        )
        assert event.reason == "reg 39(1)(c) and (4)" and event.after["source"] == ESA_2013
        assert event.before["confidence"] == "derived"
    again = runner.invoke(args=["rules", "confirm", "ESA_PW_HIGHER_2026", "--source", ESA_2013, "--reason", "x"])
    assert again.exit_code == 1 and "already confirmed" in again.output
    bad = runner.invoke(args=["rules", "confirm", "CSP_EARN_2026", "--source", "mygov.scot", "--reason", "x"])
    assert bad.exit_code == 2 and "source:" in bad.output
    assert _current(app, "CSP_EARN_2026").definition["confidence"] == "secondary"


RATES = "https://www.gov.uk/government/publications/benefit-and-pension-rates-2026-to-2027/proposed-benefit-and-pension-rates-2026-to-2027"
ESA_2013 = "https://www.legislation.gov.uk/uksi/2013/379/regulation/39"


def test_admins_see_a_banner_from_1_march_until_next_years_figures_are_loaded(app, client, login, pack, monkeypatch):
    from tracker.rules import views

    login("admin")
    monkeypatch.setattr(views, "today", lambda: date(2027, 2, 28))
    assert "Benefit figures for the new tax year are not loaded" not in _text(client.get("/rules/"))
    monkeypatch.setattr(views, "today", lambda: date(2027, 3, 1))
    page = _text(client.get("/rules/"))
    assert "Benefit figures for the new tax year are not loaded" in page and "CA_EARN_2026" in page
    assert "1 April 2027" in page
    login("coordinator")
    assert "Benefit figures for the new tax year are not loaded" not in _text(client.get("/rules/"))
