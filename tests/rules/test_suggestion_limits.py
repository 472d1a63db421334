"""Suggestions an adviser would sign (issue 11, item 9): no further than the next two periods, no
part under £1, a charity payment never turned into training, the person's own kinds in their order,
and a bank transfer that arrives on a working day after the organisation's lead time."""

from datetime import date, timedelta
from decimal import Decimal as D

import holidays

from tracker.engine import core
from tracker.engine.core import Claim, Ledger, LedgerPayment, PayDays, ProposedPayment
from tracker.engine.pack import load_default_pack

RULES = load_default_pack()
CA = [Claim("CA", date(2020, 1, 1), None, {})]
UC_LCW = [
    Claim(
        "UC",
        date(2020, 1, 1),
        None,
        {
            "ap_start_day": 1,
            "lcw_pending": True,
            "joint_claim": False,
            "work_allowance": True,
            "housing_element": False,
        },
    )
]
WED = date(2025, 4, 9)  # Carer's Allowance weeks run Monday to Sunday: 7, 14, 21, 28 April 2025
ENGLAND = frozenset(holidays.country_holidays("GB", subdiv="ENG", years=range(2026, 2029)))


def pay(amount, on, kind="cash"):
    return LedgerPayment(kind, D(amount), on)


def by_kind(result):
    return {s.kind: s for s in result.suggestions}


def parts(result):
    return [p for s in result.suggestions for p in s.payments]


def test_defer_looks_no_further_than_the_next_two_periods():
    """The next two weeks are full; the third is empty, but putting money off three weeks is no answer."""
    full = Ledger(
        payments=(pay("100.00", date(2025, 4, 8)), pay("150.00", date(2025, 4, 14)), pay("150.00", date(2025, 4, 21)))
    )
    res = core.check(CA, RULES, full, [ProposedPayment("cash", D("150.00"), WED)], ["cash"])
    assert res.blocked
    assert "defer" not in by_kind(res)
    assert all(p.paid_on < date(2025, 4, 28) for p in parts(res)), res.suggestions
    room = Ledger(payments=(pay("100.00", date(2025, 4, 8)), pay("150.00", date(2025, 4, 14))))
    res = core.check(CA, RULES, room, [ProposedPayment("cash", D("150.00"), WED)], ["cash"])
    assert by_kind(res)["defer"].payments[0].paid_on == date(2025, 4, 21)  # the second week after is in reach


def test_reduce_never_leaves_a_remainder_under_one_pound():
    """£96.50 with £100 already paid: £96.00 fits (limit £196), which would leave 50p for later."""
    ledger = Ledger(payments=(pay("100.00", date(2025, 4, 8)),))
    res = core.check(CA, RULES, ledger, [ProposedPayment("cash", D("96.50"), WED)], ["cash"])
    reduce = by_kind(res)["reduce"]
    assert [(p.amount, p.paid_on) for p in reduce.payments] == [(D("95.50"), WED), (D("1.00"), date(2025, 4, 14))]
    assert all(p.amount >= D("1.00") for p in parts(res)), res.suggestions


def test_a_split_is_never_into_pennies():
    ledger = Ledger(payments=(pay("196.00", date(2025, 4, 8)),))
    res = core.check(CA, RULES, ledger, [ProposedPayment("cash", D("1.50"), WED)], ["cash"])
    assert res.blocked
    assert "split" not in by_kind(res)
    assert all(p.amount >= D("1.00") for p in parts(res)), res.suggestions


def test_a_charity_payment_is_never_switched_to_training():
    ledger = Ledger(payments=(pay("100.00", date(2025, 4, 8)),))
    res = core.check(CA, RULES, ledger, [ProposedPayment("charity", D("150.00"), WED)], ["charity", "training"])
    assert res.blocked
    assert all(p.kind == "charity" for p in parts(res)), res.suggestions
    # the same money as cash may be taken as training instead
    res = core.check(CA, RULES, ledger, [ProposedPayment("cash", D("150.00"), WED)], ["cash", "training"])
    assert by_kind(res)["switch_kind"].payments[0].kind == "training"


def test_switch_follows_the_persons_own_order():
    """Neither vouchers nor training count for Universal Credit: the person's first choice is offered."""
    ledger = Ledger(payments=(pay("800.00", date(2025, 6, 2)),))
    prop = ProposedPayment("cash", D("100.00"), date(2025, 6, 10))
    first = core.check(UC_LCW, RULES, ledger, [prop], ["cash", "voucher", "training"])
    assert by_kind(first)["switch_kind"].payments[0].kind == "voucher"
    first = core.check(UC_LCW, RULES, ledger, [prop], ["cash", "training", "voucher"])
    assert by_kind(first)["switch_kind"].payments[0].kind == "training"


def _open(d):
    return d.weekday() < 5 and d not in ENGLAND


def test_bank_transfer_arrives_on_a_working_day_after_the_lead_time_around_christmas():
    """Today Monday 21 December 2026, three working days' lead: 24 December at the earliest; the next
    week starts on the Boxing Day holiday (Monday 28), so its first working day is Tuesday 29."""
    today = date(2026, 12, 21)
    ledger = Ledger(payments=(pay("150.00", today, "bank_transfer"),))
    prop = ProposedPayment("bank_transfer", D("150.00"), date(2026, 12, 22))
    res = core.check(CA, RULES, ledger, [prop], ["bank_transfer"], today=today, pay_days=PayDays(ENGLAND, 3))
    assert res.blocked and res.suggestions
    for p in parts(res):
        assert _open(p.paid_on) and p.paid_on >= date(2026, 12, 24), res.suggestions
    assert by_kind(res)["defer"].payments[0].paid_on == date(2026, 12, 29)
    split = by_kind(res)["split"].payments
    assert [p.paid_on for p in split] == [date(2026, 12, 24), date(2026, 12, 29), date(2027, 1, 4)]


def test_bank_transfer_lead_time_skips_easter():
    """Today Wednesday 24 March 2027: Thursday 25, then Good Friday, the weekend and Easter Monday are
    closed, so three working days on is Wednesday 31 March."""
    today = date(2027, 3, 24)
    ledger = Ledger(payments=(pay("180.00", date(2027, 3, 22)),))
    prop = ProposedPayment("cash", D("150.00"), today)
    res = core.check(CA, RULES, ledger, [prop], ["cash", "bank_transfer"], today=today, pay_days=PayDays(ENGLAND, 3))
    # cash can be handed over on the day; a bank transfer cannot arrive before 31 March
    assert PayDays(ENGLAND, 3).first_after_lead(today) == date(2027, 3, 31)
    transfers = [p for p in parts(res) if p.kind == "bank_transfer"]
    assert all(_open(p.paid_on) and p.paid_on >= date(2027, 3, 31) for p in transfers), res.suggestions


def test_a_cash_payment_keeps_its_own_dates():
    """Weekends and lead time are for transfers: a cash defer still names the start of the next week."""
    today = date(2026, 12, 21)
    ledger = Ledger(payments=(pay("150.00", today),))
    res = core.check(
        CA,
        RULES,
        ledger,
        [ProposedPayment("cash", D("150.00"), today + timedelta(days=1))],
        ["cash"],
        today=today,
        pay_days=PayDays(ENGLAND, 3),
    )
    assert by_kind(res)["defer"].payments[0].paid_on == date(2026, 12, 28)
