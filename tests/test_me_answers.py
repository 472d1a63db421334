"""The answer first on the contributor's pages: one sentence per benefit, in the second person,
with planned payments counted and said apart from paid ones."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.builders import CA, payment
from tracker.engine.core import Verdict
from tracker.extensions import db
from tracker.me.presenters import answer_sentence, answers, folded, paid_key, verdict_view
from tracker.timeutil import span_text


def _v(**kw) -> Verdict:
    base = {
        "rule": "CA_EARNINGS",
        "family": "CA_EARNINGS",
        "benefit": "CA",
        "title": "Carer's Allowance earnings limit",
        "period_start": date(2026, 11, 30),
        "period_end": date(2026, 12, 6),
        "measure": "earnings",
        "total_before": Decimal("100"),
        "total_after": Decimal("100"),
        "limit": Decimal("196"),
        "headroom": Decimal("96"),
        "status": "ok",
        "severity": "block",
        "confidence": "confirmed",
        "source": "",
    }
    return Verdict(**{**base, **kw})


def _uc(total: str, **kw) -> Verdict:
    limit = Decimal("411")
    return _v(
        rule="UC_TAPER",
        family="UC_TAPER",
        benefit="UC",
        title="Universal Credit taper",
        period_start=date(2026, 11, 5),
        period_end=date(2026, 12, 4),
        total_after=Decimal(total),
        limit=limit,
        headroom=limit - Decimal(total),
        is_taper=True,
        **kw,
    )


def test_within_the_limit_says_what_is_left():
    a = answer_sentence("CA", [_v()], {})
    assert a["status"] == "ok"
    assert a["text"] == (
        "Your Carer's Allowance: for 30 November to 6 December 2026, you have £96.00 left before the £196.00 limit."
    )


def test_near_the_limit_says_so():
    a = answer_sentence("CA", [_v(total_after=Decimal("180"), headroom=Decimal("16"), status="near")], {})
    assert a["status"] == "near"
    assert "you are close to the £196.00 limit, with £16.00 left" in a["text"]


def test_over_the_limit_says_by_how_much():
    a = answer_sentence("CA", [_v(total_after=Decimal("250"), headroom=Decimal("-54"), status="over")], {})
    assert a["status"] == "over"
    assert a["text"].startswith("Your Carer's Allowance: for 30 November to 6 December 2026, you are £54.00 over")
    assert "the person" not in a["text"]


def test_taper_within_says_what_is_left_before_it_is_reduced():
    a = answer_sentence("UC", [_uc("100.00", status="ok")], {})
    assert a["text"] == (
        "Your Universal Credit: for 5 November to 4 December 2026, you have £311.00 left before it is reduced."
    )


def test_taper_reduction_says_about_how_much_less():
    v = _uc("511.00", status="info", estimated_reduction=Decimal("55.00"))
    a = answer_sentence("UC", [v], {})
    assert a["status"] == "over"
    assert "you are £100.00 over the £411.00 you can have before it is reduced" in a["text"]
    assert "likely to go down by about £55.00" in a["text"]


def test_unknown_says_it_was_not_checked():
    v = _v(rule="", status="unknown", limit=None, headroom=None)
    a = answer_sentence("CA", [v], {})
    assert a["status"] == "unknown"
    assert a["text"].startswith("Your Carer's Allowance: not checked")


def test_information_only_benefit():
    a = answer_sentence("PIP", [_v(benefit="PIP", status="info", limit=None, headroom=None)], {})
    assert a["status"] == "info" and "for information only" in a["text"]


def test_planned_money_is_said_with_paid_money():
    v = _v(
        rule="TAX_TRADING",
        benefit="TAX",
        period_start=date(2026, 4, 6),
        period_end=date(2027, 4, 5),
        total_after=Decimal("1200"),
        limit=Decimal("1000"),
        headroom=Decimal("-200"),
        status="over",
    )
    a = answer_sentence("TAX", [v], {paid_key(v): Decimal("1000")})
    assert a["text"] == (
        "Your income tax: for 6 April 2026 to 5 April 2027, £1,000.00 paid and £200.00 planned: together "
        "£1,200.00, so you are £200.00 over the £1,000.00 trading allowance."
    )


def test_unverified_rules_fold_away_and_do_not_make_the_answer():
    unverified = _uc("600.00", status="info", confidence="unconfirmed", estimated_reduction=Decimal("100"))
    confirmed = _uc("100.00", status="ok")
    assert folded(unverified) and not folded(confirmed)
    a = answer_sentence("UC", [unverified, confirmed], {})
    assert "£311.00 left" in a["text"] and "not verified" not in a["text"]
    # With nothing else checked, the unverified figure is the answer, and it says so.
    only = answer_sentence("UC", [_uc("100.00", status="ok", confidence="unconfirmed")], {})
    assert only["text"].endswith("(this figure is not verified yet).")


def test_answers_come_one_per_benefit_with_tax_last():
    tax = _v(benefit="TAX", rule="TAX_TRADING", limit=Decimal("1000"), headroom=Decimal("900"))
    said = answers([tax, _v(), _v(status="near", headroom=Decimal("10"))], {})
    assert [a["code"] for a in said] == ["CA", "TAX"]
    assert said[0]["status"] == "near"


def test_span_text():
    assert span_text(date(2026, 12, 7), date(2026, 12, 13)) == "7 to 13 December 2026"
    assert span_text(date(2026, 11, 30), date(2026, 12, 6)) == "30 November to 6 December 2026"
    assert span_text(date(2026, 4, 6), date(2027, 4, 5)) == "6 April 2026 to 5 April 2027"
    assert span_text(date(2026, 4, 6), date(2026, 4, 6)) == "6 April 2026"


def _main(page: str) -> str:
    return page.split("<main", 1)[1].split("</main>", 1)[0]


def test_summary_says_planned_money_with_paid_money(app, client, login, make_person, rules):
    from tracker.engine import periods
    from tracker.timeutil import today

    pid = make_person("Casey Carer", claims=[CA])
    start, _ = periods.window("tax_year", today())
    with app.app_context():
        payment(pid, "1000.00", start)
        payment(pid, "200.00", start, status="approved")
        db.session.commit()
    login("contributor", person_id=pid)
    main = _main(client.get("/me/").get_data(as_text=True))
    after_h1 = main.split("</h1>", 1)[1].lstrip()
    assert after_h1.startswith('<ul class="answers"')
    assert "Paid to you this tax year £1,000.00, and £200.00\n  planned: together £1,200.00" in main
    assert (
        "£1,000.00 paid and £200.00 planned: together £1,200.00, "
        "so you are £200.00 over the £1,000.00 trading allowance" in main
    )
    assert main.index('class="answers"') < main.index("safeguard, not benefits advice")


def test_unverified_figures_are_marked():
    v = _v(
        benefit="ESA",
        title="ESA permitted work",
        total_after=Decimal("10"),
        limit=Decimal("20"),
        headroom=Decimal("10"),
        severity="warn",
        confidence="unconfirmed",
    )
    view = verdict_view(v)
    assert view["unverified"] and view["headroom"] == "£10.00" and view["status_word"] == "Within the limit"
    assert view["folded"]
    over = verdict_view(_v(**{**v.__dict__, "headroom": Decimal("-5"), "status": "over"}))
    assert over["over_by"] == "£5.00" and over["headroom"] is None and over["status_word"] == "Over the limit"
