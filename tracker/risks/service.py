"""Raising, acknowledging and resolving risk flags; the scheduled scan; the daily digest.

Services flush; the caller commits. ``scan`` and ``digest`` are called by the scheduled tasks
(``tasks.risks``), which own their transactions: the scan task takes the lease
(``acquire_lock``) and gives it back (``release_lock``) in steps of their own.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import date, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tracker.audit import service as audit
from tracker.errors import Conflict, ValidationFailed
from tracker.extensions import db
from tracker.money import format_money, money_str
from tracker.notify import service as notify
from tracker.people.models import BenefitClaim, Person
from tracker.picks import pick
from tracker.risks import positions as kept
from tracker.risks.models import JobLock, RiskFlag, RiskNote
from tracker.rules import checks, redaction
from tracker.timeutil import day_text, utcnow
from tracker.vocab import BENEFIT_NAMES_INLINE, MONEY_MEASURES, TAX

FLAG_TRANSITIONS = {
    ("open", "acknowledge"): "acknowledged",
    ("open", "resolve"): "resolved",
    ("acknowledged", "resolve"): "resolved",
}
LEVEL_RANK = {"near": 1, "over": 2, "manual": 0}
#: The flag each effect of a verdict raises: a benefit that stops, or is reduced (a taper above its
#: threshold), is "over"; close to a limit is "near"; anything else raises none.
EFFECT_LEVELS = {"stops": "over", "reduces": "over", "near": "near"}
log = logging.getLogger(__name__)


# ---- locks -------------------------------------------------------------------------------------


def acquire_lock(name: str, ttl_seconds: int) -> str | None:
    """Take a lease on a named job; returns a holder token, or None if someone else has it.

    Flushes: the caller commits at once, so that other workers see the lease."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{utcnow().timestamp()}"
    now = utcnow()
    result = cast(  # an UPDATE's result: it has a row count
        sa.CursorResult[Any],
        db.session.execute(
            sa.update(JobLock)
            .where(JobLock.name == name, JobLock.locked_until < now)
            .values(holder=holder, locked_until=now + timedelta(seconds=ttl_seconds))
        ),
    )
    if result.rowcount == 1:
        return holder
    if db.session.get(JobLock, name) is not None:
        return None
    try:
        with db.session.begin_nested():  # two workers adding the first lease at once: one wins
            db.session.add(JobLock(name=name, holder=holder, locked_until=now + timedelta(seconds=ttl_seconds)))
    except IntegrityError:
        return None
    return holder


def release_lock(name: str, holder: str) -> None:
    """Give a lease back (flushes; the caller commits)."""
    db.session.execute(
        sa.update(JobLock)
        .where(JobLock.name == name, JobLock.holder == holder)
        .values(locked_until=utcnow() - timedelta(seconds=1))
    )


# ---- flags -------------------------------------------------------------------------------------


def _verdict_fields(v) -> dict:
    return dict(
        rule_family=v.family,
        rule_code=v.rule,
        **pick(v, ("benefit", "title", "period_start", "period_end")),
        total=money_str(v.total_after) if v.measure in MONEY_MEASURES else str(v.total_after),
        limit=None if v.limit is None else (money_str(v.limit) if v.measure in MONEY_MEASURES else str(v.limit)),
    )


def flag_snapshot(f: RiskFlag) -> dict:
    return {
        "person_id": f.person_id,
        "rule": f.rule_code,
        **pick(f, ("period_start", "period_end", "level", "status", "total", "limit")),
    }


def raise_from_verdicts(
    person_id: int, verdicts, *, actor=None, notify_now: bool = True, known: dict | None = None
) -> list[RiskFlag]:
    """Raise (or escalate) a flag for every verdict at or near its limit. Returns new or escalated flags.

    ``known`` maps (person id, rule family, period start) to the flags already loaded (the scan
    loads them all at once instead of one query per verdict)."""
    changed = []
    for v in verdicts:
        level = EFFECT_LEVELS.get(v.effect)
        if level is None:
            continue
        fields = _verdict_fields(v)
        if known is not None:
            flag = known.get((person_id, v.family, v.period_start))
        else:
            flag = db.session.scalar(
                sa.select(RiskFlag).where(
                    RiskFlag.person_id == person_id,
                    RiskFlag.rule_family == v.family,
                    RiskFlag.period_start == v.period_start,
                )
            )
        if flag is None:
            flag = RiskFlag(person_id=person_id, level=level, source="system", status="open", **fields)
            db.session.add(flag)
            db.session.flush()
            audit.record(actor, "risk.raised", flag, person_id=person_id, after=flag_snapshot(flag))
            changed.append(flag)
        elif LEVEL_RANK.get(level, 0) > LEVEL_RANK.get(flag.level, 0):
            before = flag_snapshot(flag)
            flag.level, flag.total, flag.limit = level, fields["total"], fields["limit"]
            if flag.status == "resolved":
                flag.status, flag.resolved_at, flag.resolved_by_id = "open", None, None
            db.session.flush()
            audit.record(actor, "risk.escalated", flag, person_id=person_id, before=before, after=flag_snapshot(flag))
            changed.append(flag)
        elif flag.total != fields["total"]:
            flag.total = fields["total"]
    if changed and notify_now:
        _notify_flags(changed)
    return changed


def _flag_words(f: RiskFlag, tapers: frozenset[str]) -> str:
    """What the flag's verdict costs the person, in words (notifications go to coordinators, who may
    read benefit names): a benefit that stops, one that is reduced, or close to a limit."""
    title = f.title or "limit"
    if f.level != "over":
        return f"close to the {title}"
    if f.benefit == TAX:
        return f"over the {title}: income tax may be due"
    benefit = BENEFIT_NAMES_INLINE.get(f.benefit or "", "the benefit")
    if f.rule_code in tapers:
        return f"above the {title}: {benefit} is reduced"
    return f"over the {title}: {benefit} stops"


def _taper_codes() -> frozenset[str]:
    from tracker.rules import service as rules_service

    return frozenset(rule.code for _, rule in rules_service.active_rules() if rule.kind == "taper")


def _flag_line(f: RiskFlag, name: str, tapers: frozenset[str] = frozenset()) -> str:
    money = (
        f"{format_money(_dec(f.total))} of {format_money(_dec(f.limit))}" if f.limit and "." in (f.total or "") else ""
    )
    return (
        f"- {name}: {_flag_words(f, tapers)} for {day_text(f.period_start)} to {day_text(f.period_end)}"
        f"{' (' + money + ')' if money else ''}\n"
        f"  {notify.link_line(f'Where {name} stands', 'risks.person', person_id=f.person_id)}"
    )


def _dec(text):
    from decimal import Decimal

    return Decimal(text) if text else Decimal("0")


def _notify_flags(flags: list[RiskFlag]) -> None:
    names = dict(
        db.session.execute(sa.select(Person.id, Person.name).where(Person.id.in_({f.person_id for f in flags})))
        .tuples()
        .all()
    )
    tapers = _taper_codes()
    lines = [_flag_line(f, names.get(f.person_id, "Someone"), tapers) for f in flags]
    subject = (
        f"Benefit rule risk: {names.get(flags[0].person_id, 'someone')}"
        if len(flags) == 1
        else f"Benefit rule risks: {len(flags)} new"
    )
    body = (
        "The tracker found payments that stop or reduce a benefit, or come close to a limit:\n\n"
        + "\n".join(lines)
        + "\n\nSee the details and plan what to do on the risk dashboard.\n"
        + notify.link_line("Open the risk dashboard", "risks.dashboard")
        + "\n\nThe tracker is a safeguard, not benefits advice: point the person to an independent benefits adviser."
    )
    for user in notify.coordinators():
        notify.queue(user, subject, body, "flag")


def raise_manual(person: Person, note: str, *, actor, today: date, rule_family: str | None = None) -> RiskFlag:
    note = (note or "").strip()
    if not note:
        raise ValidationFailed({"note": ["Say what the risk is."]})
    if len(note) > 2000:
        raise ValidationFailed({"note": ["Use 2,000 characters or fewer."]})
    start = end = today
    fields = {}
    if rule_family:
        verdicts = [v for v in checks.position(person.id, today) if v.family == rule_family]
        if not verdicts:
            raise ValidationFailed({"rule": [f"No rule {rule_family} applies to this person today."]})
        fields = _verdict_fields(verdicts[0])
        start, end = fields.pop("period_start"), fields.pop("period_end")
    existing = db.session.scalar(
        sa.select(RiskFlag).where(
            RiskFlag.person_id == person.id, RiskFlag.rule_family == (rule_family or ""), RiskFlag.period_start == start
        )
    )
    if existing is not None:
        raise Conflict(
            "There is already a flag for this person, rule and period: add a note to it instead.",
            code="flag_exists",
            extra={"flag_id": existing.id},
        )
    flag = RiskFlag(
        person_id=person.id,
        level="manual",
        source="coordinator",
        status="open",
        raised_by_id=getattr(actor, "id", None),
        period_start=start,
        period_end=end,
        **{"rule_family": rule_family or "", **fields},
    )
    db.session.add(flag)
    db.session.flush()
    flag.notes.append(RiskNote(author_id=getattr(actor, "id", None), text=note))
    db.session.flush()
    audit.record(actor, "risk.raised", flag, person_id=person.id, after={**flag_snapshot(flag), "note": note})
    return flag


def move(flag: RiskFlag, action: str, *, actor, note: str | None = None) -> RiskFlag:
    target = FLAG_TRANSITIONS.get((flag.status, action))
    if target is None:
        raise Conflict(f"You cannot {action} a flag that is {flag.status}.", code="invalid_transition")
    before = flag_snapshot(flag)
    flag.status = target
    now = utcnow()
    if target == "acknowledged":
        flag.acknowledged_by_id, flag.acknowledged_at = getattr(actor, "id", None), now
    else:
        flag.resolved_by_id, flag.resolved_at = getattr(actor, "id", None), now
    if note and note.strip():
        add_note(flag, note, actor=actor, audit_it=False)
    db.session.flush()
    audit.record(
        actor,
        f"risk.{target}",
        flag,
        person_id=flag.person_id,
        before=before,
        after=flag_snapshot(flag),
        reason=(note or "").strip() or None,
    )
    return flag


def add_note(flag: RiskFlag, text: str, *, actor, audit_it: bool = True) -> RiskNote:
    text = (text or "").strip()
    if not text:
        raise ValidationFailed({"note": ["Write a note."]})
    if len(text) > 2000:
        raise ValidationFailed({"note": ["Use 2,000 characters or fewer."]})
    n = RiskNote(author_id=getattr(actor, "id", None), text=text)
    flag.notes.append(n)
    db.session.flush()
    if audit_it:
        audit.record(actor, "risk.noted", flag, person_id=flag.person_id, after={"note": text})
    return n


# ---- the scan ----------------------------------------------------------------------------------

SCAN_LOCK = "risk-scan"


def people_with_claims():
    return sa.select(BenefitClaim.person_id).distinct().scalar_subquery()


def scan(on: date) -> dict:
    """Raise flags for everyone near or over a limit today; resolve flags whose period has passed;
    keep everyone's position for the dashboard. Returns the counts raised and resolved.

    Idempotent: a second run raises nothing new. Flushes; the scan task (``tasks.risks.scan``)
    holds the lease that keeps two scans from overlapping, and commits."""
    started = time.monotonic()
    raised = []
    known = {
        (f.person_id, f.rule_family, f.period_start): f
        for f in db.session.scalars(sa.select(RiskFlag).where(RiskFlag.period_end >= on - timedelta(days=400)))
    }
    claimants = sa.select(BenefitClaim.person_id)
    versions = kept.versions_of(claimants)  # before the ledgers: see tracker/risks/positions.py
    found = checks.positions(claimants, on)
    for person_id, verdicts in found.items():
        raised += raise_from_verdicts(person_id, verdicts, notify_now=False, known=known)
    worked_out = kept.keep(found, versions, on, only_stale=True)  # so the dashboard need not work them out
    stale = db.session.scalars(
        sa.select(RiskFlag).where(RiskFlag.status != "resolved", RiskFlag.source == "system", RiskFlag.period_end < on)
    ).all()
    for flag in stale:
        move(flag, "resolve", actor=None, note="The period has ended.")
    if raised:
        _notify_flags(raised)
    log.info(
        "Risk scan for %s: %s people checked, %s flags raised, %s resolved, %s positions kept, in %.2f s",
        on.isoformat(),
        len(found),
        len(raised),
        len(stale),
        worked_out,
        time.monotonic() - started,
    )
    return {"raised": len(raised), "resolved": len(stale)}


def digest(on: date) -> int:
    """A daily summary of open flags for each coordinator. Returns how many were queued."""
    flags = db.session.scalars(
        sa.select(RiskFlag).where(RiskFlag.status != "resolved").order_by(RiskFlag.level.desc(), RiskFlag.period_end)
    ).all()
    if not flags:
        return 0
    names = dict(db.session.execute(sa.select(Person.id, Person.name)).tuples().all())
    tapers = _taper_codes()
    lines = [_flag_line(f, names.get(f.person_id, "Someone"), tapers) for f in flags[:50]]
    more = f"\n…and {len(flags) - 50} more." if len(flags) > 50 else ""
    body = (
        f"Open benefit-rule flags on {day_text(on)}: {len(flags)}.\n\n"
        + "\n".join(lines)
        + more
        + "\n\n"
        + notify.link_line("Open the risk dashboard", "risks.dashboard")
        + "\n\nThe tracker is a safeguard, not benefits advice."
    )
    count = 0
    for user in notify.coordinators():
        notify.queue(user, f"Daily risk summary: {len(flags)} open", body, "digest")
        count += 1
    log.info("Risk digest for %s: %s open flags, %s coordinators told", on.isoformat(), len(flags), count)
    return count


def flag_json(f: RiskFlag, *, redact: bool = False) -> dict:
    out = {
        "id": f.id,
        "person_id": f.person_id,
        "rule": f.rule_code,
        "family": f.rule_family or None,
        "benefit": f.benefit,
        "title": f.title,
        "period": {"start": f.period_start.isoformat(), "end": f.period_end.isoformat()},
        "level": f.level,
        "source": f.source,
        "status": f.status,
        "total": f.total,
        "limit": f.limit,
        "raised_at": f.raised_at.isoformat(timespec="seconds"),
        "notes": [{"at": n.at.isoformat(timespec="seconds"), "text": n.text} for n in f.notes],
    }
    if redact:
        return redaction.flag(out)
    return out
