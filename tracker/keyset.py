"""Keyset (cursor) pages for the lists: each page starts where the last one ended, read from an
index on the list's order, so a page costs the same at row 50 and at row 100,000 and nothing
counts the whole table.

A list is ordered by one column then the id, both the same way (``Order``); a cursor carries the
last row's values of both, signed with the app's secret so that a client cannot hand-craft one
(a cursor made for another list or another order, or altered, is a 422 on ``cursor``). The next
page is then ``WHERE (column, id) < (value, id)`` (``>`` when ascending), a range on the index.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.vocab import MAX_CURSOR, MAX_PAGE

BAD_CURSOR = "This link to the next page is not valid for this list; start again from the first page."
_SALT = "tracker.list-cursor"


@dataclass(frozen=True)
class Order:
    """A list's order: ``column`` then ``id``, descending or not; ``value_of`` reads the column's
    value from a row of the list (for the cursor); ``name`` tells one list and order from another."""

    name: str
    column: Any
    id: Any
    descending: bool
    value_of: Callable[[Any], Any]

    def by(self) -> tuple:
        """The ORDER BY clauses."""
        if self.descending:
            return self.column.desc(), self.id.desc()
        return self.column, self.id

    def after(self, value: Any, row_id: int) -> Any:
        """The WHERE clause for the rows after (value, row_id) in this order."""
        pair = sa.tuple_(self.column, self.id)
        bound = sa.tuple_(sa.literal(value, self.column.type), sa.literal(row_id, self.id.type))
        return pair < bound if self.descending else pair > bound


@dataclass(frozen=True)
class Args:
    """What a list request asks for: a page number or a cursor, rows a page, and whether to count
    them (``payments.queries.Filters`` adds the filters)."""

    page: int = 1
    per_page: int = 50
    cursor: str | None = None
    count: bool = False


class PageNumbers:
    """The page numbers a pager links to (``page`` is the page shown)."""

    page: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


@dataclass
class Page:
    """One page of a list: its rows, and the cursor of the page after it (None on the last)."""

    items: list
    next_cursor: str | None
    total: int | None = None


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _dump(value: Any) -> list:
    if isinstance(value, date):
        return ["d", value.isoformat()]
    if isinstance(value, Decimal):
        return ["m", str(value)]
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"a list cannot be ordered by {type(value).__name__}")
    return ["i" if isinstance(value, int) else "s", value]


def _load(tagged: Any) -> Any:
    kind, raw = tagged
    if kind == "d":
        return date.fromisoformat(raw)
    if kind == "m":
        return Decimal(raw)
    if (kind == "i" and type(raw) is int) or (kind == "s" and isinstance(raw, str)):
        return raw
    raise ValueError("unknown value")


def encode(order: Order, row: Any) -> str:
    return _serializer().dumps([order.name, _dump(order.value_of(row)), row.id])


def decode(order: Order, cursor: str) -> tuple[Any, int]:
    """The (value, id) a cursor carries; a 422 on ``cursor`` when it is not one of ours for this order."""
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError("too long")
        name, tagged, row_id = _serializer().loads(cursor)
        if name != order.name or type(row_id) is not int:
            raise ValueError("another list")
        return _load(tagged), row_id
    except (BadData, ValueError, TypeError, InvalidOperation):
        raise ValidationFailed({"cursor": [BAD_CURSOR]}) from None


def read_page(q: sa.Select, order: Order, *, per_page: int, cursor: str | None = None, page: int = 1) -> Page:
    """One page of ``q`` (already ordered by ``order``): after the cursor if there is one, else
    page ``page`` (kept for older clients; the cursor is the cheap way on). One row more than the
    page is read to know whether there is a next page."""
    if cursor:
        value, row_id = decode(order, cursor)
        q = q.where(order.after(value, row_id))
    else:
        q = q.offset((min(max(page, 1), MAX_PAGE) - 1) * per_page)
    rows = list(db.session.scalars(q.limit(per_page + 1)).unique())
    more = len(rows) > per_page
    items = rows[:per_page]
    return Page(items, encode(order, items[-1]) if more else None)


@dataclass
class ListPage(PageNumbers):
    """A page of a list page (HTML), for the shared pager (templates/_lists.html): "Previous page"
    goes back by page number, "Next page" on by the cursor (the page number rides along for "Page
    N"). ``total`` is the count the page shows, or None (then it shows no "of M")."""

    items: list
    page: int
    next_cursor: str | None
    per_page: int = 50
    total: int | None = None

    @property
    def pages(self) -> int:
        """How many pages (only with a total)."""
        return max(1, -(-(self.total or 0) // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


def list_page(q: sa.Select, order: Order, f: Args, *, count: bool = True) -> ListPage:
    """A page for a list page; ``count`` when the page shows how many rows match."""
    result = read_page(q, order, per_page=f.per_page, cursor=f.cursor, page=f.page)
    return ListPage(result.items, f.page, result.next_cursor, f.per_page, count_of(q) if count else None)


def count_of(q: sa.Select) -> int:
    """How many rows ``q`` selects (only when a client asks: it reads every matching row)."""
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(q.order_by(None).subquery())) or 0)


def list_args(args: Mapping[str, str], errors: dict[str, list[str]]) -> tuple[str | None, bool]:
    """The ``cursor`` and ``count`` arguments of a list (errors go into ``errors``)."""
    cursor = args.get("cursor") or None
    if cursor is not None and len(cursor) > MAX_CURSOR:
        errors["cursor"] = [BAD_CURSOR]
        cursor = None
    raw = (args.get("count") or "false").lower()
    if raw not in ("true", "false", "1", "0"):
        errors["count"] = ["Use true or false."]
    return cursor, raw in ("true", "1")


def number(args: Mapping[str, str], name: str, default: int, high: int, errors: dict[str, list[str]]) -> int:
    """A whole number argument from 1 to ``high`` (``default`` when not given; errors go into ``errors``)."""
    raw = args.get(name)
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        errors[name] = [f"Use a number from 1 to {high}."]
        return default
    return int(raw)


def next_link(
    path: str, args: Mapping[str, str], cursor: str | None, drop: Sequence[str] = ("page", "count")
) -> str | None:
    """The address of the next page: the same filters, the cursor instead of a page number."""
    if cursor is None:
        return None
    kept = [(k, v) for k, v in args.items() if k not in (*drop, "cursor")]
    return f"{path}?{urlencode([*kept, ('cursor', cursor)])}"
