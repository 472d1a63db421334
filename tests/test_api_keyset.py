"""Keyset (cursor) pages in the API lists: walking ``next`` from the first page gives every row
once, in the list's order, also when many rows share the ordering value (the same day, the same
amount, the same name); a cursor is validated (422 on ``cursor``); ``total`` only with count=true."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from tests import builders
from tests.builders import assert_error
from tracker.extensions import db
from tracker.vocab import MAX_PER_PAGE

DAYS = [date(2025, 5, 1), date(2025, 5, 2), date(2025, 5, 2), date(2025, 5, 2), date(2025, 5, 3)]


@pytest.fixture
def ledger(app):
    """Three people with the same name; 15 payments on few days and amounts, and contributions,
    expenses and risk flags with many equal dates."""
    from tracker.risks.models import RiskFlag

    with app.app_context():
        people = [builders.person("Sam Same").id for _ in range(3)] + [builders.person("Alex Other").id]
        for i in range(15):
            pid = people[i % 4]
            builders.payment(pid, ("5.00", "7.50")[i % 2], DAYS[i % 5], status=("paid", "draft", "approved")[i % 3])
            builders.contribution(pid, DAYS[i % 5])
            builders.expense(pid, "3.00", DAYS[i % 5])
            day = DAYS[i % 5] + timedelta(days=31 * i)
            db.session.add(RiskFlag(person_id=pid, rule_family=f"R{i}", period_start=day, period_end=day, level="near"))
        db.session.commit()
    return people


def walk(api, path: str) -> tuple[list[int], int]:
    """Every item's id, following ``next`` from ``path``; and the number of pages."""
    ids: list[int] = []
    pages = 0
    while path:
        resp = api.get(path)
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        assert "total" not in body
        ids += [item["id"] for item in body["items"]]
        pages += 1
        path = body["next"] and body["next"].removeprefix("/api/v1")
        assert pages < 100
    return ids, pages


@pytest.mark.parametrize(
    "path",
    [
        "/payments",
        "/payments?sort=amount",
        "/payments?sort=-amount",
        "/payments?sort=person",
        "/payments?sort=-status",
        "/payments?sort=date",
        "/payments?status=paid",
        "/contributions",
        "/expenses",
        "/people",
        "/risks",
    ],
)
def test_walking_next_gives_every_row_once_in_order(ledger, api_as, path):
    api = api_as("admin")
    sep = "&" if "?" in path else "?"
    everything = api.get(f"{path}{sep}per_page={MAX_PER_PAGE}&count=true").get_json()
    assert everything["next"] is None and everything["total"] == len(everything["items"]) > 3
    expected = [item["id"] for item in everything["items"]]
    ids, pages = walk(api, f"{path}{sep}per_page=2")
    assert ids == expected  # no row missed, none twice, the same order as one big page
    assert pages == -(-len(expected) // 2)
    # Page numbers still work, and their next link carries on after them.
    second = api.get(f"{path}{sep}per_page=2&page=2").get_json()
    assert second["page"] == 2 and [i["id"] for i in second["items"]] == expected[2:4]
    rest, _ = walk(api, second["next"].removeprefix("/api/v1")) if second["next"] else ([], 0)
    assert rest == expected[4:]


def test_the_next_link_keeps_the_filters(ledger, api_as):
    api = api_as("finance")
    body = api.get("/payments?status=paid&per_page=1&count=true").get_json()
    args = parse_qs(urlsplit(body["next"]).query)
    assert set(args) == {"status", "per_page", "cursor"} and args["status"] == ["paid"]
    ids, _ = walk(api, "/payments?status=paid&per_page=1")
    assert len(ids) == body["total"] == 5


def test_a_contributor_following_next_sees_only_their_own(ledger, api_as):
    me = api_as("contributor", person_id=ledger[0])
    ids, _ = walk(me, f"/payments?per_page=1&person_id={ledger[1]}")
    mine = me.get("/payments?per_page=200").get_json()["items"]
    assert ids == [p["id"] for p in mine] and {p["person_id"] for p in mine} == {ledger[0]}


def test_a_bad_cursor_is_a_422_on_cursor(ledger, api_as):
    api = api_as("admin")
    people_cursor = api.get("/people?per_page=1").get_json()["next"].split("cursor=")[1]
    date_cursor = api.get("/payments?per_page=1").get_json()["next"].split("cursor=")[1]
    for path in (
        "/payments?cursor=nonsense",
        "/payments?cursor=" + "x" * 600,
        f"/payments?cursor={date_cursor[:-2]}ab",  # altered
        f"/payments?cursor={people_cursor}",  # another list's
        f"/payments?sort=amount&cursor={date_cursor}",  # another order's
        f"/people?cursor={date_cursor}",
        "/contributions?cursor=W10",
        "/risks?cursor=e30",
    ):
        resp = api.get(path)
        assert_error(resp, 422, field="cursor")
        assert "start again from the first page" in resp.get_json()["error"]["fields"]["cursor"][0]


def test_a_cursor_signed_with_another_secret_is_refused(ledger, api_as, app):
    from itsdangerous import URLSafeSerializer

    forged = URLSafeSerializer("another secret", salt="tracker.list-cursor").dumps(["people", ["s", "A"], 1])
    assert_error(api_as("admin").get(f"/people?cursor={forged}"), 422, field="cursor")


def test_per_page_and_count_bounds(ledger, api_as):
    api = api_as("admin")
    for path in ("/payments", "/contributions", "/expenses", "/risks"):
        assert_error(api.get(f"{path}?per_page=0"), 422, field="per_page")
        assert_error(api.get(f"{path}?per_page=100000"), 422, field="per_page")
        assert_error(api.get(f"{path}?count=perhaps"), 422, field="count")
        assert len(api.get(f"{path}?per_page=1").get_json()["items"]) == 1
    assert len(api.get(f"/payments?per_page={MAX_PER_PAGE}").get_json()["items"]) == 15
    # People keep their old leniency: a page size out of range is brought within it.
    assert len(api.get("/people?per_page=100000").get_json()["items"]) == 4
    assert_error(api.get("/people?count=perhaps"), 422, field="count")
    assert api.get("/people?count=true").get_json()["total"] == 4


def test_a_page_past_the_end_is_empty_with_no_next(ledger, api_as):
    body = api_as("finance").get("/payments?page=50").get_json()
    assert body["items"] == [] and body["next"] is None and body["page"] == 50


def _page_walk(client, path: str, row_link: str) -> tuple[list[int], list[str]]:
    """The ids linked from each page's rows, following the pager's "Next page" from ``path``."""
    ids: list[int] = []
    captions: list[str] = []
    while path:
        resp = client.get(path)
        assert resp.status_code == 200
        html = unescape(resp.get_data(as_text=True))
        ids += [int(i) for i in re.findall(row_link + r"(\d+)\"", html)]
        captions += re.findall(r"<li>(Page \d+[^<]*)</li>", html)
        found = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', html)
        path = found.group(1) if found else None
        assert len(captions) < 100
    return ids, captions


@pytest.mark.parametrize("sort", ["", "&sort=amount", "&sort=-person"])
def test_the_payments_page_walks_on_by_cursor(ledger, client, login, api_as, sort):
    expected = [p["id"] for p in api_as("finance").get(f"/payments?per_page=200{sort}").get_json()["items"]]
    login("finance")
    ids, captions = _page_walk(client, f"/payments/?per_page=4{sort}", 'href="/payments/')
    assert ids == expected
    assert captions[:2] == ["Page 1 of 4", "Page 2 of 4"] and len(captions) == 4
    # "Previous page" goes back by page number, to the same rows.
    html = unescape(client.get(f"/payments/?per_page=4&page=2{sort}").get_data(as_text=True))
    assert [int(i) for i in re.findall(r'href="/payments/(\d+)"', html)] == expected[4:8]


def _rows_walk(client, path: str, marker: str) -> tuple[list[str], list[str]]:
    """Each row's marked cell, page after page by "Next page"; and the pages' captions."""
    rows: list[str] = []
    captions: list[str] = []
    while path:
        html = unescape(client.get(path).get_data(as_text=True))
        rows += re.findall(marker + r">([^<]*)<", html)
        captions += re.findall(r"<li>(Page \d+[^<]*)</li>", html)
        found = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', html)
        path = found.group(1) if found else None
        assert len(captions) < 100
    return rows, captions


@pytest.mark.parametrize(
    "path, marker",
    [
        ("/payments/expenses?per_page=4", '<td data-label="Date paid back"'),
        ("/contributions/?per_page=4", '<td data-label="Date"'),
    ],
)
def test_the_expenses_and_contributions_pages_walk_on_by_cursor(ledger, client, login, path, marker):
    login("admin")
    rows, captions = _rows_walk(client, path, marker)
    assert len(rows) == 15 and captions == ["Page 1 of 4", "Page 2 of 4", "Page 3 of 4", "Page 4 of 4"]
    # newest first, across the pages too
    days = [datetime.strptime(r.strip(), "%d %B %Y").date() if r.strip()[0].isdigit() else r for r in rows]
    assert all(isinstance(d, date) for d in days) and days == sorted(days, reverse=True)


def test_the_people_page_walks_on_by_cursor(app, client, login, make_person):
    for i in range(60):
        make_person("Same Name" if i % 2 else f"Person {i:02d}", consent=False)
    login("coordinator")
    names, captions = _rows_walk(client, "/people/", r'<th scope="row" data-label="Name"><a href="/people/\d+"')
    assert len(names) == 60 and captions[0].startswith("Page 1 of ")
    assert names == sorted(names, key=str.casefold) or names == sorted(names)
    bad = client.get("/people/?cursor=nonsense")
    assert bad.status_code == 422
