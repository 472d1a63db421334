"""Kept positions: each person's worst verdict on a day, so that the risk dashboard can put
thousands of people in order without working out everyone's position on every view.

The engine stays the only judge. A kept row (``RiskPosition``) only says where a person comes in
the list; the rows shown on a page are always worked out afresh. A kept row is trusted only while
all three things it was worked out from are unchanged:

* the day (``on_date``): periods roll over, so yesterday's rows are worked out again;
* the rules (``rules_key``, from ``rules.service.rules_key``): any rule change makes every row stale;
* the person's ``ledger_version``: raised by the ledger event ``tracker.rules.ledger.changed``,
  which every writer of a person's payments, expenses, other income, contributions or benefit
  claims calls in the same transaction (the list of writers is in that module).

Kept rows name the benefits a person claims, so the claims' event (``ledger.claims_changed``)
deletes them whenever a claim is added, changed or removed (withdrawing consent removes every
claim); they go with the person too.

The version is read *before* the ledger, so a change committed while a position is being worked
out leaves the kept row behind the person's version, and it is worked out again next time.

The hourly scan (``risks.service.scan``) works out everyone's position anyway and keeps it, so on
an ordinary day a dashboard view only works out again the people whose records changed since.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import NamedTuple

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import DBAPIError

from tracker import vocab
from tracker.engine import core as engine
from tracker.engine import effects
from tracker.extensions import db, table_of
from tracker.people.models import Person
from tracker.risks.models import RiskPosition
from tracker.rules import checks
from tracker.rules import service as rules_service

ALL = ""  # the ``benefit`` of the row for all of a person's benefits together
ZERO = Decimal(0)
CHUNK = 500  # ids per IN list; above this many stale people, the whole selection is worked out


# ---- ordering (the dashboard's order: the worst effect first, then the least room) ---------------


def headroom_fraction(v: engine.Verdict) -> Decimal | None:
    """The room left as a fraction of the limit (negative when over); None without a limit."""
    if v.limit is None or v.headroom is None or v.limit == 0:
        return None
    return v.headroom / v.limit


def room_key(v: engine.Verdict) -> Decimal | None:
    """The room left, for putting people in order: a fraction of the limit, so that a weekly £20
    limit and a monthly £710 one compare fairly. A limit of nothing (every pound counts) is all
    used (0) until a penny is over it, then wholly over (-1). None without a limit."""
    if v.limit == 0 and v.headroom is not None:
        return Decimal(-1) if v.headroom < 0 else ZERO
    return headroom_fraction(v)


def verdict_key(v: engine.Verdict) -> tuple:
    """Worst first: what the verdict costs the person (stops, reduces, not checked, close,
    within, information), then the least room left."""
    f = room_key(v)
    return (effects.rank(v.effect), f is None, f if f is not None else ZERO)


def worst(verdicts, benefit: str | None = None) -> engine.Verdict | None:
    """The worst verdict for this benefit; for all benefits together, the benefits' worst: the
    trading allowance is tax, shown apart, so it never hides a benefit risk (it is the worst only
    for someone with no benefit verdict on the day, such as a claim that has ended)."""
    if benefit is None:
        chosen = [v for v in verdicts if v.benefit != vocab.TAX] or list(verdicts)
    else:
        chosen = [v for v in verdicts if v.benefit == benefit]
    return min(chosen, key=verdict_key) if chosen else None


# ---- reading, in order --------------------------------------------------------------------------


class Ranked(NamedTuple):
    """A person's place in the dashboard's order. The fields are in sort order, so a list of
    these sorts exactly as ``verdict_key`` then the name (ignoring case) then the id."""

    rank: int
    no_limit: bool
    room: Decimal
    sort_name: str
    person_id: int
    name: str
    status: str
    effect: str


def _ranked(pid: int, name: str, status: str, effect: str | None, room: Decimal | str | None) -> Ranked:
    """A place in the order, from a verdict or a kept row (whose room is decimal text)."""
    room = None if room is None else Decimal(room)
    return Ranked(
        effects.rank(effect or ""),
        room is None,
        room if room is not None else ZERO,
        name.casefold(),
        pid,
        name,
        status,
        effect or "",
    )


def ranked(who, on: date, benefit: str | None = None) -> list[Ranked]:
    """Everyone selected by ``who`` (a SELECT of person ids) who has a verdict (for ``benefit``),
    the worst effect first, then the least room left. One query when every kept row is current; otherwise
    the stale people are worked out again (a constant number of queries) and kept."""
    key = rules_service.rules_key()
    benefit = benefit or ALL
    every = so.aliased(RiskPosition)
    chosen = every if benefit == ALL else so.aliased(RiskPosition)
    q = (
        sa.select(
            Person.id,
            Person.name,
            Person.ledger_version,
            every.on_date,
            every.rules_key,
            every.ledger_version.label("kept_version"),
            chosen.status,
            chosen.effect,
            chosen.room,
        )
        .where(Person.id.in_(who))
        .outerjoin(every, sa.and_(every.person_id == Person.id, every.benefit == ALL))
    )
    if chosen is not every:
        q = q.outerjoin(chosen, sa.and_(chosen.person_id == Person.id, chosen.benefit == benefit))
    out: list[Ranked] = []
    names: dict[int, str] = {}
    stale: dict[int, int] = {}
    for pid, name, version, kept_on, kept_key, kept_version, status, effect, room in db.session.execute(q):
        if kept_on != on or kept_key != key or kept_version != version:
            stale[pid] = version
            names[pid] = name
        elif status is not None:
            out.append(_ranked(pid, name, status, effect, room))
    if stale:
        found = work_out(stale, on, key, who=who)
        for pid, verdicts in found.items():
            v = worst(verdicts, None if benefit == ALL else benefit)
            if v is not None and pid in names:
                out.append(_ranked(pid, names[pid], v.status, v.effect, room_key(v)))
    out.sort()
    return out


def work_out(versions: dict[int, int], on: date, key: str, *, who=None) -> dict[int, list[engine.Verdict]]:
    """Positions for these people (``{person id: ledger_version read before}``), kept for next time."""
    if who is not None and len(versions) > CHUNK:
        found = {pid: v for pid, v in checks.positions(who, on).items() if pid in versions}
    else:
        found = checks.positions(sorted(versions), on)
    keep(found, versions, on, key)
    return found


def versions_of(who) -> dict[int, int]:
    """{person id: ledger_version} for everyone selected; read before their ledgers are."""
    return dict(
        db.session.execute(sa.select(Person.id, Person.ledger_version).where(Person.id.in_(who))).tuples().all()
    )


def _current(pids: list[int], versions: dict[int, int], on: date, key: str) -> set[int]:
    """The people among ``pids`` whose kept rows are current (the day, the rules, the version)."""
    current: set[int] = set()
    for i in range(0, len(pids), CHUNK * 20):
        chunk = pids[i : i + CHUNK * 20]
        current.update(
            pid
            for pid, day, k, ver in db.session.execute(
                sa.select(
                    RiskPosition.person_id, RiskPosition.on_date, RiskPosition.rules_key, RiskPosition.ledger_version
                ).where(RiskPosition.benefit == ALL, RiskPosition.person_id.in_(chunk))
            )
            if day == on and k == key and ver == versions[pid]
        )
    return current


def _rows(pid: int, verdicts: list[engine.Verdict], version: int, on: date, key: str) -> list[dict]:
    """A person's kept rows: one for all their benefits together, one per benefit."""
    base = {"person_id": pid, "on_date": on, "rules_key": key, "ledger_version": version}
    rows = []
    for benefit in [ALL, *sorted({v.benefit for v in verdicts})]:
        v = worst(verdicts, None if benefit == ALL else benefit)
        room = None if v is None else room_key(v)
        rows.append(
            {
                **base,
                "benefit": benefit,
                "status": None if v is None else v.status,
                "effect": None if v is None else v.effect,
                "room": None if room is None else str(room),
            }
        )
    return rows


def _replace(pids: list[int], rows: list[dict]) -> None:
    table = table_of(RiskPosition)
    for i in range(0, len(pids), CHUNK):
        db.session.execute(table.delete().where(table.c.person_id.in_(pids[i : i + CHUNK])))
    db.session.execute(table.insert(), rows)


def keep(
    found: dict[int, list[engine.Verdict]],
    versions: dict[int, int],
    on: date,
    key: str | None = None,
    *,
    only_stale: bool = False,
) -> int:
    """Write the kept rows for these positions (flushes only). ``only_stale`` skips people whose
    kept rows are already current. Returns the number of people written. If another request is
    writing the same people at the same moment, this one gives way: the rows are only a shortcut."""
    key = key or rules_service.rules_key()
    pids = sorted(pid for pid in found if pid in versions)
    if only_stale and pids:
        current = _current(pids, versions, on, key)
        pids = [pid for pid in pids if pid not in current]
    if not pids:
        return 0
    rows = [row for pid in pids for row in _rows(pid, found[pid], versions[pid], on, key)]
    if db.session.get_bind().dialect.name == "sqlite":
        _replace(pids, rows)  # SQLite lets one writer in at a time: nobody can write the same rows meanwhile
        return len(pids)
    try:
        with db.session.begin_nested():
            _replace(pids, rows)
    except DBAPIError:  # another request kept the same people first (or a lock timed out)
        return 0
    return len(pids)
