"""A person's bank details: validated, encrypted at rest, shown masked, every view and change audited.

Services flush, never commit; they take the actor and never read ``current_user``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from tracker.audit import service as audit
from tracker.auth.models import User
from tracker.errors import Conflict, ValidationFailed
from tracker.extensions import db
from tracker.notify import service as notify
from tracker.people.models import Person
from tracker.runs import crypto
from tracker.runs.models import BankAccount

ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9 .&/\-]+$")
#: Six digits, alone or in pairs split the same way each time (12-34-56, 12 34 56).
SORT_CODE = re.compile(r"[0-9]{6}|[0-9]{2}-[0-9]{2}-[0-9]{2}|[0-9]{2} [0-9]{2} [0-9]{2}")
ACCOUNT_NUMBER = re.compile(r"[0-9]{8}")
NAME_MAX = 18  # what a Bacs record holds
STAFF_WHO_SEE = ("admin", "finance")


@dataclass(frozen=True)
class BankDetails:
    account_name: str
    sort_code: str  # six digits
    account_number: str  # eight digits

    def masked(self) -> dict:
        return {
            "account_name": self.account_name,
            "sort_code": "**-**-" + self.sort_code[4:],
            "account_number": "****" + self.account_number[4:],
        }

    @property
    def sort_code_text(self) -> str:
        return f"{self.sort_code[:2]}-{self.sort_code[2:4]}-{self.sort_code[4:]}"


def _name_errors(name: str) -> list[str]:
    if not name:
        return ["Enter the name on the account."]
    if len(name) > NAME_MAX:
        return [f"Use {NAME_MAX} characters or fewer: a bank payment file holds no more."]
    if not ACCOUNT_NAME.match(name):
        return ["Use only letters, digits, spaces and . - / &."]
    return []


def _sort_code_errors(raw: str, digits: str) -> list[str]:
    if not raw:
        return ["Enter the sort code, like 12-34-56."]
    if not SORT_CODE.fullmatch(raw) or len(digits) != 6:
        return ["A sort code is 6 digits, like 12-34-56."]
    return []


def _account_errors(number: str) -> list[str]:
    if not number:
        return ["Enter the account number."]
    if not (number.isascii() and number.isdigit()):
        return ["An account number is digits only."]
    if len(number) != 8:
        return ["A UK account number is 8 digits. If yours is shorter, ask your bank for the 8-digit form."]
    return []


def parse_bank_details(data: Mapping) -> BankDetails:
    """Check and normalise account name, sort code and account number; ValidationFailed per field."""
    name = " ".join(str(data.get("account_name") or "").split())
    raw_sort = str(data.get("sort_code") or "").strip()
    digits = raw_sort.replace("-", "").replace(" ", "")
    number = str(data.get("account_number") or "").strip()
    errors = {
        field: messages
        for field, messages in (
            ("account_name", _name_errors(name)),
            ("sort_code", _sort_code_errors(raw_sort, digits)),
            ("account_number", _account_errors(number)),
        )
        if messages
    }
    if errors:
        raise ValidationFailed(errors)
    return BankDetails(account_name=name, sort_code=digits, account_number=number)


def _unavailable(e: crypto.KeysMissing) -> Conflict:
    return Conflict(str(e), code="bank_details_unavailable")


def _seal(details: BankDetails) -> str:
    plain = json.dumps(
        {
            "account_name": details.account_name,
            "sort_code": details.sort_code,
            "account_number": details.account_number,
        },
        separators=(",", ":"),
    )
    try:
        return crypto.encrypt(plain)
    except crypto.KeysMissing as e:
        raise _unavailable(e) from None


def _open(account: BankAccount) -> BankDetails:
    try:
        return BankDetails(**json.loads(crypto.decrypt(account.secret)))
    except crypto.KeysMissing as e:
        raise _unavailable(e) from None


def account_for(person_id: int) -> BankAccount | None:
    return db.session.scalar(sa.select(BankAccount).where(BankAccount.person_id == person_id))


def details_for(person_ids: Iterable[int]) -> dict[int, BankDetails]:
    """Decrypted details for many people in one query (a run's file)."""
    ids = list(set(person_ids))
    if not ids:
        return {}
    rows = db.session.scalars(sa.select(BankAccount).where(BankAccount.person_id.in_(ids)))
    return {row.person_id: _open(row) for row in rows}


def view_bank_details(person: Person, *, actor, where: str) -> BankDetails | None:
    """The person's details for showing (masked by the caller); a staff view is audited."""
    account = account_for(person.id)
    details = _open(account) if account is not None else None
    if getattr(actor, "role", None) != "contributor":
        audit.record(
            actor,
            "bank_account.viewed",
            account,
            person_id=person.id,
            entity_type="bank_account",
            entity_id=account.id if account else None,
            after={"where": where, "held": details is not None},
        )
    return details


def save_bank_details(person: Person, details: BankDetails, *, actor, now: datetime) -> BankAccount:
    """Store (encrypted) and audit; the person is told in their space, or by email."""
    account = account_for(person.id)
    before = _open(account).masked() if account is not None else None
    if account is None:
        account = BankAccount(person_id=person.id, created_at=now)
        db.session.add(account)
    account.secret = _seal(details)
    account.updated_by_id, account.updated_at = getattr(actor, "id", None), now
    db.session.flush()
    audit.record(actor, "bank_account.changed", account, person_id=person.id, before=before, after=details.masked())
    _tell_person(person, details, by_themself=getattr(actor, "person_id", None) == person.id)
    return account


def _tell_person(person: Person, details: BankDetails, *, by_themself: bool) -> None:
    user = db.session.scalar(sa.select(User).where(User.person_id == person.id, User.active.is_(True)))
    if user is None:
        return
    who = "You changed" if by_themself else "Someone in the finance team changed"
    body = (
        f"{who} the bank details we pay you by. The account now ends {details.account_number[4:]}.\n\n"
        "If you did not expect this, tell the team who pay you at once.\n"
        + notify.link_line("See your bank details", "me.bank_details")
    )
    notify.queue(user, "Your bank details were changed", body, "bank_details")


def rotate_keys() -> int:
    """Re-encrypt every row with the first key of BANK_DETAILS_KEYS. Returns how many rows."""
    count = 0
    for account in db.session.scalars(sa.select(BankAccount).order_by(BankAccount.id)):
        try:
            account.secret = crypto.rotate(account.secret)
        except crypto.KeysMissing as e:
            raise _unavailable(e) from None
        count += 1
    db.session.flush()
    return count


def save_own_bank_details(user: User, details: BankDetails, *, password: str, now: datetime) -> BankAccount:
    """A contributor sets their own details after typing their password again."""
    from tracker.auth.passwords import verify_password

    if not verify_password(user.password_hash, password or ""):
        raise ValidationFailed({"password": ["That is not your password. Type the password you sign in with."]})
    person = db.session.get(Person, user.person_id) if user.person_id else None
    if person is None:
        raise ValidationFailed({"account_name": ["Only a contributor can set their own bank details."]})
    return save_bank_details(person, details, actor=user, now=now)
