"""The coordinators' risk pages: the dashboard, a person's risk page, flags, the payment planner and
the in-app notifications."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from html import unescape
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from tests.builders import activity, contribution, expense, other_income, payment, saved
from tracker.audit.models import AuditEvent
from tracker.engine import core as engine
from tracker.extensions import db
from tracker.notify.models import Notification
from tracker.payments.models import Payment
from tracker.people.models import BenefitClaim
from tracker.risks import dashboard as dash
from tracker.risks import presenters as present
from tracker.risks import service as risk_service
from tracker.risks import views
from tracker.risks.models import RiskFlag
from tracker.rules import checks, ledger, wording
from tracker.rules.checks import NOTICE

TODAY = date(2025, 6, 11)  # a Wednesday; the Carer's Allowance week runs 9 to 15 June 2025
MONDAY = date(2025, 6, 9)
CA = [{"benefit": "CA", "start_on": date(2024, 1, 1)}]


# ---- helpers ------------------------------------------------------------------------------------


class _Tables(HTMLParser):
    """Tables by caption: [(caption, [(row attributes, [cell texts])])]."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables, self._stack = [], []

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._stack.append({"caption": "", "rows": [], "in": None})
        elif not self._stack:
            return
        t = self._stack[-1] if self._stack else None
        if tag == "caption":
            t["in"] = "caption"
        elif tag == "tr":
            t["rows"].append((dict(attrs), []))
        elif tag in ("td", "th") and t["rows"]:
            t["rows"][-1][1].append("")
            t["in"] = "cell"

    def handle_endtag(self, tag):
        if not self._stack:
            return
        t = self._stack[-1]
        if tag in ("caption", "td", "th"):
            t["in"] = None
        elif tag == "table":
            self._stack.pop()
            self.tables.append(
                (" ".join(t["caption"].split()), [(a, [" ".join(c.split()) for c in cells]) for a, cells in t["rows"]])
            )

    def handle_data(self, data):
        if not self._stack:
            return
        t = self._stack[-1]
        if t["in"] == "caption":
            t["caption"] += data
        elif t["in"] == "cell" and t["rows"] and t["rows"][-1][1]:
            t["rows"][-1][1][-1] += data


def tables(html: str):
    p = _Tables()
    p.feed(html)
    return p.tables


def table(html: str, caption_part: str):
    found = [rows for caption, rows in tables(html) if caption_part in caption]
    assert found, [c for c, _ in tables(html)]
    return found[0]


@pytest.fixture
def fixed_today(monkeypatch):
    monkeypatch.setattr(views, "today", lambda: TODAY)
    return TODAY


def flag_for(app, person_id, amount="185.00"):
    """A system flag (near the Carer's Allowance limit this week) for the person."""
    saved(app, payment, person_id, amount, MONDAY)
    with app.app_context():
        risk_service.raise_from_verdicts(person_id, checks.position(person_id, TODAY), notify_now=False)
        db.session.commit()
        return db.session.scalar(sa.select(RiskFlag.id).where(RiskFlag.person_id == person_id))


def text(resp) -> str:
    return unescape(resp.get_data(as_text=True))


# ---- the dashboard ------------------------------------------------------------------------------


def _seed(app, people=30):
    from tracker import demo

    with app.app_context():
        demo.seed(people=people, months=3, today=TODAY)


def _dashboard_rows(html):
    if "least room left first" not in html:
        return []
    rows = table(html, "least room left first")
    return [
        (int(a["data-person-id"]), a["class"].split()[0].replace("verdict-", ""), cells)
        for a, cells in rows
        if "data-person-id" in a
    ]


def test_dashboard_matches_the_engine(app, client, login, rules, fixed_today):
    _seed(app)
    login("coordinator")
    resp = client.get("/risks/")
    assert resp.status_code == 200
    html = text(resp)
    assert NOTICE in html
    rows = _dashboard_rows(html)
    with app.app_context():
        with_claims = set(db.session.scalars(sa.select(BenefitClaim.person_id).distinct()))
        assert {pid for pid, _, _ in rows} == with_claims
        expected, effects_seen = [], set()
        for pid, status, cells in rows:
            worst = dash.worst(checks.position(pid, TODAY))
            assert status == worst.status, (pid, cells)
            assert len(cells) == 5  # issue 13: at most five columns, the explanation under the row
            assert cells[1] == wording.verdict_effect_text(worst), (pid, cells)
            assert cells[2].startswith(worst.title)
            assert cells[2].endswith(present.period_text(worst.period_start, worst.period_end))
            room = present.headroom_text(worst.measure, worst.headroom)
            assert cells[3].startswith(room), (cells, room)
            # the trading allowance is shown apart: the worst only with no benefit verdict today
            assert worst.benefit != "TAX" or {v.benefit for v in checks.position(pid, TODAY)} == {"TAX"}
            expected.append(dash.verdict_key(worst))
            effects_seen.add(worst.effect)
    # worst effect first, then the smallest fraction of the limit left
    assert expected == sorted(expected)
    # the demo puts a few people near a limit or over one (a taper over it reduces the benefit)
    assert effects_seen & {"stops", "reduces", "near"}, effects_seen
    # The next view reads the order from the positions the first one kept: the same rows, in the same order.
    with app.app_context():
        from tracker.risks.models import RiskPosition

        assert db.session.scalar(sa.select(sa.func.count()).where(RiskPosition.benefit == "")) == len(with_claims)
    assert _dashboard_rows(text(client.get("/risks/"))) == rows


def test_bulk_positions_equal_one_person_at_a_time(app, rules):
    """The scan and the dashboard read everyone's ledger in bulk (raw stored integers, turned into
    Decimals with a memo); that must give exactly the verdicts of reading each person alone."""
    _seed(app, people=40)
    with app.app_context():
        with db.session.no_autoflush:
            payment(1, "0.00", TODAY, kind="training", benefit_value="123.45", status="approved")
        db.session.commit()
        bulk = checks.positions(sa.select(BenefitClaim.person_id), TODAY)
        assert bulk and len(bulk) == len(set(db.session.scalars(sa.select(BenefitClaim.person_id))))
        for pid, verdicts in bulk.items():
            alone = checks.position(pid, TODAY)
            assert [v.to_dict() for v in verdicts] == [v.to_dict() for v in alone], pid
        by_list = checks.positions(sorted(bulk)[:5], TODAY)
        assert {pid: [v.to_dict() for v in vs] for pid, vs in by_list.items()} == {
            pid: [v.to_dict() for v in bulk[pid]] for pid in sorted(bulk)[:5]
        }


def test_planned_is_shown_apart_from_paid(app, client, login, rules, make_person, fixed_today):
    pid = make_person("Carer", claims=CA)
    saved(app, payment, pid, "100.00", MONDAY, status="paid")
    saved(app, payment, pid, "60.00", TODAY, status="draft")
    saved(app, payment, pid, "20.00", TODAY, status="approved")
    saved(app, payment, pid, "500.00", TODAY, status="cancelled")
    saved(app, payment, pid, "30.00", MONDAY, status="paid", kind="training")  # not counted for CA
    login("coordinator")
    [(row_pid, status, cells)] = _dashboard_rows(text(client.get("/risks/")))
    assert row_pid == pid and status == "near"
    assert cells[2].startswith("Carer's Allowance earnings limit")
    assert cells[3].startswith("£16.00")
    # under the row: the total against the limit, planned apart from paid
    html = text(client.get("/risks/"))
    assert "Total £180.00 against a limit of £196.00 (£100.00 paid, £80.00 planned)." in html


def test_dashboard_filters(app, client, login, rules, make_person, fixed_today):
    carer = make_person("Carer Near", claims=CA)
    saved(app, payment, carer, "190.00", MONDAY)
    over = make_person("Carer Over", claims=CA)
    saved(app, payment, over, "250.00", MONDAY)
    esa = make_person(
        "Esa Person",
        claims=[{"benefit": "ESA", "start_on": date(2024, 1, 1), "attributes": {"permitted_work": "higher"}}],
    )
    with app.app_context():
        act = activity("Panel", default_rate="20.00")
        contribution(esa, MONDAY, "2", activity=act)
        db.session.commit()
        act_id = act.id
    login("coordinator")
    ids = lambda url: [pid for pid, _, _ in _dashboard_rows(text(client.get(url)))]  # noqa: E731
    assert ids("/risks/") == [over, carer, esa]
    assert ids("/risks/?status=over") == [over]
    assert ids("/risks/?status=near") == [carer]
    assert set(ids("/risks/?benefit=CA")) == {carer, over}
    assert ids("/risks/?benefit=ESA") == [esa]
    esa_rows = _dashboard_rows(text(client.get("/risks/?benefit=ESA")))
    assert esa_rows[0][2][2].startswith("ESA")
    assert ids(f"/risks/?activity={act_id}") == [esa]
    assert ids(f"/risks/?activity={act_id}&benefit=CA") == []
    assert "No one matches these filters" in text(client.get("/risks/?status=info"))
    for bad in (
        "?benefit=XYZ",
        "?status=awful",
        "?activity=abc",
        f"?activity={act_id + 99}",
        "?activity=99999999999999999999999",
    ):
        resp = client.get("/risks/" + bad)
        assert resp.status_code == 422, bad
        assert "There is a problem" in text(resp)
    assert client.get("/risks/?page=999").status_code == 200
    assert client.get("/risks/?page=-3").status_code == 200


def test_dashboard_paginates_50_a_page(app, client, login, rules, fixed_today):
    _seed(app, people=70)
    login("coordinator")
    first = _dashboard_rows(text(client.get("/risks/")))
    second = _dashboard_rows(text(client.get("/risks/?page=2")))
    with app.app_context():
        total = db.session.scalar(sa.select(sa.func.count(sa.distinct(BenefitClaim.person_id))))
    assert total > 50
    assert len(first) == 50 and len(second) == total - 50
    assert not {p for p, _, _ in first} & {p for p, _, _ in second}
    assert "Next page" in text(client.get("/risks/"))


def test_finance_sees_no_benefit_names(app, client, login, rules, make_person, fixed_today):
    carer = make_person("Carer", claims=CA)
    make_person(
        "Universal",
        claims=[
            {
                "benefit": "UC",
                "start_on": date(2024, 1, 1),
                "attributes": {"ap_start_day": 3, "work_allowance": False, "lcw_pending": False, "joint_claim": False},
            }
        ],
    )
    saved(app, payment, carer, "190.00", MONDAY)
    login("finance")
    resp = client.get("/risks/?benefit=CA")  # the benefit filter is not offered, and ignored
    assert resp.status_code == 200
    html = text(resp)
    rows = _dashboard_rows(html)
    assert len(rows) == 2
    assert all(cells[2].startswith("A benefit rule") for _, _, cells in rows)
    with app.app_context():
        from tracker.rules import service as rules_service

        titles = {rule.title for _, rule in rules_service.active_rules()}
    names = set(engine.BENEFIT_NAMES.values()) - {"income tax"}
    for word in titles | names | {"Carer's Allowance", "Universal Credit", "Trading allowance"}:
        assert word not in html, word
    assert 'name="benefit"' not in html
    # the people link to their ordinary page, not the risk page (which finance may not open)
    assert f"/people/{carer}" in html and f"/risks/people/{carer}" not in html
    assert client.get(f"/risks/people/{carer}").status_code == 403
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "benefits.viewed"))
            == 0
        )


def test_viewing_the_dashboard_writes_one_audit_event(app, client, login, rules, make_person, fixed_today):
    for n in range(4):
        make_person(f"Person {n}", claims=CA)
    uid = login("coordinator")
    assert client.get("/risks/").status_code == 200
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "benefits.viewed")).all()
    assert len(events) == 1
    assert events[0].actor_id == uid and events[0].after["where"] == "risk dashboard"
    assert events[0].after["people"] == 4


def test_contributors_get_403_on_every_risk_page(app, client, login, rules, make_person):
    pid = make_person("Me", claims=CA)
    login("contributor", person_id=pid)
    for method, url in (
        ("GET", "/risks/"),
        ("GET", f"/risks/people/{pid}"),
        ("GET", f"/risks/people/{pid}/plan"),
        ("POST", f"/risks/people/{pid}/plan"),
        ("POST", f"/risks/people/{pid}/flags"),
        ("POST", f"/risks/people/{pid}/flags/new"),
        ("GET", "/risks/notifications"),
        ("POST", "/risks/notifications/read"),
        ("GET", f"/risks/people/{pid + 1}"),
    ):
        assert client.open(url, method=method, data={}).status_code == 403, (method, url)


def test_signed_out_is_sent_to_sign_in(client):
    resp = client.get("/risks/")
    assert resp.status_code == 302 and "/sign-in" in resp.headers["Location"]


def _count_statements(app, client, url):
    count = [0]

    def before(conn, cursor, statement, parameters, context, executemany):
        count[0] += 1

    with app.app_context():
        engine_ = db.engine
    sa.event.listen(engine_, "before_cursor_execute", before)
    try:
        resp = client.get(url)
    finally:
        sa.event.remove(engine_, "before_cursor_execute", before)
    assert resp.status_code == 200
    return count[0]


def test_the_dashboard_runs_a_constant_number_of_statements(app, client, login, rules, make_person, fixed_today):
    def people(n, start):
        for i in range(start, start + n):
            pid = make_person(
                f"Person {i:02d}",
                claims=CA
                if i % 2
                else [
                    {
                        "benefit": "UC",
                        "start_on": date(2024, 1, 1),
                        "attributes": {
                            "ap_start_day": 1 + i % 28,
                            "work_allowance": False,
                            "lcw_pending": False,
                            "joint_claim": False,
                        },
                    }
                ],
            )
            saved(app, payment, pid, f"{50 + i}.00", MONDAY)
            saved(app, payment, pid, "10.00", TODAY, status="draft")

    people(3, 0)
    login("coordinator")
    client.get("/risks/")  # warm the rule cache; everyone's position is worked out and kept
    few = _count_statements(app, client, "/risks/")
    people(2, 3)
    few_changed = _count_statements(app, client, "/risks/")  # 2 people worked out again
    people(9, 5)
    many_changed = _count_statements(app, client, "/risks/")  # 9 people worked out again
    many = _count_statements(app, client, "/risks/")
    assert len(_dashboard_rows(text(client.get("/risks/")))) == 14
    assert few == many, (few, many)
    assert few_changed == many_changed, (few_changed, many_changed)
    assert many < few_changed <= 20, (many, few_changed)  # working people out again costs a few queries
    assert many <= 12


def test_kept_positions_follow_every_kind_of_change(app, client, login, rules, make_person, fixed_today):
    """The dashboard's order comes from positions kept between views; each kind of change to a
    person's records must make theirs be worked out again, and agree with the engine."""
    from tracker.people.models import Person
    from tracker.risks.models import RiskPosition

    pid = make_person("Carer", claims=CA)
    other = make_person("Other carer", claims=CA)
    saved(app, payment, other, "20.00", MONDAY)
    login("coordinator")

    def status():
        rows = {p: s for p, s, _ in _dashboard_rows(text(client.get("/risks/")))}
        # the filter by result uses only the kept positions: it must put each person in one list
        for result in ("over", "near", "ok"):
            listed = {p for p, _, _ in _dashboard_rows(text(client.get(f"/risks/?status={result}")))}
            assert listed == {p for p, s in rows.items() if s == result}, (result, listed, rows)
        with app.app_context():
            kept = db.session.execute(
                sa.select(RiskPosition.person_id, RiskPosition.ledger_version, Person.ledger_version)
                .join(Person, Person.id == RiskPosition.person_id)
                .where(RiskPosition.benefit == "")
            ).all()
            # the view kept what it worked out, for the person's current version
            current = {p for p, a, b in kept if a == b}
            assert set(rows) <= current, kept
            for p, s in rows.items():
                assert s == dash.worst(checks.position(p, TODAY)).status, (p, s)
        assert rows[other] == "ok"
        return rows.get(pid)

    assert status() == "ok"
    payment_id = saved(app, payment, pid, "200.00", MONDAY)  # a payment added through the ORM
    assert status() == "over"
    with app.app_context():
        db.session.get(Payment, payment_id).amount = Decimal("20.00")  # its amount changed
        ledger.changed(db.session, [pid])  # every writer raises the ledger event
        db.session.commit()
    assert status() == "ok"
    with app.app_context():
        db.session.get(Payment, payment_id).paid_on = MONDAY - timedelta(days=7)  # moved to last week
        payment(pid, "185.00", MONDAY)
        ledger.changed(db.session, [pid])
        db.session.commit()
    assert status() == "near"
    with app.app_context():
        db.session.get(Payment, payment_id).status = "cancelled"
        expense(pid, "40.00", MONDAY, MONDAY, description="Bus fares")
        other_income(pid, "90.00", MONDAY, source="A shop job")
        ledger.changed(db.session, [pid])
        db.session.commit()
    status()  # whatever the rules make of expenses and other income, the dashboard agrees with the engine
    with app.app_context():
        db.session.execute(sa.delete(Payment).where(Payment.person_id == pid))  # not through the ORM ...
        ledger.changed(db.session, [pid])  # ... the writer says so itself, as every writer does
        db.session.commit()
    assert status() == "ok"
    with app.app_context():
        db.session.delete(db.session.scalar(sa.select(BenefitClaim).where(BenefitClaim.person_id == pid)))
        ledger.claims_changed(db.session, [pid])
        db.session.commit()
    assert status() is None  # no claim: off the dashboard
    with app.app_context():  # and nothing kept about them names a benefit any more
        assert not db.session.scalars(sa.select(RiskPosition).where(RiskPosition.person_id == pid)).all()


def test_withdrawing_consent_leaves_no_kept_position(app, client, login, rules, make_person, fixed_today):
    from tracker.people import service as people_service
    from tracker.people.models import Person
    from tracker.risks.models import RiskPosition

    pid = make_person("Carer", claims=CA)
    saved(app, payment, pid, "185.00", MONDAY)
    login("coordinator")
    assert [s for p, s, _ in _dashboard_rows(text(client.get("/risks/?status=near")))] == ["near"]
    with app.app_context():
        assert db.session.scalars(sa.select(RiskPosition.benefit).where(RiskPosition.person_id == pid)).all()
        people_service.withdraw_consent(db.session.get(Person, pid), TODAY, actor=None)
        db.session.commit()
        assert not db.session.scalars(sa.select(RiskPosition).where(RiskPosition.person_id == pid)).all()
    assert _dashboard_rows(text(client.get("/risks/"))) == []


def test_kept_positions_are_worked_out_again_on_a_new_day_or_after_a_rule_change(
    app, client, login, rules, make_person, fixed_today, monkeypatch
):
    from tracker.risks.models import RiskPosition
    from tracker.rules import service as rules_service

    pid = make_person("Carer", claims=CA)
    saved(app, payment, pid, "185.00", MONDAY)
    login("coordinator")

    def statuses():
        shown = [s for p, s, _ in _dashboard_rows(text(client.get("/risks/"))) if p == pid]
        kept = [
            result
            for result in ("over", "near", "ok")  # the filter by result uses the kept positions
            if pid in {p for p, _, _ in _dashboard_rows(text(client.get(f"/risks/?status={result}")))}
        ]
        assert kept == shown, (kept, shown)
        return shown

    assert statuses() == ["near"]
    # A week later the payment is in last week's period: within the limit this week.
    monkeypatch.setattr(views, "today", lambda: TODAY + timedelta(days=7))
    assert statuses() == ["ok"]
    with app.app_context():
        kept_on = db.session.scalar(sa.select(RiskPosition.on_date).where(RiskPosition.benefit == ""))
        assert kept_on == TODAY + timedelta(days=7)
    monkeypatch.setattr(views, "today", lambda: TODAY)
    assert statuses() == ["near"]
    with app.app_context():
        rules_service.edit("CA_EARN_2025", {"limit": "150.00"}, actor=None, reason="A test of a lower limit")
        db.session.commit()
    assert statuses() == ["over"]


# ---- a person's risk page -------------------------------------------------------------------------


def test_person_page_has_a_chart_and_a_table_with_the_same_numbers(app, client, login, rules, make_person, fixed_today):
    pid = make_person(
        "Carer", claims=CA, preferences=[{"kind": "cash", "note": ""}, {"kind": "training", "note": "a course"}]
    )
    saved(app, payment, pid, "150.00", MONDAY - timedelta(weeks=2))
    saved(app, payment, pid, "210.00", MONDAY - timedelta(weeks=1))
    saved(app, payment, pid, "100.00", MONDAY)
    saved(app, payment, pid, "50.00", TODAY, status="draft")
    saved(app, payment, pid, "40.00", MONDAY + timedelta(weeks=1), status="approved")  # a planned week ahead
    login("coordinator")
    resp = client.get(f"/risks/people/{pid}")
    assert resp.status_code == 200
    html = text(resp)
    assert NOTICE in html
    assert "style=" not in html and "<script" not in html
    svg = re.search(r"<svg[^>]*>.*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
    assert "stroke-dasharray" in svg and "url(#chart-1-hatch)" in svg  # limit line; planned bars hatched
    assert "Paid or received" in svg and "Planned (draft or approved)" in svg  # a legend
    rows = table(html, "Figures for the chart: Carer's Allowance earnings limit")
    data = [cells for _, cells in rows][1:]
    assert len(data) == 13  # the last 12 weeks and one week ahead with a planned payment
    by_start = {cells[0].split(" to ")[0]: cells for cells in data}
    # five columns: the limit under the total (issue 13: at most five columns)
    assert by_start["26 May 2025"][1:4] == ["£150.00", "£0.00", "£150.00Limit: £196.00"]
    assert by_start["2 June 2025"][1:5] == [
        "£210.00",
        "£0.00",
        "£210.00Limit: £196.00",
        "Over the limit: stops Carer's Allowance for this period",
    ]
    assert by_start["9 June 2025"][0].endswith("(this week)")
    assert by_start["9 June 2025"][1:5] == ["£100.00", "£50.00", "£150.00Limit: £196.00", "Within the limit"]
    assert by_start["16 June 2025"][1:4] == ["£0.00", "£40.00", "£40.00Limit: £196.00"]
    # the same totals as the engine
    with app.app_context():
        for start, cells in by_start.items():
            d = datetime.strptime(start, "%d %B %Y").date()
            [v] = [v for v in checks.position(pid, d) if v.family == "CA_EARN"]
            assert cells[3].startswith(present.figure("earnings", v.total_after) + "Limit: ")
    # the bars of the SVG: one "Over" mark, for the week over
    assert svg.count(">Over</text>") == 1
    assert "Their choices, most preferred first" in html and "Training (in kind): a course" in html
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count(AuditEvent.id)).where(
                    AuditEvent.action == "benefits.viewed", AuditEvent.person_id == pid
                )
            )
            == 1
        )


def test_person_pages_404_for_missing_ids(client, login, rules):
    login("coordinator")
    for url in (
        "/risks/people/999999",
        "/risks/people/999999/plan",
        "/risks/people/0",
        "/risks/people/99999999999999999999999",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post("/risks/people/999999/flags", data={"flag_id": "1", "action": "resolve"}).status_code == 404
    assert client.post("/risks/people/999999/flags/new", data={"note": "x"}).status_code == 404


def test_acknowledge_note_and_resolve_a_flag_from_the_page(app, client, login, rules, make_person, fixed_today):
    pid = make_person("Carer", claims=CA)
    fid = flag_for(app, pid)
    login("coordinator")
    html = text(client.get(f"/risks/people/{pid}"))
    assert "Carer's Allowance earnings limit: 9 June 2025 to 15 June 2025" in html
    assert f'name="flag_id" value="{fid}"' in html and 'value="acknowledge"' in html

    resp = client.post(
        f"/risks/people/{pid}/flags", data={"flag_id": fid, "action": "acknowledge", "note": "Spoke to them"}
    )
    assert resp.status_code == 302 and f"/risks/people/{pid}" in resp.headers["Location"]
    follow = text(client.get(resp.headers["Location"]))
    assert "has been acknowledged" in follow and "Spoke to them" in follow
    resp = client.post(
        f"/risks/people/{pid}/flags", data={"flag_id": fid, "action": "note", "note": "Adviser booked for Friday"}
    )
    assert resp.status_code == 302
    # an empty note: the page again, with the error tied to that flag's box
    resp = client.post(f"/risks/people/{pid}/flags", data={"flag_id": fid, "action": "note", "note": "  "})
    assert resp.status_code == 422
    html = text(resp)
    assert "There is a problem" in html and f'href="#flag-{fid}-note"' in html and "Write a note." in html
    # acknowledging twice is a plain message, not an error page
    resp = client.post(f"/risks/people/{pid}/flags", data={"flag_id": fid, "action": "acknowledge"})
    assert resp.status_code == 302
    assert "You cannot acknowledge a flag that is acknowledged" in text(client.get(resp.headers["Location"]))
    resp = client.post(f"/risks/people/{pid}/flags", data={"flag_id": fid, "action": "resolve"})
    assert resp.status_code == 302
    with app.app_context():
        flag = db.session.get(RiskFlag, fid)
        assert flag.status == "resolved"
        assert [n.text for n in flag.notes] == ["Spoke to them", "Adviser booked for Friday"]
        actions = set(db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity_type == "risk_flag")))
        assert {"risk.acknowledged", "risk.noted", "risk.resolved"} <= actions
    assert "No open flags." in text(client.get(f"/risks/people/{pid}"))


def test_flag_actions_check_whose_flag_it_is(app, client, login, rules, make_person, fixed_today):
    pid = make_person("Carer", claims=CA)
    other = make_person("Other", claims=CA)
    fid = flag_for(app, other)
    login("coordinator")
    assert client.post(f"/risks/people/{pid}/flags", data={"flag_id": fid, "action": "resolve"}).status_code == 404
    assert client.post(f"/risks/people/{pid}/flags", data={"flag_id": 987654, "action": "resolve"}).status_code == 404
    resp = client.post(f"/risks/people/{pid}/flags", data={})
    assert resp.status_code == 302  # nothing named: a message, not an error
    resp = client.post(f"/risks/people/{other}/flags", data={"flag_id": fid, "action": "delete"})
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(RiskFlag, fid).status == "open"


def test_raise_a_manual_flag(app, client, login, rules, make_person, fixed_today):
    pid = make_person("Carer", claims=CA)
    login("coordinator")
    resp = client.post(f"/risks/people/{pid}/flags/new", data={"note": ""})
    assert resp.status_code == 422
    html = text(resp)
    assert "There is a problem" in html and 'href="#note"' in html and "Say what the risk is." in html
    resp = client.post(f"/risks/people/{pid}/flags/new", data={"note": "Starting a job elsewhere next month"})
    assert resp.status_code == 302
    resp = client.post(
        f"/risks/people/{pid}/flags/new", data={"note": "Mentioned extra shifts", "rule_family": "CA_EARN"}
    )
    assert resp.status_code == 302
    # the same rule and period again: add a note to the existing flag instead
    resp = client.post(f"/risks/people/{pid}/flags/new", data={"note": "Again", "rule_family": "CA_EARN"})
    assert resp.status_code == 422 and "add a note to it instead" in text(resp)
    resp = client.post(f"/risks/people/{pid}/flags/new", data={"note": "x", "rule_family": "NOPE"})
    assert resp.status_code == 422 and "No rule NOPE applies" in text(resp)
    with app.app_context():
        flags = db.session.scalars(sa.select(RiskFlag).where(RiskFlag.person_id == pid).order_by(RiskFlag.id)).all()
    assert [(f.level, f.source, f.rule_family) for f in flags] == [
        ("manual", "coordinator", ""),
        ("manual", "coordinator", "CA_EARN"),
    ]
    assert flags[1].period_start == MONDAY
    html = text(client.get(f"/risks/people/{pid}"))
    assert "Starting a job elsewhere next month" in html and "Raised by a coordinator" in html


# ---- the planner --------------------------------------------------------------------------------


def _plan_form(*sessions):
    data = {"action": "plan"}
    for i, (d, hours, amount, rate) in enumerate(sessions):
        data.update({f"date_{i}": d, f"hours_{i}": hours, f"amount_{i}": amount, f"rate_{i}": rate})
    return data


def _use_forms(html):
    """The hidden fields of each "Use this plan" form."""
    forms = re.findall(r'<form method="post" action="[^"]*/plan">(.*?)</form>', html, re.S)
    out = []
    for f in forms:
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', f))
        if fields.get("action") == "use":
            out.append(fields)
    return out


def test_planning_and_using_a_plan_creates_draft_payments_that_recheck_clean(
    app, client, login, rules, make_person, fixed_today
):
    pid = make_person("Carer", claims=CA, preferences=[{"kind": "cash", "note": ""}])
    saved(app, payment, pid, "150.00", MONDAY)
    login("admin")  # recording a plan is finance's work (admin or finance)
    assert client.get(f"/risks/people/{pid}/plan").status_code == 200
    resp = client.post(
        f"/risks/people/{pid}/plan", data=_plan_form((TODAY.isoformat(), "4", "100.00", ""), ("", "", "", ""))
    )
    assert resp.status_code == 200
    html = text(resp)
    assert NOTICE in html
    assert "Plans that keep every rule within its limit" in html
    assert "£46.00" in html and "16 June 2025" in html
    forms = _use_forms(html)
    assert forms
    split = next(f for f in forms if f["proposal"] == "split")
    assert (split["p0_amount"], split["p0_paid_on"], split["p1_amount"], split["p1_paid_on"]) == (
        "46.00",
        "2025-06-11",
        "54.00",
        "2025-06-16",
    )
    resp = client.post(f"/risks/people/{pid}/plan", data=split)
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/risks/people/{pid}")
    assert "Recorded 2 draft payments for Carer from the plan" in text(client.get(resp.headers["Location"]))
    with app.app_context():
        drafts = db.session.scalars(
            sa.select(Payment).where(Payment.person_id == pid, Payment.status == "draft").order_by(Payment.paid_on)
        ).all()
        assert [(p.kind, p.amount, p.paid_on) for p in drafts] == [
            ("cash", Decimal("46.00"), TODAY),
            ("cash", Decimal("54.00"), date(2025, 6, 16)),
        ]
        assert all("From the payment planner" in p.note for p in drafts)
        # every period the plan touched is within the limit, with all of it counted
        for d in (TODAY, date(2025, 6, 16)):
            assert all(v.status != "over" for v in checks.position(pid, d))
        result, _ = checks.check(pid, [], today=TODAY)
        assert not result.blocked


def test_using_a_plan_is_all_or_nothing(app, client, login, rules, make_person, fixed_today, monkeypatch):
    pid = make_person("Carer", claims=CA, preferences=[{"kind": "cash", "note": ""}])
    saved(app, payment, pid, "150.00", MONDAY)
    login("admin")  # recording a plan is finance's work (admin or finance)
    html = text(client.post(f"/risks/people/{pid}/plan", data=_plan_form((TODAY.isoformat(), "4", "100.00", ""))))
    split = next(f for f in _use_forms(html) if f["proposal"] == "split")

    from tracker.errors import Conflict
    from tracker.payments import service as payments

    real = payments.record_payment
    calls = []

    def refuse_second(person, p, **kw):
        calls.append(p)
        if len(calls) == 2:
            raise Conflict("This payment would break a benefit rule.", code="benefit_rule_block")
        return real(person, p, **kw)

    monkeypatch.setattr(payments, "record_payment", refuse_second)
    resp = client.post(f"/risks/people/{pid}/plan", data=split)
    assert resp.status_code == 409
    html = text(resp)
    assert "This plan could not be used: This payment would break a benefit rule. Nothing was saved." in html
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Payment.id)).where(Payment.status == "draft")) == 0


def test_a_changed_plan_is_not_used(app, client, login, rules, make_person, fixed_today):
    pid = make_person("Carer", claims=CA, preferences=[{"kind": "cash", "note": ""}])
    saved(app, payment, pid, "150.00", MONDAY)
    login("admin")  # recording a plan is finance's work (admin or finance)
    html = text(client.post(f"/risks/people/{pid}/plan", data=_plan_form((TODAY.isoformat(), "4", "100.00", ""))))
    split = next(f for f in _use_forms(html) if f["proposal"] == "split")
    saved(app, payment, pid, "20.00", MONDAY)  # someone paid them meanwhile
    resp = client.post(f"/risks/people/{pid}/plan", data=split)
    assert resp.status_code == 409
    assert "The plan is not the one shown before" in text(resp)
    tampered = dict(split, p0_amount="100.00")
    resp = client.post(f"/risks/people/{pid}/plan", data=tampered)
    assert resp.status_code == 409
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Payment.id)).where(Payment.status == "draft")) == 0


def test_no_clean_plan_is_said_plainly(app, client, login, rules, make_person, fixed_today):
    pid = make_person(
        "Esa",
        claims=[{"benefit": "ESA", "start_on": date(2024, 1, 1), "attributes": {"permitted_work": "lower"}}],
        preferences=[{"kind": "cash", "note": ""}, {"kind": "voucher", "note": ""}],
    )
    login("admin")  # recording a plan is finance's work (admin or finance)
    resp = client.post(f"/risks/people/{pid}/plan", data=_plan_form((TODAY.isoformat(), "4", "", "250.00")))
    assert resp.status_code == 200
    html = text(resp)
    assert "No plan keeps every rule within its limit" in html
    assert "There is no way to pay £1,000.00 by" in html
    assert "The least harmful option" in html and "Breaks a rule" in html
    assert not _use_forms(html)  # it cannot be used from here


def test_a_coordinator_plans_but_cannot_record_the_drafts(app, client, login, rules, make_person, fixed_today):
    pid = make_person("Carer", claims=CA, preferences=[{"kind": "cash", "note": ""}])
    saved(app, payment, pid, "150.00", MONDAY)
    login("admin")
    form = _plan_form((TODAY.isoformat(), "4", "100.00", ""), ("", "", "", ""))
    use = _use_forms(client.post(f"/risks/people/{pid}/plan", data=form).get_data(as_text=True))[0]
    login("coordinator")
    html = client.post(f"/risks/people/{pid}/plan", data=form).get_data(as_text=True)
    assert not _use_forms(html) and "Recording payments is finance" in html
    assert client.post(f"/risks/people/{pid}/plan", data=use).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1  # only the one saved above


def test_plan_form_errors(app, client, login, rules, make_person, fixed_today):
    pid = make_person("Carer", claims=CA)
    login("coordinator")
    resp = client.post(f"/risks/people/{pid}/plan", data=_plan_form(("", "", "", "")))
    assert resp.status_code == 422
    assert 'href="#date_0-day"' in text(resp) and "Enter at least one session" in text(resp)
    resp = client.post(
        f"/risks/people/{pid}/plan",
        data=_plan_form(
            ("2025-02-30", "2", "10", ""),
            (TODAY.isoformat(), "", "10", "5"),
            (TODAY.isoformat(), "1e999", "x", ""),
            ("2031-01-01", "2", "10.001", ""),
        ),
    )
    assert resp.status_code == 422
    html = text(resp)
    assert "There is a problem" in html
    for anchor in ("date_0-day", "hours_1", "rate_1", "hours_2", "amount_2", "date_3-day", "amount_3"):
        assert f'href="#{anchor}"' in html, anchor  # a date links to its first box
    assert "Session 2: give the amount owed or the rate per hour, not both." in html


# ---- notifications ------------------------------------------------------------------------------


def test_notifications_list_the_outbox_for_the_user(app, client, login, make_user):
    uid = login("coordinator")
    other = make_user("coordinator")
    with app.app_context():
        for n, (user, subject) in enumerate(((uid, "Older risk"), (uid, "Newer risk"), (other, "Not yours"))):
            db.session.add(
                Notification(
                    user_id=user,
                    to_email="x@example.org",
                    subject=subject,
                    body=f"Body {n}",
                    kind="flag",
                    status="outbox",
                    created_at=datetime(2025, 6, 1 + n, 9),
                )
            )
        db.session.commit()
        mine = db.session.scalars(
            sa.select(Notification.id).where(Notification.user_id == uid).order_by(Notification.id)
        ).all()
        theirs = db.session.scalar(sa.select(Notification.id).where(Notification.user_id == other))
    html = text(client.get("/risks/notifications"))
    assert html.index("Newer risk") < html.index("Older risk")
    assert "Not yours" not in html and "2 unread." in html
    resp = client.post("/risks/notifications/read", data={"notification_id": mine[0]})
    assert resp.status_code == 302
    assert "1 unread." in text(client.get("/risks/notifications"))
    assert client.post("/risks/notifications/read", data={"notification_id": theirs}).status_code == 404
    assert client.post("/risks/notifications/read", data={"notification_id": 99999}).status_code == 404
    assert client.post("/risks/notifications/read", data={}).status_code == 302
    resp = client.post("/risks/notifications/read", data={"action": "all"})
    assert resp.status_code == 302
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count(Notification.id)).where(Notification.read_at.is_(None))) == 1
        )  # only the other user's
    assert "You have no notifications" not in text(client.get("/risks/notifications"))


def test_recording_a_risky_payment_shows_up_in_the_coordinators_notifications(
    app, client, login, rules, make_person, fixed_today
):
    pid = make_person("Carer", claims=CA)
    uid = login("coordinator")
    flag_for(app, pid)
    with app.app_context():
        flags = db.session.scalars(sa.select(RiskFlag)).all()
        risk_service._notify_flags(flags)
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count(Notification.id)).where(Notification.user_id == uid)) == 1
    html = text(client.get("/risks/notifications"))
    assert "Benefit rule risk: Carer" in html and "kept here (no email server)" in html
