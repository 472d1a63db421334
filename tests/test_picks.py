from types import SimpleNamespace

from tracker.picks import pick


def test_pick_copies_the_named_attributes_in_order():
    obj = SimpleNamespace(a=1, b="two", c=None)
    assert list(pick(obj, ("c", "a")).items()) == [("c", None), ("a", 1)]


def test_pick_of_nothing_is_empty():
    assert pick(object(), ()) == {}


def test_plain_makes_values_ready_for_json():
    from datetime import date, datetime
    from decimal import Decimal

    from tracker.money import money_str
    from tracker.picks import plain

    value = {1: [Decimal("2.5"), date(2025, 4, 7)], "at": (datetime(2025, 4, 7, 9, 30),), "n": None}
    assert plain(value) == {"1": ["2.5", "2025-04-07"], "at": ["2025-04-07T09:30:00"], "n": None}
    assert plain(Decimal("2.5"), money_str) == "2.50"
