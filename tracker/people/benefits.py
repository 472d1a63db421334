"""Benefit codes and the claim attributes each one needs (the public contract's table).

Pure: used by forms, the API and the rules engine alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracker.errors import ValidationFailed

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Attr:
    name: str
    label: str
    kind: str  # "int", "bool", "choice", "date"
    default: object = None
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    hint: str = ""


@dataclass(frozen=True)
class Benefit:
    code: str
    name: str
    attributes: tuple[Attr, ...] = ()
    claimable: bool = True
    info_only: bool = False


def _week(default: str) -> Attr:
    return Attr("week_start", "Day the benefit week starts", "choice", default, choices=WEEKDAYS,
                hint="Shown on the award letter. Earnings are counted per benefit week.")


BENEFITS: dict[str, Benefit] = {b.code: b for b in (
    Benefit("UC", "Universal Credit", (
        Attr("ap_start_day", "Day of the month the assessment period starts", "int", None,
             required=True, minimum=1, maximum=31,
             hint="The date in the person's Universal Credit journal, from 1 to 31."),
        Attr("work_allowance", "Has a work allowance", "bool", False,
             hint="Only with a child or limited capability for work."),
        Attr("housing_element", "Award includes help with housing costs", "bool", False),
        Attr("lcw_pending", "Waiting for a work capability assessment", "bool", False),
    )),
    Benefit("ESA", "Employment and Support Allowance (new style)", (
        Attr("permitted_work", "Permitted work limit", "choice", "higher",
             choices=("lower", "higher", "supported")),
        _week("monday"),
    )),
    Benefit("CA", "Carer's Allowance", (_week("monday"),)),
    Benefit("CSP", "Carer Support Payment (Scotland)", (_week("sunday"),)),
    Benefit("JSA", "Jobseeker's Allowance (new style)", (_week("monday"),)),
    Benefit("HB", "Housing Benefit", (
        Attr("disregard", "Earnings disregard", "choice", "single",
             choices=("single", "couple", "higher", "lone_parent")),
        _week("monday"),
    )),
    Benefit("PC", "Pension Credit", (
        Attr("disregard", "Earnings disregard", "choice", "single", choices=("single", "couple", "higher")),
        _week("monday"),
    )),
    Benefit("PIP", "Personal Independence Payment", (), info_only=True),
    Benefit("ADP", "Adult Disability Payment (Scotland)", (), info_only=True),
    Benefit("TAX", "Trading allowance (income tax)", (), claimable=False),
)}

CLAIMABLE_CODES = tuple(code for code, b in BENEFITS.items() if b.claimable)


def normalise_attributes(benefit: str, attributes: dict | None, *, prefix: str = "attributes") -> dict:
    """Check a claim's attributes against the contract and fill in defaults.

    Raises ValidationFailed with per-field messages; unknown attributes are refused.
    """
    b = BENEFITS.get(benefit)
    if b is None or not b.claimable:
        raise ValidationFailed({"benefit": [
            "Choose a benefit from the list: " + ", ".join(CLAIMABLE_CODES) + "."]})
    attributes = dict(attributes or {})
    errors: dict[str, list[str]] = {}
    out: dict = {}
    known = {a.name for a in b.attributes}
    for name in attributes:
        if name not in known:
            errors.setdefault(f"{prefix}.{name}", []).append(
                f"{b.name} has no attribute called {name!r}.")
    for a in b.attributes:
        key = f"{prefix}.{a.name}"
        value = attributes.get(a.name)
        if value is None or value == "":
            if a.required:
                errors.setdefault(key, []).append(f"{a.label} is required.")
                continue
            out[a.name] = a.default
            continue
        if a.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, str) and value.strip().isdigit():
                    value = int(value.strip())
                else:
                    errors.setdefault(key, []).append(f"{a.label} must be a whole number.")
                    continue
            if (a.minimum is not None and value < a.minimum) or (a.maximum is not None and value > a.maximum):
                errors.setdefault(key, []).append(
                    f"{a.label} must be from {a.minimum} to {a.maximum}.")
                continue
        elif a.kind == "bool":
            if isinstance(value, str) and value.lower() in ("true", "yes", "y", "1", "on"):
                value = True
            elif isinstance(value, str) and value.lower() in ("false", "no", "n", "0", "off"):
                value = False
            if not isinstance(value, bool):
                errors.setdefault(key, []).append(f"{a.label} must be true or false.")
                continue
        elif a.kind == "choice":
            if not isinstance(value, str) or value.lower() not in a.choices:
                errors.setdefault(key, []).append(
                    f"{a.label} must be one of: {', '.join(a.choices)}.")
                continue
            value = value.lower()
        out[a.name] = value
    if errors:
        raise ValidationFailed(errors)
    return out
