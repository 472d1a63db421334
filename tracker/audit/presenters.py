"""What the audit log page says: actions, records and stored values in words, times in UK time."""

from __future__ import annotations

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
        changed = isinstance(other, dict) and other.get(k) != v
        out.append((key_label(k), plain_value(v), changed))
    return out


def action_choices(actions: list[str]) -> list[tuple[str, str]]:
    return [("", "Anything")] + [(a, f"{action_label(a)} ({a})") for a in actions]


def type_choices(types: list[str]) -> list[tuple[str, str]]:
    return [("", "Any type")] + [(t, entity_label(t)) for t in types]
