"""CSV and XLSX downloads of payments, contributions and expenses.

Each download takes the same filter arguments as the lists (person_id, activity_id, status, kind,
from, to) and runs the same query (tracker.payments.queries), so it holds exactly the rows the list
shows: every matching row, not one page (page and per_page are ignored). Rows are read from the
database in batches (yield_per); the CSV is streamed, the XLSX is built in memory. On SQLite,
100,000 payments take about 8 seconds as CSV and about 20 as XLSX.

| method and path | endpoint | roles |
| --- | --- | --- |
| GET /exports/payments.csv, .xlsx | exports.payments_csv, .payments_xlsx | admin, finance |
| GET /exports/contributions.csv, .xlsx | exports.contributions_csv, .contributions_xlsx | admin, finance, coordinator |
| GET /exports/expenses.csv, .xlsx | exports.expenses_csv, .expenses_xlsx | admin, finance |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter

import sqlalchemy as sa
from flask import Response, render_template, request, stream_with_context

from tracker.auth.access import roles_required
from tracker.errors import ValidationFailed
from tracker.exports import bp
from tracker.exports.writers import CSV_MIME, XLSX_MIME, Column, csv_chunks, xlsx_bytes
from tracker.extensions import db
from tracker.payments import queries
from tracker.timeutil import today
from tracker.vocab import FINANCE_ROLES, MAX_ID, STAFF_ROLES

BATCH = 1000
# Query arguments that only choose a page of a list: an export always holds every matching row.
PAGING = ("page", "per_page")
# Where to go back to, to change the filters.
LISTS = {"payments": "payments.index", "contributions": "contributions.index"}
FILTER_DATES = {"from": "From date", "to": "To date"}


def _filter_label(name: str) -> str:
    """person_id -> Person; from -> From date."""
    return FILTER_DATES.get(name, name.removesuffix("_id").capitalize())


def _person_name(row) -> str | None:
    return row.person.name if row.person is not None else None


def _activity_name(row) -> str | None:
    return row.activity.name if row.activity is not None else None


#: Each column's kind and width (a field has the same ones in every download).
FORMATS = {
    "id": ("int", 8),
    "person_id": ("int", 10),
    "person": ("text", 28),
    "kind": ("text", 14),
    "amount": ("money", 12),
    "benefit_value": ("money", 14),
    "currency": ("text", 9),
    "status": ("text", 11),
    "due_on": ("date", 12),
    "paid_on": ("date", 12),
    "worked_on": ("date", 12),
    "covers_from": ("date", 12),
    "covers_to": ("date", 12),
    "method": ("text", 16),
    "reference": ("text", 18),
    "note": ("text", 40),
    "charity_name": ("text", 20),
    "reversal_of": ("int", 12),
    "reason": ("text", 40),
    "activity_id": ("int", 11),
    "activity": ("text", 28),
    "hours": ("decimal", 8),
    "preparation_hours": ("decimal", 17),
    "role": ("text", 16),
    "description": ("text", 40),
    "value_owed": ("money", 12),
    "incurred_on": ("date", 12),
    "receipt_ref": ("text", 16),
    "service_user_context": ("text", 20),
}
#: How to read the columns that are not simply the attribute of the same name.
GETTERS: dict[str, Callable[[object], object]] = {
    "person": _person_name,
    "activity": _activity_name,
    "reversal_of": attrgetter("reversal_of_id"),
}


def _columns(*names: str) -> list[Column]:
    return [Column(name, GETTERS.get(name) or attrgetter(name), *FORMATS[name]) for name in names]


OWNER = ("id", "person_id", "person")
PAYMENT_COLUMNS = _columns(*OWNER, "kind", "amount", "benefit_value", "currency", "status", "due_on", "paid_on")
PAYMENT_COLUMNS += _columns("worked_on", "covers_from", "covers_to", "method", "reference", "note", "charity_name")
PAYMENT_COLUMNS += _columns("reversal_of", "reason")
CONTRIBUTION_COLUMNS = _columns(*OWNER, "worked_on", "activity_id", "activity", "hours", "preparation_hours", "role")
CONTRIBUTION_COLUMNS += _columns("description", "value_owed")
EXPENSE_COLUMNS = _columns(*OWNER, "amount", "currency", "incurred_on", "paid_on", "description", "receipt_ref")
EXPENSE_COLUMNS += _columns("service_user_context")


def _filters() -> queries.Filters:
    args = {k: v for k, v in request.args.items() if k not in PAGING}
    f = queries.parse_filters(args)
    # parse_filters has no upper bound; a number beyond a database integer is an error, not a 500.
    too_big = {
        name: ["There is no record with this number."]
        for name, value in (("person_id", f.person_id), ("activity_id", f.activity_id))
        if value is not None and value > MAX_ID
    }
    if too_big:
        raise ValidationFailed(too_big)
    return f


def _bad_filters(e: ValidationFailed, what: str):
    problems = [(_filter_label(name), message) for name, messages in e.fields.items() for message in messages]
    back = LISTS.get(what.lower(), "home.index")
    return render_template("exports/bad_filters.html", what=what, problems=problems, back=back), 422


def _rows(query):
    """Every row of the query, fetched from the database in batches of BATCH.

    A generator: for the streamed CSV the query runs only when the response is being sent."""
    yield from db.session.scalars(query.execution_options(yield_per=BATCH))


def _filename(what: str, ext: str) -> str:
    return f"{what}-{today().isoformat()}.{ext}"


def _download(body, mimetype: str, filename: str) -> Response:
    resp = Response(body, content_type=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _export(export: Export, fmt: str):
    try:
        f = _filters()
    except ValidationFailed as e:
        return _bad_filters(e, export.title)
    query = export.build_query(f)
    if fmt == "csv":
        body = stream_with_context(csv_chunks(export.columns, _rows(query)))
        return _download(body, CSV_MIME, _filename(export.what, "csv"))
    data = xlsx_bytes(export.columns, _rows(query), sheet_title=export.title)
    return _download(data, XLSX_MIME, _filename(export.what, "xlsx"))


@dataclass(frozen=True)
class Export:
    """One list that can be downloaded, as CSV and as XLSX."""

    what: str
    title: str
    columns: list[Column]
    build_query: Callable[[queries.Filters], sa.Select]
    roles: tuple[str, ...]

    def view(self, fmt: str) -> Callable[[], Response]:
        """The view of one format: GET /exports/<what>.<fmt>, endpoint exports.<what>_<fmt>."""

        def download() -> Response:
            return _export(self, fmt)

        download.__name__ = f"{self.what}_{fmt}"
        return roles_required(*self.roles)(download)


EXPORTS = (
    Export("payments", "Payments", PAYMENT_COLUMNS, queries.payments_query, FINANCE_ROLES),
    Export("contributions", "Contributions", CONTRIBUTION_COLUMNS, queries.contributions_query, STAFF_ROLES),
    Export("expenses", "Expenses", EXPENSE_COLUMNS, queries.expenses_query, FINANCE_ROLES),
)

for _one in EXPORTS:
    for _fmt in ("csv", "xlsx"):
        bp.add_url_rule(f"/{_one.what}.{_fmt}", f"{_one.what}_{_fmt}", _one.view(_fmt), methods=["GET"])
