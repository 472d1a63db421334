from types import SimpleNamespace

from tracker.picks import pick


def test_pick_copies_the_named_attributes_in_order():
    obj = SimpleNamespace(a=1, b="two", c=None)
    assert list(pick(obj, ("c", "a")).items()) == [("c", None), ("a", 1)]


def test_pick_of_nothing_is_empty():
    assert pick(object(), ()) == {}
