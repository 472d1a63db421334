"""What the audit log page says: actions, records and stored values in words, times in UK time."""

from __future__ import annotations

from datetime import datetime

from tracker.audit.service import BENEFIT_VIEW, LAST_AT, VIEWS
from tracker.timeutil import clock_text, stamp_text, uk_time

HIDDEN = "Benefit information (hidden for your role)"

#: Only the names that "user_account" -> "User account" would word wrongly; the rest are worded by rule.
ENTITY_LABELS = {"user_account": "User", "api_token": "API token", "none": "None"}
ACTION_LABELS = {"benefits.viewed": "Benefit information viewed", "import.completed": "File imported"}
KEY_LABELS = {
    "covers_from": "Work from",
    "covers_to": "Work to",
    "sha256": "File fingerprint",
    "ap_start_day": "Assessment period start day",
    "id": "ID",
}


def repeats_text(action: str, at: datetime, after) -> str:
    """For a row that counts repeated views: "viewed 4 times between 10:02 and 10:09" (UK time;
    with the dates when the views span midnight); empty for any other row."""
    if action != BENEFIT_VIEW or not isinstance(after, dict) or int(after.get(VIEWS) or 1) < 2:
        return ""
    try:
        last = datetime.fromisoformat(str(after.get(LAST_AT)))
    except ValueError:
        return f"viewed {after[VIEWS]} times"
    if uk_time(last).date() == uk_time(at).date():
        return f"viewed {after[VIEWS]} times between {clock_text(at)} and {clock_text(last)}"
    return f"viewed {after[VIEWS]} times between {stamp_text(at)} and {stamp_text(last)}"


def action_label(action: str) -> str:
    """payment.reversed -> Payment reversed."""
    if action in ACTION_LABELS:
        return ACTION_LABELS[action]
    return action.replace(".", " ").replace("_", " ").capitalize()


def entity_label(entity_type: str) -> str:
    return ENTITY_LABELS.get(entity_type, entity_type.replace("_", " ").capitalize())


def key_label(key) -> str:
    key = str(key)
    return KEY_LABELS.get(key, key.replace("_", " ").capitalize())


def plain_value(value) -> str:
    """A stored JSON value in words: no braces or quotes."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dict):
        if not value:
            return "(empty)"
        return "; ".join(f"{key_label(k)}: {plain_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        if not value:
            return "(none)"
        if any(isinstance(v, (dict, list, tuple)) for v in value):
            return " | ".join(plain_value(v) for v in value)
        return ", ".join(plain_value(v) for v in value)
    return str(value)


def readable(data, other=None) -> list[tuple[str, str, bool]]:
    """A before or after dict as [(label, value, changed)]; changed compares with the other side."""
    if data is None:
        return []
    if not isinstance(data, dict):
        return [("Value", plain_value(data), False)]
    out = []
    for k, v in data.items():
        if k in (VIEWS, LAST_AT):  # worded beside the action (repeats_text)
            continue
        changed = isinstance(other, dict) and other.get(k) != v
        out.append((key_label(k), plain_value(v), changed))
    return out


def action_choices(actions: list[str]) -> list[tuple[str, str]]:
    return [("", "Anything")] + [(a, f"{action_label(a)} ({a})") for a in actions]


def type_choices(types: list[str]) -> list[tuple[str, str]]:
    return [("", "Any type")] + [(t, entity_label(t)) for t in types]
