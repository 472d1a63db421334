"""Activities (with a rate card) and contributions. Services flush; the caller commits once."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from tracker.audit import service as audit
from tracker.contributions.models import RATE_UNITS, Activity, Contribution
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.money import PENNY, decimal_field
from tracker.payments.models import Payment, payment_contribution
from tracker.people.models import Person
from tracker.picks import pick
from tracker.rules import ledger
from tracker.vocab import MAX_AMOUNT, MAX_HOURS, SERVICE_USER_CONTEXTS


def _text(data, name, errors, *, required=False, limit=200):
    value = (data.get(name) or "").strip() if isinstance(data.get(name), str) or data.get(name) is None else None
    if value is None:
        errors[name] = ["Must be text."]
        return None
    if required and not value:
        errors[name] = ["This is required."]
    elif len(value) > limit:
        errors[name] = [f"Use {limit:,} characters or fewer."]
    return value or None


def _amount(data, name, errors, *, places=2, required=True, maximum=MAX_AMOUNT):
    words = ("This is required.", "Cannot be negative.", f"Must be {maximum.normalize():f} or less.")
    return decimal_field(data, name, errors, required=required, maximum=maximum, words=words, places=places)


def activity_values(data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    out = {
        "name": _text(data, "name", errors, required=True),
        "description": _text(data, "description", errors, limit=5000),
        "default_rate": _amount(data, "default_rate", errors),
        "consulting_body": _text(data, "consulting_body", errors),
    }
    unit = data.get("rate_unit") or "hour"
    if unit not in RATE_UNITS:
        errors["rate_unit"] = ["Choose one of: " + ", ".join(RATE_UNITS) + "."]
    context = data.get("service_user_context") or "unknown"
    if context not in SERVICE_USER_CONTEXTS:
        errors["service_user_context"] = ["Choose yes, no or unknown."]
    prep = data.get("includes_preparation", False)
    if not isinstance(prep, bool):
        errors["includes_preparation"] = ["Must be true or false."]
    if errors:
        raise ValidationFailed(errors)
    out.update(rate_unit=unit, service_user_context=context, includes_preparation=prep)
    return out


ACTIVITY_SNAPSHOT = (
    "name",
    "default_rate",
    "rate_unit",
    "includes_preparation",
    "service_user_context",
    "consulting_body",
    "active",
)
CONTRIBUTION_SNAPSHOT = ("person_id", "activity_id", "worked_on", "hours", "preparation_hours", "value_owed", "role")


def activity_snapshot(a: Activity) -> dict:
    return pick(a, ACTIVITY_SNAPSHOT)


def create_activity(data: dict, *, actor) -> Activity:
    activity = Activity(**activity_values(data))
    db.session.add(activity)
    db.session.flush()
    audit.record(actor, "activity.created", activity, after=activity_snapshot(activity))
    return activity


def update_activity(activity: Activity, data: dict, *, actor) -> Activity:
    values = activity_values({**activity_snapshot(activity), "description": activity.description, **data})
    before = activity_snapshot(activity)
    for k, v in values.items():
        setattr(activity, k, v)
    db.session.flush()
    audit.record(actor, "activity.updated", activity, before=before, after=activity_snapshot(activity))
    return activity


def value_owed(activity: Activity | None, hours: Decimal, preparation: Decimal, rate: Decimal | None = None) -> Decimal:
    """What the rate card says is owed for one contribution."""
    if activity is None:
        return (rate or Decimal("0")) * (hours + preparation)
    rate = activity.default_rate if rate is None else rate
    if activity.rate_unit == "hour":
        paid_hours = hours + (preparation if activity.includes_preparation else Decimal("0"))
        value = rate * paid_hours
    else:  # half_day, day, session: one unit per contribution
        value = rate
    return value.quantize(PENNY, rounding=ROUND_HALF_UP)


#: What the hours of a contribution are refused with: words about hours, never an amount of money.
HOURS_NOT_A_NUMBER = "Enter hours as a number, for example 1.5."
HOURS_WORDS = ("Enter the hours, for example 1.5.", "Hours cannot be negative.", f"Enter at most {MAX_HOURS} hours.")


def _hours(data, name, errors, required):
    value = decimal_field(data, name, errors, required=required, maximum=MAX_HOURS, words=HOURS_WORDS, places=2)
    if name in errors and not set(errors[name]) <= set(HOURS_WORDS):
        places = any(m.startswith("Use at most") for m in errors[name])
        errors[name] = ["Enter hours with at most 2 decimal places, for example 1.5." if places else HOURS_NOT_A_NUMBER]
    return value


def contribution_values(data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    hours = _hours(data, "hours", errors, True)
    prep = _hours(data, "preparation_hours", errors, False) or Decimal("0.00")
    if hours is not None and hours == 0 and prep == 0:
        errors["hours"] = ["Enter the hours worked, above 0."]
    worked_on = data.get("worked_on")
    if not isinstance(worked_on, date):
        errors["worked_on"] = ["Enter the date of the work, like 2025-04-07."]
    out = {
        "hours": hours,
        "preparation_hours": prep,
        "worked_on": worked_on,
        "role": _text(data, "role", errors, limit=100),
        "description": _text(data, "description", errors, limit=1000),
    }
    activity = None
    if data.get("activity_id") is not None:
        activity = db.session.get(Activity, data["activity_id"])
        if activity is None:
            errors["activity_id"] = [f"There is no activity {data['activity_id']}."]
    rate = _amount(data, "rate", errors, required=False)
    if errors:
        raise ValidationFailed(errors)
    out["activity"] = activity
    out["value_owed"] = (
        _amount(data, "value_owed", errors, required=False)
        if data.get("value_owed") not in (None, "")
        else value_owed(activity, hours, prep, rate)
    )
    if errors:
        raise ValidationFailed(errors)
    return out


def contribution_snapshot(c: Contribution) -> dict:
    return pick(c, CONTRIBUTION_SNAPSHOT)


def _new_contribution(person: Person, activity_id: int | None, worked_on: date, v: dict, actor) -> Contribution:
    """A contribution from checked values (see ``contribution_values``), recorded by ``actor``."""
    return Contribution(
        person_id=person.id,
        activity_id=activity_id,
        worked_on=worked_on,
        **{name: v[name] for name in ("hours", "preparation_hours", "role", "description", "value_owed")},
        recorded_by_id=getattr(actor, "id", None),
    )


def record_contribution(person: Person, data: dict, *, actor) -> Contribution:
    v = contribution_values(data)
    c = _new_contribution(person, v["activity"].id if v["activity"] else None, v["worked_on"], v, actor)
    db.session.add(c)
    ledger.changed(db.session, [person.id])
    db.session.flush()
    audit.record(actor, "contribution.recorded", c, person_id=person.id, after=contribution_snapshot(c))
    return c


def record_session(
    activity_id: int | None, worked_on: date, attendees: list[dict], *, actor, description: str | None = None
) -> list[Contribution]:
    """One session, many people: all are recorded or none (errors name the attendee row)."""
    errors: dict[str, list[str]] = {}
    if not attendees:
        raise ValidationFailed({"attendees": ["Add at least one person who took part."]})
    seen = set()
    made = []
    for i, row in enumerate(attendees):
        person = db.session.get(Person, row.get("person_id")) if row.get("person_id") is not None else None
        if person is None:
            errors[f"attendees.{i}.person_id"] = ["Choose a person."]
            continue
        if person.id in seen:
            errors[f"attendees.{i}.person_id"] = [f"{person.name} is listed twice."]
            continue
        seen.add(person.id)
        try:
            made.append(
                (
                    person,
                    contribution_values(
                        {**row, "activity_id": activity_id, "worked_on": worked_on, "description": description}
                    ),
                )
            )
        except ValidationFailed as e:
            for k, v in e.fields.items():
                errors[f"attendees.{i}.{k}" if k not in ("worked_on", "activity_id") else k] = v
    if errors:
        raise ValidationFailed(errors)
    out = []
    for person, v in made:
        c = _new_contribution(person, activity_id, worked_on, v, actor)
        db.session.add(c)
        out.append(c)
    ledger.changed(db.session, [c.person_id for c in out])
    db.session.flush()
    for c in out:
        audit.record(actor, "contribution.recorded", c, person_id=c.person_id, after=contribution_snapshot(c))
    return out


def unpaid_contributions(person_id: int) -> list[Contribution]:
    """Contributions not yet covered by a payment that is still live (not cancelled)."""
    covered = (
        sa.select(payment_contribution.c.contribution_id)
        .join(Payment, Payment.id == payment_contribution.c.payment_id)
        .where(Payment.status != "cancelled")
    )
    return list(
        db.session.scalars(
            sa.select(Contribution)
            .where(Contribution.person_id == person_id, Contribution.id.not_in(covered))
            .order_by(Contribution.worked_on)
        )
    )
