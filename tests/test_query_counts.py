"""Query-count guards: a request sends the same number of SQL statements however much data there is.

An N+1 (one more query per row, per payment or per person) makes the count grow with the data, so
each test runs the same request against a small and a larger data set and asserts the counts are
equal. Statements are counted with a SQLAlchemy ``before_cursor_execute`` listener on the app's
engine, around one test-client request (reference: reliability-performance.md §3.3, "Query-count
guards").
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from tests.builders import activity, assert_same, contribution, counting, payment
from tracker.extensions import db


def add_payments(
    app,
    person_id: int,
    n: int,
    *,
    first: date,
    step_days: int = 3,
    with_contribution: bool = False,
    amount: str = "5.00",
) -> None:
    """``n`` paid cash payments for one person, on ``first`` and every ``step_days`` days before it."""
    from tracker.contributions.models import Activity

    with app.app_context():
        panel = None
        if with_contribution:
            panel = db.session.scalar(sa.select(Activity).limit(1)) or activity("Panel", default_rate="25.00")
        for i in range(n):
            day = first - timedelta(days=i * step_days)
            work = []
            if with_contribution:
                work = [contribution(person_id, day, "2.00", activity=panel, value_owed=amount)]
            payment(person_id, amount, day, worked_on=day, method="cash", contributions=work)
        db.session.commit()


# ---- GET /api/v1/payments ------------------------------------------------------------------------


def test_payments_list_query_count_does_not_grow_with_rows(app, api_as, make_person):
    api = api_as("finance")
    today = date.today()
    people = [make_person(f"List Person {i}") for i in range(60)]
    for pid in people[:5]:
        add_payments(app, pid, 1, first=today - timedelta(days=2), with_contribution=True)

    assert api.get("/payments?per_page=50").status_code == 200  # warm-up (caches, first connection)
    with counting(app) as small:
        resp = api.get("/payments?per_page=50")
    assert resp.status_code == 200 and len(resp.get_json()["items"]) == 5 and resp.get_json()["next"] is None

    for pid in people[5:]:
        add_payments(app, pid, 1, first=today - timedelta(days=2), with_contribution=True)
    with counting(app) as large:
        resp = api.get("/payments?per_page=50")
    body = resp.get_json()
    assert resp.status_code == 200 and len(body["items"]) == 50 and body["next"] and "total" not in body
    assert len({item["person_id"] for item in body["items"]}) == 50  # fifty different people on the page
    assert all(item["contribution_ids"] for item in body["items"])
    assert_same(small, large, "GET /api/v1/payments?per_page=50 (5 vs 60 payments)")
    with counting(app) as after:
        resp = api.get(body["next"].removeprefix("/api/v1"))
    assert resp.status_code == 200 and len(resp.get_json()["items"]) == 10 and resp.get_json()["next"] is None
    assert_same(small, after, "GET /api/v1/payments?cursor=... (the next page by its cursor)")


# ---- POST /api/v1/payments -----------------------------------------------------------------------


def _post_payment(api, person_id: int, key: str):
    return api.post(
        "/payments",
        json={"person_id": person_id, "kind": "cash", "amount": "10.00", "paid_on": date.today().isoformat()},
        headers={"Idempotency-Key": key},
    )


def test_record_payment_query_count_does_not_grow_with_history(app, api_as, make_person, rules):
    api = api_as("admin")  # finance sees no rule codes (DESIGN.md)
    claims = [{"benefit": "CA", "start_on": date(2020, 1, 6)}]
    prefs = [{"kind": "cash"}, {"kind": "voucher"}]
    warm = make_person("Warm Up", preferences=prefs, claims=claims)
    few = make_person("Few Payments", preferences=prefs, claims=claims)
    many = make_person("Many Payments", preferences=prefs, claims=claims)
    # History before this week (so the weekly totals, and the verdicts, are the same for both):
    # 5 or 100 small payments, every three days back from eight days ago.
    start = date.today() - timedelta(days=8)
    add_payments(app, warm, 5, first=start)
    add_payments(app, few, 5, first=start)
    add_payments(app, many, 100, first=start)

    assert _post_payment(api, warm, "warm-up").status_code == 201
    with counting(app) as small:
        resp_small = _post_payment(api, few, "few")
    with counting(app) as large:
        resp_large = _post_payment(api, many, "many")
    assert resp_small.status_code == 201, resp_small.get_json()
    assert resp_large.status_code == 201, resp_large.get_json()
    statuses = lambda r: sorted((v["rule"], v["status"]) for v in r.get_json()["check"]["verdicts"])  # noqa: E731
    assert statuses(resp_small) == statuses(resp_large)  # same verdicts: only the history differs
    assert_same(small, large, "POST /api/v1/payments (5 vs 100 prior payments)")


# ---- GET /api/v1/people/ID/position --------------------------------------------------------------


def test_position_query_count_does_not_grow_with_history(app, api_as, make_person, rules):
    api = api_as("coordinator")
    claims = [
        {
            "benefit": "UC",
            "start_on": date(2020, 1, 15),
            "attributes": {"ap_start_day": 15, "work_allowance": False, "lcw_pending": False, "joint_claim": False},
        },
        {"benefit": "CA", "start_on": date(2020, 1, 6)},
    ]
    warm = make_person("Warm Up", claims=claims)
    few = make_person("Few Payments", claims=claims)
    many = make_person("Many Payments", claims=claims)
    start = date.today() - timedelta(days=1)
    add_payments(app, few, 5, first=start, with_contribution=True)
    add_payments(app, many, 100, first=start, with_contribution=True)

    assert api.get(f"/people/{warm}/position").status_code == 200
    with counting(app) as small:
        resp_small = api.get(f"/people/{few}/position")
    with counting(app) as large:
        resp_large = api.get(f"/people/{many}/position")
    assert resp_small.status_code == 200 and resp_large.status_code == 200
    rules_of = lambda r: [v["rule"] for v in r.get_json()["verdicts"]]  # noqa: E731
    assert rules_of(resp_small) == rules_of(resp_large)
    assert_same(small, large, "GET /api/v1/people/ID/position (5 vs 100 payments)")


# ---- the per-request path: token, user, audit -----------------------------------------------------


def _touching(statements: list[str], *tables: str) -> list[str]:
    return [s for s in statements if any(f" {t}" in s or f"{t}." in s for t in tables)]


def test_a_token_request_reads_its_token_and_user_in_one_statement(app, api_as, make_person):
    api = api_as("finance")
    person = make_person("Token Reader")
    assert api.get(f"/people/{person}").status_code == 200  # warm-up (and the token's last use, noted)
    with counting(app) as read:
        assert api.get(f"/people/{person}").status_code == 200
    with counting(app) as written:
        assert _post_payment(api, person, "one-read-of-the-user").status_code == 201
    for seen in (read, written):
        assert len(_touching(seen, "api_token", "user_account")) == 1, "\n".join(seen)


def test_a_repeated_view_of_a_position_is_counted_by_one_statement(app, api_as, make_person, rules):
    api = api_as("coordinator")
    person = make_person("Viewed Twice", claims=[{"benefit": "CA", "start_on": date(2020, 1, 6)}])
    with counting(app) as first:
        assert api.get(f"/people/{person}/position").status_code == 200
    with counting(app) as again:
        assert api.get(f"/people/{person}/position").status_code == 200
    assert len(_touching(first, "audit_event")) == 2, "\n".join(first)  # found nothing to count on, so a new row
    assert len(_touching(again, "audit_event")) == 1, "\n".join(again)  # one UPDATE finds the row and counts
