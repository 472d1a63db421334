"""Check before you act: cancelling and reversing go through a confirm page that says what will
happen, the buttons that undo things are secondary and apart from Approve and Pay, and approving
shows the benefit check run again today, above the Approve button."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from tests.builders import payment, saved
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.payments.models import Payment


def _payments(app) -> list[tuple[str, int | None]]:
    with app.app_context():
        return [(p.status, p.reversal_of_id) for p in db.session.scalars(sa.select(Payment).order_by(Payment.id))]


def _benefit_views(app) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "benefits.viewed")
        )


def _forms_posting_to(page: str, url: str) -> int:
    return len(re.findall(rf'<form[^>]*action="{re.escape(url)}"', page))


@pytest.mark.parametrize("role", ["admin", "finance"])
def test_reversing_asks_first_and_says_what_will_happen(app, client, login, carer, role):
    pid = saved(app, payment, carer, status="paid")
    login(role)
    page = client.get(f"/payments/{pid}").get_data(as_text=True)
    url = f"/payments/{pid}/reverse"
    # The payment page links to the confirm page, in its own section, as a secondary button: one
    # click on the payment page never reverses anything.
    assert _forms_posting_to(page, url) == 0
    assert f'<a class="button secondary" href="{url}">Reverse the payment</a>' in page
    assert page.index('id="other-actions-heading"') < page.index(url)
    resp = client.get(url)
    confirm = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Reverse the payment of £50.00 to Carer Person?" in confirm
    assert "A reversal of −£50.00 will be recorded as a draft; it counts once someone else in finance approves it" in (
        confirm
    )
    assert _forms_posting_to(confirm, url) == 1 and 'name="reverse-reason"' in confirm
    assert 'class="button warning">Yes, reverse the payment</button>' in confirm
    assert f'href="/payments/{pid}">No, go back to the payment</a>' in confirm
    assert _payments(app) == [("paid", None)]  # looking writes nothing
    # No reason: the confirm page again, with the error, and nothing written.
    resp = client.post(url, data={"reverse-reason": "  "})
    again = resp.get_data(as_text=True)
    assert resp.status_code == 422 and 'href="#reverse-reason"' in again and "Say why" in again
    assert "A reversal of −£50.00 will be recorded as a draft" in again
    assert _payments(app) == [("paid", None)]
    resp = client.post(url, data={"reverse-reason": "paid to the wrong person"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/payments/{pid}")
    assert _payments(app) == [("paid", None), ("draft", pid)]
    # Reversed already: the confirm page is not offered again.
    resp = client.get(url)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/payments/{pid}")
    assert "already been reversed" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_cancelling_asks_first_and_sits_apart_from_approve(app, client, login, carer):
    pid = saved(app, payment, carer, status="draft")
    login("finance")
    page = client.get(f"/payments/{pid}").get_data(as_text=True)
    url = f"/payments/{pid}/cancel"
    assert _forms_posting_to(page, url) == 0
    approve = page.index(f'action="/payments/{pid}/approve"')
    assert approve < page.index('id="other-actions-heading"') < page.index(f'class="button secondary" href="{url}"')
    assert 'class="button warning"' not in page
    confirm = client.get(url).get_data(as_text=True)
    assert "Cancel the payment of £50.00 to Carer Person?" in confirm
    assert "it will not be paid, and it will no longer count in Carer Person’s benefit checks" in confirm
    assert "Yes, cancel the payment" in confirm and "No, go back to the payment" in confirm
    resp = client.post(url, data={"cancel-reason": ""})
    assert resp.status_code == 422 and "Cancel the payment of £50.00" in resp.get_data(as_text=True)
    assert _payments(app) == [("draft", None)]
    resp = client.post(url, data={"cancel-reason": "recorded twice"}, follow_redirects=True)
    assert "has been cancelled" in resp.get_data(as_text=True)
    assert _payments(app) == [("cancelled", None)]
    # Cancelled: there is nothing left to confirm.
    resp = client.get(url)
    assert resp.status_code == 302 and "cannot be cancelled" in client.get(resp.headers["Location"]).get_data(
        as_text=True
    )


def test_the_confirm_pages_are_for_finance_only(app, client, login, carer, make_person):
    pid = saved(app, payment, carer, status="paid")
    for role, person_id in (("coordinator", None), ("contributor", carer)):
        login(role, person_id=person_id)
        for move in ("cancel", "reverse"):
            assert client.get(f"/payments/{pid}/{move}").status_code == 403, (role, move)
    login("finance")
    for move in ("cancel", "reverse"):
        assert client.get(f"/payments/999999/{move}").status_code == 404
    # A move the payment's state does not allow is a message on the payment page, not a form.
    resp = client.get(f"/payments/{pid}/cancel")
    assert resp.status_code == 302
    assert "To correct it, reverse it instead" in client.get(resp.headers["Location"]).get_data(as_text=True)


def test_an_override_says_it_sends_the_payment_back_to_draft(app, client, login, carer):
    pid = saved(app, payment, carer, "150.00", status="approved")
    saved(app, payment, carer, "100.00", date(2025, 4, 16), status="paid")
    login("finance")
    resp = client.post(f"/payments/{pid}/pay", data={"pay-paid_on": "2025-04-16", "pay-method": "cash"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 409
    effect = page.index("it goes back to draft, and someone other than you in finance must approve it again")
    assert effect < page.index('<button type="submit" class="button">Mark as paid</button>')
    assert _payments(app)[0] == ("approved", None)


def _record(client, carer, amount: str) -> int:
    data = {"kind": "cash", "amount": amount, "paid_on": "2025-04-09", "action": "record"}
    resp = client.post(f"/payments/new?person_id={carer}", data=data)
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    return int(resp.headers["Location"].rsplit("/", 1)[1])


@pytest.mark.parametrize("role", ["admin", "finance"])
def test_approving_shows_todays_check_above_the_button(app, client, login, carer, role):
    login("finance")
    pid = _record(client, carer, "150.00")  # within £196 a week when recorded
    saved(app, payment, carer, "100.00", date(2025, 4, 10), status="paid")  # since then: over, that week
    login(role)
    views = _benefit_views(app)
    page = client.get(f"/payments/{pid}").get_data(as_text=True)
    today = page.index('id="today-check-heading"')
    button = page.index(">Approve the payment</button>")
    recorded = page.index('id="snapshot-heading"')
    assert today < page.index("Today this payment would break a benefit rule") < button
    assert today < page.index("Over the limit", today) < button
    assert "Over the limit" not in page[recorded:] and "Within the limit" in page[recorded:]
    named = "Carer&#39;s Allowance" in page[today:button]
    assert named == (role == "admin")  # finance sees the check without the benefit's name
    assert _benefit_views(app) == views + (1 if role == "admin" else 0)
    # Approving still works from there.
    resp = client.post(f"/payments/{pid}/approve", follow_redirects=True)
    assert "has been approved" in resp.get_data(as_text=True)


def test_no_check_is_run_again_when_there_is_nothing_to_approve(app, client, login, carer):
    pid = saved(app, payment, carer, status="approved")
    login("finance")
    assert 'id="today-check-heading"' not in client.get(f"/payments/{pid}").get_data(as_text=True)
    draft = saved(app, payment, carer, status="draft")
    login("coordinator")
    assert 'id="today-check-heading"' not in client.get(f"/payments/{draft}").get_data(as_text=True)
