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
FILTER_LABELS = {
    "person_id": "Person",
    "activity_id": "Activity",
    "status": "Status",
    "kind": "Kind",
    "from": "From date",
    "to": "To date",
}


def _person_name(row) -> str | None:
    return row.person.name if row.person is not None else None


PAYMENT_COLUMNS = [
    Column("id", lambda p: p.id, "int", 8),
    Column("person_id", lambda p: p.person_id, "int", 10),
    Column("person", _person_name, "text", 28),
    Column("kind", lambda p: p.kind, "text", 14),
    Column("amount", lambda p: p.amount, "money", 12),
    Column("benefit_value", lambda p: p.benefit_value, "money", 14),
    Column("currency", lambda p: p.currency, "text", 9),
    Column("status", lambda p: p.status, "text", 11),
    Column("due_on", lambda p: p.due_on, "date", 12),
    Column("paid_on", lambda p: p.paid_on, "date", 12),
    Column("worked_on", lambda p: p.worked_on, "date", 12),
    Column("method", lambda p: p.method, "text", 16),
    Column("reference", lambda p: p.reference, "text", 18),
    Column("note", lambda p: p.note, "text", 40),
    Column("charity_name", lambda p: p.charity_name, "text", 20),
    Column("reversal_of", lambda p: p.reversal_of_id, "int", 12),
    Column("reason", lambda p: p.reason, "text", 40),
]

CONTRIBUTION_COLUMNS = [
    Column("id", lambda c: c.id, "int", 8),
    Column("person_id", lambda c: c.person_id, "int", 10),
    Column("person", _person_name, "text", 28),
    Column("worked_on", lambda c: c.worked_on, "date", 12),
    Column("activity_id", lambda c: c.activity_id, "int", 11),
    Column("activity", lambda c: c.activity.name if c.activity is not None else None, "text", 28),
    Column("hours", lambda c: c.hours, "decimal", 8),
    Column("preparation_hours", lambda c: c.preparation_hours, "decimal", 17),
    Column("role", lambda c: c.role, "text", 16),
    Column("description", lambda c: c.description, "text", 40),
    Column("value_owed", lambda c: c.value_owed, "money", 12),
]

EXPENSE_COLUMNS = [
    Column("id", lambda e: e.id, "int", 8),
    Column("person_id", lambda e: e.person_id, "int", 10),
    Column("person", _person_name, "text", 28),
    Column("amount", lambda e: e.amount, "money", 12),
    Column("currency", lambda e: e.currency, "text", 9),
    Column("incurred_on", lambda e: e.incurred_on, "date", 12),
    Column("paid_on", lambda e: e.paid_on, "date", 12),
    Column("description", lambda e: e.description, "text", 40),
    Column("receipt_ref", lambda e: e.receipt_ref, "text", 16),
    Column("service_user_context", lambda e: e.service_user_context, "text", 20),
]


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
    problems = [(FILTER_LABELS.get(name, name), message) for name, messages in e.fields.items() for message in messages]
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
