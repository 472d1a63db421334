"""The fixed list of payment methods: how a paid payment was paid, so month-end totals group correctly.

A method is one of ``vocab.PAY_METHOD_CHOICES``; "other" carries a note saying what it was. Older
free-text spellings ("Faster Payment", "BACS") are still understood and mean "bank transfer".
"""

from __future__ import annotations

from tracker.errors import ValidationFailed
from tracker.vocab import PAY_METHOD_ALIASES, PAY_METHOD_CHOICES, PAY_METHOD_OTHER

MAX_NOTE = 200
CHOOSE = "Choose how it was paid: " + ", ".join(PAY_METHOD_CHOICES) + "."
NOTE_NEEDED = "Say how it was paid when the method is other."
NOTE_TOO_LONG = f"Use {MAX_NOTE} characters or fewer."


def canonical(raw: str | None) -> str | None:
    """The fixed method a typed method means, or None when it means none of them."""
    text = " ".join((raw or "").split()).lower()
    if text in PAY_METHOD_CHOICES:
        return text
    return PAY_METHOD_ALIASES.get(text)


def parse(
    raw: str | None, note: str | None, *, field: str = "method", note_field: str = "method_note"
) -> tuple[str, str | None]:
    """(method, note) from what was typed; a ValidationFailed naming the fields otherwise.

    A note is kept only with "other", where it is required."""
    method = canonical(raw)
    note = (note or "").strip() or None
    if method is None:
        raise ValidationFailed({field: [CHOOSE]})
    if method != PAY_METHOD_OTHER:
        return method, None
    if note is None:
        raise ValidationFailed({note_field: [NOTE_NEEDED]})
    if len(note) > MAX_NOTE:
        raise ValidationFailed({note_field: [NOTE_TOO_LONG]})
    return method, note


def label(method: str | None, note: str | None = None) -> str:
    """How a method reads in a list or a total's caption."""
    if not method:
        return "not recorded"
    return f"{method}: {note}" if method == PAY_METHOD_OTHER and note else method


def pay(payment, *, method: str | None, method_note: str | None = None, **kwargs):
    """``service.pay`` with the method checked against the fixed list; "other" keeps its note.

    Returns what ``service.pay`` returns."""
    from tracker.extensions import db
    from tracker.payments import service

    fixed, note = parse(method, method_note)
    out = service.pay(payment, method=fixed, **kwargs)
    if note is not None and payment.status == "paid":
        payment.method_note = note
        db.session.flush()
    return out
