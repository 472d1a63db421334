"""Rule administration: load packs, edit, confirm and retire rules. Every change is audited.

Services flush; the caller commits.
"""

from __future__ import annotations

import time
from datetime import date

import sqlalchemy as sa

from tracker.audit import service as audit
from tracker.engine import coverage, pack
from tracker.engine.core import Rule
from tracker.errors import Conflict, NotFound, ValidationFailed
from tracker.extensions import db
from tracker.rules.models import RuleRevision

# Parsed rules, cached per process and keyed on the newest revision, so an edit made by any
# process is seen within CHECK_EVERY_SECONDS (at once in the process that made it). The check
# for edits is one small query, made at most that often rather than on every payment check.
CHECK_EVERY_SECONDS = 5.0
_cache: dict = {"key": None, "rules": (), "checked_at": 0.0}


def forget_cache() -> None:
    """Make the next call read the rules again (after a change in this process, or in tests)."""
    _cache.update(key=None, rules=(), checked_at=0.0)


def _revision_key():
    return db.session.execute(
        sa.select(sa.func.max(RuleRevision.id), sa.func.count(RuleRevision.id), sa.func.max(RuleRevision.created_at))
    ).one()


def active_revisions() -> list[RuleRevision]:
    return list(
        db.session.scalars(
            sa.select(RuleRevision)
            .where(RuleRevision.status == "active")
            .order_by(RuleRevision.benefit, RuleRevision.family, RuleRevision.code)
        )
    )


def active_rules() -> tuple[tuple[RuleRevision, Rule], ...]:
    """(revision row, parsed rule) for every active rule; cached until any rule changes."""
    now = time.monotonic()
    if _cache["key"] is not None and now - _cache["checked_at"] < CHECK_EVERY_SECONDS:
        return _cache["rules"]
    key = tuple(_revision_key())
    _cache["checked_at"] = now
    if _cache["key"] != key:
        rows = active_revisions()
        parsed = tuple((row, pack.parse_rule(row.definition)) for row in rows)
        for row, _ in parsed:
            db.session.expunge(row)
        _cache.update(key=key, rules=parsed)
    return _cache["rules"]


def rules_key() -> str:
    """A short text that changes whenever any rule changes (what the risk dashboard's kept
    positions were worked out with)."""
    active_rules()
    newest_id, count, newest_at = _cache["key"]
    return f"{newest_id}:{count}:{newest_at or ''}"


def rules_in_force(on: date | None = None) -> list[tuple[RuleRevision, Rule]]:
    rules = active_rules()
    if on is None:
        return list(rules)
    return [(row, rule) for row, rule in rules if rule.in_force(on)]


def awaiting_uprating(today: date) -> list[Rule]:
    """The rules whose next figures are due this year and not loaded yet (from 1 March).

    For the layout's banner: it reads the cached rules when there are any, else only the active
    definitions, never rows a page may be holding (``active_rules`` detaches the rows it caches).
    """
    if _cache["key"] is not None:
        rules = [rule for _, rule in _cache["rules"]]
    else:
        definitions = db.session.scalars(sa.select(RuleRevision.definition).where(RuleRevision.status == "active"))
        rules = [pack.parse_rule(d) for d in definitions]
    return coverage.awaiting_uprating(rules, today)


def pack_status(today: date) -> dict:
    """The rule pack in numbers, for ``/readyz``: how many rules are loaded, how many figures are
    stale today (past their next uprating with no newer figure) and how many wait for next year's."""
    rules = [rule for _, rule in active_rules()]
    return {
        "loaded": len(rules),
        "stale": sum(1 for r in rules if coverage.is_stale(r, today)),
        "awaiting_uprating": len(coverage.awaiting_uprating(rules, today)),
    }


def current(code: str) -> RuleRevision:
    row = db.session.scalar(
        sa.select(RuleRevision)
        .where(RuleRevision.code == code, RuleRevision.status.in_(("active", "retired")))
        .order_by(RuleRevision.revision.desc())
        .limit(1)
    )
    if row is None:
        raise NotFound(f"There is no rule {code}.")
    return row


def _add_revision(
    rule: Rule, *, actor, change: str, reason: str | None, previous: RuleRevision | None, status: str = "active"
) -> RuleRevision:
    if previous is not None:
        previous.status = "superseded"
        db.session.flush()
    row = RuleRevision(
        code=rule.code,
        revision=(previous.revision + 1) if previous else 1,
        family=rule.family,
        benefit=rule.benefit,
        definition=pack.rule_to_dict(rule),
        status=status,
        change=change,
        reason=reason,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(row)
    db.session.flush()
    forget_cache()
    audit.record(
        actor,
        f"rule.{change}",
        row,
        reason=reason,
        before=previous.definition if previous else None,
        after=row.definition,
    )
    return row


def load(rules: list[Rule], *, actor=None, reason: str | None = None) -> dict:
    """Add new rules and new revisions of changed ones; unchanged rules are left alone."""
    counts = {"added": 0, "updated": 0, "unchanged": 0}
    for rule in rules:
        previous = db.session.scalar(
            sa.select(RuleRevision)
            .where(RuleRevision.code == rule.code, RuleRevision.status.in_(("active", "retired")))
            .order_by(RuleRevision.revision.desc())
            .limit(1)
        )
        if previous is not None and previous.definition == pack.rule_to_dict(rule) and previous.status == "active":
            counts["unchanged"] += 1
            continue
        _add_revision(rule, actor=actor, change="loaded", reason=reason, previous=previous)
        counts["updated" if previous else "added"] += 1
    return counts


def load_text(text: str, *, actor=None, source: str = "an uploaded file") -> dict:
    """Load a YAML rule pack given as text (an upload). Nothing is loaded if any rule has an error."""
    try:
        rules = pack.parse_pack(text)
    except pack.RuleError as e:
        raise ValidationFailed(e.fields, "The rule pack has errors; nothing was loaded.") from None
    except (ValueError, ArithmeticError, RecursionError, TypeError) as e:
        raise ValidationFailed(
            {"file": [f"The file could not be read as a rule pack ({type(e).__name__})."]},
            "The rule pack has errors; nothing was loaded.",
        ) from None
    return load(rules, actor=actor, reason=f"loaded from {source}")


def load_file(path, *, actor=None) -> dict:
    """Load a rule pack from a file on this machine (the command line)."""
    from pathlib import Path

    p = Path(path)
    return load_text(p.read_text(encoding="utf-8"), actor=actor, source=p.name)


def ensure_default_pack(*, actor=None) -> dict:
    """Load the shipped UK pack if no rules exist yet (first run)."""
    if db.session.scalar(sa.select(sa.func.count(RuleRevision.id))):
        return {"added": 0, "updated": 0, "unchanged": 0}
    return load(pack.load_pack(pack.default_pack_path()), actor=actor, reason="default UK pack")


def edit(code: str, changes: dict, *, actor, reason: str) -> RuleRevision:
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["Say why the rule is changing."]})
    previous = current(code)
    if previous.status == "retired":
        raise Conflict("A retired rule cannot be edited.", code="rule_retired")
    data = dict(previous.definition)
    data.update(changes)
    data["code"] = code
    try:
        rule = pack.parse_rule(data)
    except pack.RuleError as e:
        raise ValidationFailed(e.fields) from None
    if pack.rule_to_dict(rule) == previous.definition:
        raise ValidationFailed({"rule": ["Nothing was changed."]})
    return _add_revision(rule, actor=actor, change="edited", reason=reason.strip(), previous=previous)


def confirm(code: str, *, actor, reason: str, source: str | None = None) -> RuleRevision:
    """An admin has checked the figure against the official text at ``source`` (an address).

    Any figure not yet ``confirmed`` (``secondary``, ``derived`` or ``unconfirmed``) can be
    confirmed; the rule's ``source`` becomes the address given, and the address it had before
    stays in its ``sources``. The reason and both addresses are in the audit trail.
    """
    previous = current(code)
    if previous.status == "retired":
        raise Conflict("A retired rule cannot be confirmed.", code="rule_retired")
    if previous.definition.get("confidence") == "confirmed":
        raise Conflict("This rule's figure is already confirmed.", code="already_confirmed")
    source = (source or "").strip()
    errors = _confirmation_errors(source, reason)
    if errors:
        raise ValidationFailed(errors)
    try:
        rule = pack.parse_rule(_confirmed(previous.definition, source))
    except pack.RuleError as e:
        raise ValidationFailed(e.fields) from None
    return _add_revision(rule, actor=actor, change="confirmed", reason=reason.strip(), previous=previous)


def _confirmation_errors(source: str, reason: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not source.startswith(("http://", "https://")) or any(c.isspace() for c in source):
        errors["source"] = ["Give the address of the official page you checked, starting with https://."]
    elif len(source) > 2000:
        errors["source"] = ["Keep the address under 2,000 characters."]
    if not (reason or "").strip():
        errors["reason"] = ["Say how you checked the figure."]
    return errors


def _confirmed(definition: dict, source: str) -> dict:
    """The rule's definition, confirmed at ``source``: the address it had before stays in ``sources``."""
    sources = list(definition.get("sources") or [])
    old = definition.get("source")
    if old and old != source and all(s.get("url") != old for s in sources):
        sources.append({"title": "Source before the figure was confirmed", "url": old})
    confirmed_at = {"title": "Where an admin confirmed the figure", "url": source}
    return dict(
        definition,
        confidence="confirmed",
        source=source,
        sources=[confirmed_at] + [s for s in sources if s.get("url") != source],
    )


def retire(code: str, *, actor, reason: str) -> RuleRevision:
    previous = current(code)
    if previous.status == "retired":
        raise Conflict("This rule is already retired.", code="rule_retired")
    if not (reason or "").strip():
        raise ValidationFailed({"reason": ["Say why the rule is being retired."]})
    rule = pack.parse_rule(previous.definition)
    return _add_revision(
        rule, actor=actor, change="retired", reason=reason.strip(), previous=previous, status="retired"
    )


def history(code: str) -> list[RuleRevision]:
    return list(
        db.session.scalars(
            sa.select(RuleRevision).where(RuleRevision.code == code).order_by(RuleRevision.revision.desc())
        )
    )
