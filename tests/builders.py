"""Test data: one factory for each kind of row the tests need.

Each builder makes its row through the ORM models (test data, not the app's services: no audit
trail, no checks beyond the database's own), adds it to the session, flushes and returns it. Like
every writer of a ledger row in the app, the builders of claims, contributions, payments, expenses
and other income raise the ledger event (``tracker.rules.ledger.changed``) in the same flush. The
caller commits, as it would after calling a service. Call them inside an app context; ``saved``
wraps one builder in its own context and transaction when a test only needs the new row's id.

People, payments and the other rows take either the row or its id wherever they refer to another
row. Money is Decimal: an amount given as text is read as Decimal, anything else is stored as
given (so a test can show that the column refuses a float).

The module also holds the small helpers several test modules share (the JSON API client, its error
assertion, a row count): tests import them from here, never from one another.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa

from tracker.auth.models import ApiToken, User
from tracker.auth.passwords import hash_password
from tracker.auth.service import TOKEN_PREFIX, hash_token
from tracker.contributions.models import Activity, Contribution
from tracker.extensions import db
from tracker.payments.models import Expense, OtherIncome, Payment
from tracker.people.benefits import normalise_attributes
from tracker.people.models import BenefitClaim, Consent, PartnerEarning, Person, Preference
from tracker.rules import ledger

PASSWORD = "correct horse battery"
#: The test apps' earnings signing key: base64 of 32 raw Ed25519 private key bytes (not secret).
TEST_EARNINGS_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
CONSENT_ON = date(2024, 1, 1)
CLAIM_START = date(2024, 1, 1)
PAID_ON = date(2025, 4, 9)  # a Wednesday: the Carer's Allowance week runs 7 to 13 April 2025
CA = {"benefit": "CA", "start_on": CLAIM_START}

Row = TypeVar("Row")
Ref = Any  # a row or its id


def _id(ref: Ref) -> int | None:
    """The id of a row given as the row itself or as its id."""
    return getattr(ref, "id", ref)


def _money(amount: Any) -> Any:
    return Decimal(amount) if isinstance(amount, str) else amount


def _flushed(row: Row) -> Row:
    db.session.add(row)
    db.session.flush()
    return row


def _ledger_row(row: Row, *, claim: bool = False) -> Row:
    """Flush a row of someone's ledger and raise the ledger event for them, as the app's writers do."""
    _flushed(row)
    (ledger.claims_changed if claim else ledger.changed)(db.session, [row.person_id])  # type: ignore[attr-defined]
    return row


def saved(app: Any, build: Callable[..., Any], *args: Any, **kw: Any) -> int:
    """Build one row in its own app context, commit it and return its id."""
    with app.app_context():
        row = build(*args, **kw)
        db.session.commit()
        return row.id


# ---- people ---------------------------------------------------------------------------------


def person(
    name: str = "Alex Example",
    *,
    email: str | None = None,
    preferences: Iterable[Any] = (),
    consent: bool = True,
    claims: Iterable[dict] = (),
    **fields: Any,
) -> Person:
    """A person; with consent to hold benefit information (given 1 January 2024) unless told not.

    ``preferences`` are kinds or {"kind", "note"} dicts in order; ``claims`` are dicts of
    ``claim`` keyword arguments (benefit, start_on, end_on, attributes)."""
    row = _flushed(Person(name=name, email=email, **fields))
    for position, pref in enumerate(preferences):
        pref = {"kind": pref} if isinstance(pref, str) else pref
        db.session.add(Preference(person_id=row.id, position=position, kind=pref["kind"], note=pref.get("note")))
    if consent:
        db.session.add(Consent(person_id=row.id, given_on=CONSENT_ON, notice_version="v1"))
    for c in claims:
        claim(row, **c)
    db.session.flush()
    db.session.refresh(row)
    return row


_new_person = person  # for builders whose own argument is called ``person``


def claim(
    person: Ref,
    benefit: str = "CA",
    start_on: date = CLAIM_START,
    end_on: date | None = None,
    attributes: dict | None = None,
) -> BenefitClaim:
    """A benefit claim; its attributes are checked and completed with their defaults."""
    return _ledger_row(
        BenefitClaim(
            person_id=_id(person),
            benefit=benefit,
            start_on=start_on,
            end_on=end_on,
            attributes=normalise_attributes(benefit, attributes),
        ),
        claim=True,
    )


# ---- work -----------------------------------------------------------------------------------


def activity(name: str = "Panel", *, default_rate: Decimal | str = Decimal("20.00"), **fields: Any) -> Activity:
    return _flushed(Activity(name=name, default_rate=_money(default_rate), **fields))


def contribution(
    person: Ref,
    worked_on: date = date(2025, 4, 2),
    hours: Decimal | str = Decimal("2.00"),
    *,
    activity: Ref = None,
    value_owed: Decimal | str | None = None,
    **fields: Any,
) -> Contribution:
    if value_owed is not None:
        fields["value_owed"] = _money(value_owed)
    return _ledger_row(
        Contribution(
            person_id=_id(person), activity_id=_id(activity), worked_on=worked_on, hours=_money(hours), **fields
        )
    )


# ---- money ----------------------------------------------------------------------------------


def payment(
    person: Ref,
    amount: Decimal | str = Decimal("50.00"),
    paid_on: date = PAID_ON,
    *,
    kind: str = "cash",
    status: str = "paid",
    recorded_by: Ref = None,
    approved_by: Ref = None,
    reversal_of: Ref = None,
    contributions: Iterable[Contribution] = (),
    **fields: Any,
) -> Payment:
    """A payment in the ledger: by default £50.00 cash, paid on Wednesday 9 April 2025."""
    for name, value in (
        ("recorded_by_id", recorded_by),
        ("approved_by_id", approved_by),
        ("reversal_of_id", reversal_of),
    ):
        if value is not None:
            fields[name] = _id(value)
    for name in ("amount_offered", "benefit_value"):
        if name in fields:
            fields[name] = _money(fields[name])
    row = Payment(person_id=_id(person), kind=kind, amount=_money(amount), paid_on=paid_on, status=status, **fields)
    row.contributions = list(contributions)
    return _ledger_row(row)


def expense(
    person: Ref,
    amount: Decimal | str = Decimal("12.40"),
    incurred_on: date = date(2025, 4, 2),
    paid_on: date | None = None,
    *,
    description: str = "Bus fare",
    **fields: Any,
) -> Expense:
    """An expense reimbursed; paid on the day it was incurred unless told otherwise."""
    return _ledger_row(
        Expense(
            person_id=_id(person),
            amount=_money(amount),
            incurred_on=incurred_on,
            paid_on=paid_on or incurred_on,
            description=description,
            **fields,
        )
    )


def other_income(
    person: Ref,
    amount: Decimal | str = Decimal("10.00"),
    received_on: date = date(2025, 4, 1),
    *,
    source: str = "Another job",
    **fields: Any,
) -> OtherIncome:
    return _ledger_row(
        OtherIncome(person_id=_id(person), amount=_money(amount), received_on=received_on, source=source, **fields)
    )


def partner_earning(
    person: Ref, amount: Decimal | str = Decimal("300.00"), received_on: date = date(2025, 4, 1), **fields: Any
) -> PartnerEarning:
    """A partner's earnings recorded on the person (counted only by household rules)."""
    return _ledger_row(PartnerEarning(person_id=_id(person), amount=_money(amount), received_on=received_on, **fields))


# ---- users ----------------------------------------------------------------------------------


def user(
    role: str = "coordinator",
    *,
    email: str | None = None,
    person: Ref = None,
    password: str | None = PASSWORD,
    **fields: Any,
) -> User:
    """A user of any role, signing in with PASSWORD; a contributor gets a person of their own."""
    if role == "contributor" and person is None:
        person = _new_person("Contributor Person", consent=False)
    return _flushed(
        User(
            email=email or f"{role}-{os.urandom(3).hex()}@example.org",
            role=role,
            person_id=_id(person),
            password_hash=hash_password(password) if password else None,
            **fields,
        )
    )


def token(user: Ref, label: str | None = None) -> str:
    """An API token for the user; returns the secret (only its hash is stored)."""
    secret = TOKEN_PREFIX + os.urandom(24).hex()
    _flushed(ApiToken(user_id=_id(user), token_hash=hash_token(secret), label=label))
    return secret


# ---- shared helpers -------------------------------------------------------------------------


def pay(person_id: int, amount: str, paid_on: str = "2025-04-09", kind: str = "cash", **extra: Any) -> dict:
    """The JSON body of a payment for the API."""
    return {"person_id": person_id, "kind": kind, "amount": amount, "paid_on": paid_on, **extra}


def count(app: Any, model: Any) -> int:
    """How many rows the model's table holds."""
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def assert_error(resp: Any, status: int, code: str | None = None, field: str | None = None) -> None:
    """The response is the API's error body, with this status (and code, and a message for the field)."""
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"error"}
    assert {"code", "message", "fields"} <= set(body["error"])
    if code:
        assert body["error"]["code"] == code
    if field:
        assert field in body["error"]["fields"], body["error"]["fields"]
        assert all(isinstance(m, str) and m for m in body["error"]["fields"][field])


def finance_tokens(app: Any, n: int) -> list[str]:
    """The API tokens of ``n`` new finance users, committed."""
    with app.app_context():
        out = [token(user("finance")) for _ in range(n)]
        db.session.commit()
    return out


def at_once(app: Any, tokens: list[str], path: str, body: Any) -> list[int]:
    """POST the same body to the API from one client per token at the same moment; the status codes, sorted."""
    barrier = threading.Barrier(len(tokens))
    codes: list[int] = []

    def go(secret: str) -> None:
        client = app.test_client()
        barrier.wait()
        codes.append(Api(client, secret).post(path, json=body).status_code)

    threads = [threading.Thread(target=go, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted(codes)


class Api:
    """A small client for the JSON API as one user."""

    def __init__(self, client: Any, token: str) -> None:
        self.client, self.token = client, token

    def _h(self, headers: dict | None = None) -> dict:
        h = {"Authorization": f"Bearer {self.token}"}
        h.update(headers or {})
        return h

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get("/api/v1" + path, headers=self._h(kw.pop("headers", None)), **kw)

    def post(self, path: str, json: Any = None, headers: dict | None = None, **kw: Any) -> Any:
        return self.client.post("/api/v1" + path, json=json, headers=self._h(headers), **kw)

    def put(self, path: str, json: Any = None, headers: dict | None = None, **kw: Any) -> Any:
        return self.client.put("/api/v1" + path, json=json, headers=self._h(headers), **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.client.delete("/api/v1" + path, headers=self._h(kw.pop("headers", None)), **kw)


# ---- counting SQL statements ---------------------------------------------------------------


@contextmanager
def counting(app: Any) -> Any:
    """Collect the SQL statements sent while the block runs."""
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split())[:160])

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)


def assert_same(small: list[str], large: list[str], what: str) -> None:
    assert len(small) == len(large), (
        f"{what}: {len(small)} SQL statements with little data but {len(large)} with more data "
        "(an N+1?)\n--- small:\n" + "\n".join(small) + "\n--- large:\n" + "\n".join(large)
    )


def stored_copies(store, digest: str) -> list[str]:
    """The names of the stored files whose name starts with ``digest``, in a local folder or an S3
    bucket (a document is stored once, so one is expected)."""
    if hasattr(store, "path_for"):
        folder = store.root / digest[:2]
        return sorted(f.name for f in folder.iterdir() if f.name.startswith(digest)) if folder.is_dir() else []
    listed = store.client.list_objects_v2(Bucket=store.bucket, Prefix=store.prefix + digest)
    return sorted(item["Key"].removeprefix(store.prefix) for item in listed.get("Contents", []))


def date_boxes(name: str, value: str) -> dict[str, str]:
    """A date as a page's GOV.UK date input posts it: ``NAME-day``, ``NAME-month``, ``NAME-year``
    (from "2025-04-09"). Text that is not shaped like a date goes as one ``NAME`` field, as a link
    or a bookmark would send it."""
    parts = value.split("-")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        year, month, day = parts
        return {f"{name}-day": day, f"{name}-month": month, f"{name}-year": year}
    return {name: value}
