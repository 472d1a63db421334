"""Demo data: ``flask --app wsgi demo seed [--people N] [--months M] [--seed S] [--today DATE]``.

Builds a believable co-production organisation: activities with rates, people with varied
names, payment preferences, consent and benefit claims, and months of contributions, payments
(every kind and status, cancellations and reversals), expenses and a little other income.
A few people are placed near or over a Carer's Allowance, Carer Support Payment or ESA weekly
limit so the risk pages have something to show; everyone else stays comfortably below.

Large runs (``--people 10000 --months 12``) build a benchmark data set: rows are generated in
plain Python with a seeded ``random.Random`` (the same seed and date give the same data),
inserted in bulk with explicit ids, and committed once. Money is integer pence until it becomes
a ``Decimal`` with two places; floats never touch it.
"""

from __future__ import annotations

import calendar
import sys
import time as _time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from random import Random
from typing import Any

import click
import sqlalchemy as sa
import yaml
from flask.cli import with_appcontext

from tracker.auth.models import User
from tracker.auth.passwords import password_problem
from tracker.contributions.models import Activity, Contribution
from tracker.extensions import db, table_of
from tracker.money import PENNY
from tracker.payments.models import Expense, OtherIncome, Payment, payment_contribution
from tracker.people.benefits import normalise_attributes
from tracker.people.models import BenefitClaim, Consent, Person, Preference
from tracker.timeutil import DAY_RANGE_MESSAGE, day_text, in_day_range
from tracker.timeutil import today as _today
from tracker.vocab import NON_MONEY_KINDS, PAYMENT_STATUSES

DEFAULT_PASSWORD = "demo-password-1"
CHUNK_PEOPLE = 1000

SIGN_INS = (
    ("admin@example.org", "admin", "Ada Admin"),
    ("finance@example.org", "finance", "Femi Finance"),
    ("coordinator@example.org", "coordinator", "Cara Coordinator"),
    ("contributor@example.org", "contributor", None),
)

# ---------------------------------------------------------------- activities
# Rates follow common UK practice: £25 an hour, £75 a half day and £150 a day (NIHR-style
# figures), £40-£60 a session; the Scottish Government's lived-experience guidance suggests
# £35 for an hour up to £280 for a full day including preparation.


@dataclass(frozen=True)
class ActivitySpec:
    key: str
    name: str
    description: str
    rate_pence: int
    unit: str
    context: str
    body: str
    half_hours: tuple[int, int]  # range of session length, in half hours (1-6 hours)
    includes_preparation: bool = False
    prep_half_hours: tuple[int, int] = (0, 0)
    roles: tuple[str, ...] = ("Participant",)
    topics: tuple[str, ...] = ()
    weight: int = 10


def _load_activities() -> tuple[ActivitySpec, ...]:
    """The demo activities, from demo-activities.yaml (lists become tuples, as the spec's fields are)."""
    data = yaml.safe_load((Path(__file__).parent / "demo-activities.yaml").read_text(encoding="utf-8"))
    rows: list[dict[str, Any]] = [
        {k: tuple(v) if isinstance(v, list) else v for k, v in row.items()} for row in data["activities"]
    ]
    return tuple(ActivitySpec(**row) for row in rows)


ACTIVITIES = _load_activities()

# ---------------------------------------------------------------- people

FIRST_NAMES = (
    "Zoë",
    "Siobhán",
    "Łukasz",
    "Aoife",
    "Olúwaṣeun",
    "Priya",
    "Mohammed",
    "Margaret",
    "Dafydd",
    "Eilidh",
    "Chiamaka",
    "Renée",
    "Tomasz",
    "Jean",
    "Kwame",
    "Bethan",
    "Gurpreet",
    "Darren",
    "Ayşe",
    "Seán",
    "Fatima",
    "Callum",
    "Thanh",
    "Kayleigh",
    "José",
    "Morag",
    "Barry",
    "Małgorzata",
    "Nkechi",
    "Ioana",
    "Hamza",
    "Niamh",
    "Rhys",
    "Mei",
    "Tracey",
    "Inês",
    "Abena",
    "Stephen",
    "Ruairí",
    "Grace",
    "Amara",
    "Yusuf",
    "Deepa",
    "Harjit",
    "Wei",
    "Tariq",
    "Gwen",
    "Catrin",
    "Hamish",
    "Kirsty",
    "Shona",
    "Fiona",
    "Jack",
    "Olivia",
    "Emily",
    "Sandra",
    "Kevin",
    "Paul",
    "Karen",
    "Dylan",
    "Leah",
    "Jade",
    "Agnieszka",
    "Andrzej",
    "Bogdan",
    "Mihai",
    "Emre",
    "Chidi",
    "Adebayo",
    "Tunde",
    "Precious",
    "Blessing",
    "Ewa",
    "Dominika",
    "Saoirse",
    "Dónal",
    "Pádraig",
    "Bríd",
    "Nuala",
    "Oisín",
    "Mairéad",
    "Chloé",
    "François",
    "Björn",
    "Jürgen",
    "Anaïs",
    "Noémie",
    "Zainab",
    "Aaliyah",
    "Ravi",
    "Sunita",
    "Anil",
    "Samira",
    "Ibrahim",
    "Khadija",
    "Lindiwe",
    "Thandiwe",
    "Wojciech",
    "Ewan",
    "Isla",
    "Lewis",
    "Freya",
    "Gareth",
    "Sian",
    "Iolo",
    "Ffion",
    "Carys",
    "Malachy",
    "Bernadette",
    "Patricia",
    "Derek",
    "Maureen",
    "Linda",
)

SURNAMES = (
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Roberts",
    "Johnson",
    "Lewis",
    "Walker",
    "Robinson",
    "Wood",
    "Thompson",
    "White",
    "Watson",
    "Jackson",
    "Wright",
    "Green",
    "Harris",
    "Cooper",
    "King",
    "Lee",
    "Martin",
    "Clarke",
    "James",
    "Morgan",
    "Hughes",
    "Edwards",
    "Hill",
    "Moore",
    "Harrison",
    "Scott",
    "Young",
    "Morris",
    "Hall",
    "Ward",
    "Turner",
    "Carter",
    "Phillips",
    "Mitchell",
    "Patel",
    "Khan",
    "Ahmed",
    "Ali",
    "Begum",
    "Hussain",
    "Singh",
    "Kaur",
    "Sharma",
    "Chowdhury",
    "Rahman",
    "Okafor",
    "Adeyemi",
    "Mensah",
    "Owusu",
    "Nwosu",
    "Eze",
    "Kowalski",
    "Nowak",
    "Wiśniewski",
    "Wójcik",
    "Kowalczyk",
    "Popescu",
    "O'Connor",
    "Ó Súilleabháin",
    "Ní Bhriain",
    "Mac Giolla Phádraig",
    "MacLeod",
    "MacDonald",
    "Campbell",
    "Stewart",
    "Fraser",
    "Grant",
    "McKenzie",
    "Murray",
    "Nguyen",
    "Chen",
    "Wong",
    "Yılmaz",
    "Demir",
    "Kovács",
    "Pereira",
    "Santos",
    "da Silva",
    "Fernández",
    "Gonçalves",
    "Llewellyn",
    "Pritchard",
    "Bowen",
    "Rees",
    "Owen",
    "Price",
    "Doherty",
    "Gallagher",
    "Walsh",
    "Brooks",
    "Holt",
    "Dubois",
    "Müller",
    "Nakamura",
    "Adébáyọ̀",
    "Dlamini",
    "Osei",
    "Bakr",
    "Haddad",
)

PHONE_PREFIX = "07700 900"  # Ofcom's range reserved for drama: never a real number

PERSON_NOTES = (
    "Prefers afternoon sessions.",
    "Needs step-free access.",
    "Uses a BSL interpreter: book one for sessions.",
    "Please send papers a week ahead, in large print.",
    "Contact by text, not phone calls.",
    "Brings a support worker to some sessions.",
)

CHARITIES = ("Mind", "Samaritans", "Carers Trust", "Shelter", "Macmillan Cancer Support", "Rethink Mental Illness")

# Ordered preference lists: (kind, note). Every kind appears first somewhere.
PREF_TEMPLATES: dict[str, tuple[tuple[str, str | None], ...]] = {
    "bank": (("bank_transfer", None),),
    "bank_voucher": (("bank_transfer", None), ("voucher", "vouchers: supermarket")),
    "cash": (("cash", "cash at the session, please"),),
    "cash_voucher": (("cash", None), ("voucher", "vouchers: high street")),
    "voucher": (("voucher", "vouchers: supermarket"), ("certificate", None)),
    "voucher_bank": (("voucher", "vouchers: high street"), ("bank_transfer", None)),
    "training": (("training", "training: Level 2 certificate in peer support"), ("bank_transfer", None)),
    "training_mhfa": (("training", "training: Mental Health First Aid course"), ("voucher", "vouchers: supermarket")),
    "certificate": (("certificate", "certificate for my portfolio"),),
    "declined": (("declined", "declined: does not want payment to affect benefits"), ("certificate", None)),
    "declined_volunteer": (("declined", "declined: happy to volunteer"),),
    "charity": (("charity", "charity: Mind"),),
    "bank_cert": (("bank_transfer", None), ("certificate", None)),
}
PREF_WEIGHTS = (
    ("bank", 30),
    ("bank_voucher", 12),
    ("cash", 8),
    ("cash_voucher", 5),
    ("voucher", 8),
    ("voucher_bank", 5),
    ("training", 3),
    ("training_mhfa", 2),
    ("certificate", 4),
    ("declined", 4),
    ("declined_volunteer", 2),
    ("charity", 3),
    ("bank_cert", 4),
    (None, 10),
)
ZERO_ONLY_TEMPLATES = ("declined", "declined_volunteer", "certificate")

CLAIM_COMBOS = (
    ((), 22),
    (("UC",), 18),
    (("UC", "PIP"), 12),
    (("ESA",), 6),
    (("ESA", "PIP"), 7),
    (("PIP",), 6),
    (("CA",), 5),
    (("UC", "CA"), 4),
    (("CSP",), 2),
    (("CSP", "ADP"), 1),
    (("ADP",), 2),
    (("UC", "ADP"), 2),
    (("JSA",), 3),
    (("HB",), 2),
    (("ESA", "HB"), 3),
    (("PC", "HB"), 3),
    (("PC",), 2),
    (("UC", "PIP", "CA"), 2),
    (("ESA", "PIP", "HB"), 2),
)


@dataclass(frozen=True)
class Showcase:
    """A hand-made person for the small demo: together they cover every benefit, kind and state."""

    name: str
    claims: tuple[tuple[str, dict], ...]
    prefs: str | None
    level: str
    consent: bool = True
    special: str | None = None  # "near" / "over" a weekly limit
    email: bool = True
    flags: tuple[str, ...] = ()  # reverse / cancel / draft / approved / other_income / ended


def _answered(code: str, attrs: dict) -> dict:
    """The demo's people answer every question that decides a rule: no work allowance, no pending
    work capability assessment and no help with housing costs unless the showcase says so."""
    if code == "UC":
        attrs = {"work_allowance": False, "lcw_pending": False, "joint_claim": False, **attrs}
        if attrs["work_allowance"]:
            attrs.setdefault("housing_element", False)
    return attrs


SHOWCASE: tuple[Showcase, ...] = (
    Showcase(
        "Zoë Hartley",
        (("UC", {"ap_start_day": 29, "work_allowance": True}), ("PIP", {})),
        "bank_voucher",
        "regular",
        flags=("reverse", "draft"),
    ),
    Showcase("Siobhán Ní Bhriain", (("CA", {}),), "bank", "regular", special="near"),
    Showcase(
        "Łukasz Wiśniewski", (("ESA", {"permitted_work": "higher"}), ("PIP", {})), "cash", "monthly", special="over"
    ),
    Showcase("Aoife Gallagher", (("CSP", {"week_start": "sunday"}), ("ADP", {})), "voucher", "monthly", special="near"),
    Showcase("Olúwaṣeun Adébáyọ̀", (), "bank", "regular", flags=("reverse", "approved")),
    Showcase("Priya Raman", (("UC", {"ap_start_day": 31, "housing_element": True}),), "training", "monthly"),
    Showcase("Mohammed Hussain", (("ESA", {"permitted_work": "lower"}),), "declined", "monthly", email=False),
    Showcase(
        "Margaret O'Neill",
        (("PC", {"disregard": "single"}), ("HB", {"disregard": "single"})),
        "charity",
        "monthly",
        email=False,
    ),
    Showcase("Dafydd ap Rhys", (("JSA", {}),), "cash_voucher", "monthly", flags=("ended",)),
    Showcase("Eilidh MacLeod", (("CSP", {"week_start": "sunday"}), ("UC", {"ap_start_day": 30})), "bank", "monthly"),
    Showcase(
        "Chiamaka Okafor",
        (("UC", {"ap_start_day": 1, "work_allowance": True}), ("CA", {}), ("PIP", {})),
        "bank_cert",
        "monthly",
    ),
    Showcase("Renée Dubois-Clarke", (), None, "occasional", consent=False),
    Showcase("Tomasz Nowak", (("ESA", {"permitted_work": "supported"}),), "voucher_bank", "monthly"),
    Showcase("Jean Thompson", (("HB", {"disregard": "higher"}), ("PIP", {})), "certificate", "occasional", email=False),
    Showcase("Kwame Mensah", (("CA", {}),), "bank", "monthly", special="over"),
    Showcase(
        "Bethan Pritchard",
        (("UC", {"ap_start_day": 15, "work_allowance": True, "housing_element": True}), ("PIP", {})),
        "bank",
        "regular",
        flags=("cancel", "approved"),
    ),
    Showcase("Gurpreet Kaur", (), "charity", "monthly", consent=False),
    Showcase(
        "Darren Walsh",
        (("UC", {"ap_start_day": 8, "housing_element": True}),),
        "cash_voucher",
        "monthly",
        flags=("cancel", "other_income", "draft"),
    ),
    Showcase(
        "Ayşe Yılmaz",
        (("ESA", {"permitted_work": "higher"}), ("HB", {"disregard": "single"})),
        "training_mhfa",
        "monthly",
    ),
    Showcase("Seán Ó Súilleabháin", (("PIP", {}),), "bank", "occasional"),
    Showcase("Fatima Begum", (("UC", {"ap_start_day": 22}), ("CA", {})), "voucher", "monthly"),
    Showcase("Callum Fraser", (("ADP", {}),), "bank", "monthly"),
    Showcase("Thanh Nguyen", (), "declined_volunteer", "occasional"),
    Showcase("Kayleigh Brooks", (("UC", {"ap_start_day": 3}),), "bank", "regular", flags=("other_income",)),
    Showcase("José Gonçalves", (("JSA", {}),), "bank", "occasional"),
    Showcase("Morag Stewart", (("PC", {"disregard": "couple"}),), "charity", "occasional", email=False),
)

ESA_LIMITS = ((date(2026, 4, 6), 20350), (date(2025, 4, 7), 19550), (date(2000, 1, 1), 18350))
CA_LIMITS = ((date(2026, 4, 6), 20400), (date(2025, 4, 7), 19600), (date(2000, 1, 1), 15100))
CSP_LIMITS = ((date(2026, 4, 5), 20400), (date(2025, 4, 6), 19600), (date(2000, 1, 1), 15100))
COUNTED_KINDS = ("cash", "bank_transfer", "voucher", "charity")  # what the default rule pack counts


def _weekly_limit(code: str, attrs: dict, day: date) -> int | None:
    """The weekly earnings limit (pence) a claim sets, for shaping the demo data only."""
    if code == "ESA":
        if attrs.get("permitted_work") == "lower":
            return 2000
        table = ESA_LIMITS
    elif code == "CA":
        table = CA_LIMITS
    elif code == "CSP":
        table = CSP_LIMITS
    else:
        return None
    for since, pence in table:
        if day >= since:
            return pence
    return table[-1][1]


@lru_cache(maxsize=8192)
def _money(pence: int) -> Decimal:
    return (Decimal(pence) / 100).quantize(PENNY)


def _hours(half_hours: int) -> Decimal:
    return _money(half_hours * 50)


def months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    y, m = divmod(index, 12)
    m += 1
    return date(y, m, min(day.day, calendar.monthrange(y, m)[1]))


def _ascii(text: str) -> str:
    text = text.replace("Ł", "L").replace("ł", "l").replace("ø", "o").replace("ß", "ss").replace("ı", "i")
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum() or ch == " ").strip().replace(" ", "")


def _payment_note(contributions: list[dict], worked_on: date) -> str:
    """ "Panel, 7 Dec 2026" for one session; "3 sessions to 7 Dec 2026" for a batch."""
    names = sorted({c["_spec"].name for c in contributions})
    when = contributions[0]["worked_on"] if len(contributions) == 1 else None
    if when and len(names) == 1:
        return f"{names[0]}, {day_text(when)}"
    return f"{len(contributions)} sessions to {day_text(worked_on)}"


# ---------------------------------------------------------------- the generator


@dataclass
class _Person:
    id: int
    index: int
    name: str
    level: str
    pref_kinds: list[str]
    charity: str | None
    claims: list[tuple[str, dict]]
    special: str | None
    flags: tuple[str, ...]
    activities: list[ActivitySpec]
    zero_only: bool = False  # limit so low (ESA lower) that only certificates or declining fit
    ledger: dict[int, int] = field(default_factory=dict)  # counted pence by day ordinal

    def cap(self, day: date) -> int | None:
        """Comfortably below: 60% of the tightest weekly limit among the person's claims."""
        limits = [x for code, attrs in self.claims if (x := _weekly_limit(code, attrs, day)) is not None]
        return min(limits) * 6 // 10 if limits else None

    def tightest(self, day: date) -> int | None:
        limits = [x for code, attrs in self.claims if (x := _weekly_limit(code, attrs, day)) is not None]
        return min(limits) if limits else None

    def fits(self, day: date, pence: int) -> bool:
        cap = self.cap(day)
        if cap is None or pence == 0:
            return True
        o = day.toordinal()
        near = sum(self.ledger.get(d, 0) for d in range(o - 6, o + 7))  # any week containing `day`
        return near + pence <= cap

    def book(self, day: date, pence: int) -> None:
        if pence:
            o = day.toordinal()
            self.ledger[o] = self.ledger.get(o, 0) + pence


class _Ids:
    def __init__(self, tables):
        self.next = {}
        for table in tables:
            self.next[table.name] = (db.session.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1

    def take(self, name: str) -> int:
        value = self.next[name]
        self.next[name] = value + 1
        return value


class _Builder:
    def __init__(
        self,
        rng: Random,
        today: date,
        start: date,
        activities: dict[str, tuple[int, ActivitySpec]],
        users: dict[str, int | None],
    ):
        self.rng = rng
        self.today = today
        self.start = start
        self.days = (today - start).days
        self.now = datetime.combine(today, time(17, 0))
        self.activities = activities  # key -> (id, spec with the row's rate)
        self.coordinator = users.get("coordinator")
        self.finance = users.get("finance")
        self.admin = users.get("admin")
        self.ids = _Ids(
            [
                Person.__table__,
                Preference.__table__,
                Consent.__table__,
                BenefitClaim.__table__,
                Contribution.__table__,
                Payment.__table__,
                Expense.__table__,
                OtherIncome.__table__,
            ]
        )
        self.counts = {
            k: 0
            for k in (
                "people",
                "preferences",
                "consents",
                "claims",
                "contributions",
                "payments",
                "links",
                "expenses",
                "other_income",
                "reversals",
            )
        }
        self.by_status = {s: 0 for s in PAYMENT_STATUSES}
        self.by_kind: dict[str, int] = {}
        self.first_person_id: int | None = None
        self.first_person_name: str | None = None
        self._activity_keys = list(activities)
        self._activity_weights = [activities[k][1].weight for k in self._activity_keys]
        self._pref_keys = [k for k, _ in PREF_WEIGHTS]
        self._pref_weights = [w for _, w in PREF_WEIGHTS]
        self._combo_keys = [c for c, _ in CLAIM_COMBOS]
        self._combo_weights = [w for _, w in CLAIM_COMBOS]
        self._reset_rows()

    def _reset_rows(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {
            name: []
            for name in (
                "person",
                "preference",
                "consent",
                "benefit_claim",
                "contribution",
                "payment",
                "payment_contribution",
                "expense",
                "other_income",
            )
        }

    # ------------------------------------------------------------ writing

    def flush(self):
        order = (
            ("person", table_of(Person)),
            ("preference", table_of(Preference)),
            ("consent", table_of(Consent)),
            ("benefit_claim", table_of(BenefitClaim)),
            ("contribution", table_of(Contribution)),
            ("payment", table_of(Payment)),
            ("payment_contribution", payment_contribution),
            ("expense", table_of(Expense)),
            ("other_income", table_of(OtherIncome)),
        )
        for name, table in order:
            rows = self.rows[name]
            if name == "payment":
                # Originals before reversals: a reversal refers to an earlier row.
                rows.sort(key=lambda r: r["reversal_of_id"] is not None)
            if rows and name in ("contribution", "payment"):
                rows = [{k: v for k, v in r.items() if k[0] != "_"} for r in rows]
            if rows:
                db.session.execute(sa.insert(table), rows)
        self._reset_rows()

    # ------------------------------------------------------------ people

    def person(self, index: int) -> None:
        show = SHOWCASE[index] if index < len(SHOWCASE) else None
        pid = self.ids.take("person")
        first, last, name = self._name(show)
        if self.first_person_id is None:
            self.first_person_id, self.first_person_name = pid, name
        self._person_row(pid, first, last, name, show)
        claims = self._consent_and_claims(pid, show)
        cap = _Person(pid, index, name, "monthly", [], None, claims, None, (), []).cap(self.today)
        zero_only = cap is not None and cap < min(spec.rate_pence for _, spec in self.activities.values())
        prefs, charity = self._preferences(pid, show, zero_only)
        level = show.level if show else self.rng.choices(("regular", "monthly", "occasional"), (15, 50, 35))[0]
        special = self._special(show, zero_only, cap)
        favourites = self._favourites(cap)
        p = _Person(
            pid,
            index,
            name,
            level,
            [k for k, _ in prefs],
            charity,
            claims,
            special,
            show.flags if show else (),
            favourites,
            zero_only,
        )
        self._activity_for(p, show is not None)

    def _name(self, show: Showcase | None) -> tuple[str, str, str]:
        """First name, last name and full name: the showcase's, or a random one."""
        if show:
            first, last = show.name.split(" ", 1)
            return first, last, show.name
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(SURNAMES)
        return first, last, f"{first} {last}"

    def _person_row(self, pid: int, first: str, last: str, name: str, show: Showcase | None) -> None:
        rng = self.rng
        has_email = show.email if show else rng.random() < 0.65
        email = None
        if has_email:
            suffix = "" if show else str(pid)
            domain = rng.choice(("example.org", "example.net", "example.com"))
            email = f"{_ascii(first)}.{_ascii(last)}{suffix}@{domain}"
        phone = f"{PHONE_PREFIX}{rng.randrange(1000):03d}" if rng.random() < 0.4 else None
        notes = rng.choice(PERSON_NOTES) if rng.random() < 0.12 else None
        created = datetime.combine(self.start - timedelta(days=rng.randint(1, 400)), time(10, 0))
        self.rows["person"].append(
            {
                "id": pid,
                "name": name,
                "email": email,
                "phone": phone,
                "notes": notes,
                "ledger_version": 0,
                "created_at": created,
                "updated_at": created,
            }
        )
        self.counts["people"] += 1

    def _consent_and_claims(self, pid: int, show: Showcase | None) -> list[tuple[str, dict]]:
        """Consent for most people, and the benefit claims of those who gave it."""
        rng = self.rng
        consent = show.consent if show else rng.random() < 0.88
        if not consent:
            return []
        given = min(self.today, self.start + timedelta(days=rng.randint(-300, max(0, self.days // 3))))
        self._add(
            "consent",
            "consents",
            pid,
            given_on=given,
            notice_version=rng.choice(("privacy-notice-2024-v2", "privacy-notice-2025-v3")),
            recorded_by_id=self.coordinator,
            recorded_at=datetime.combine(given, time(11, 0)),
            withdrawn_on=None,
        )
        if show:
            claims = [(code, dict(attrs)) for code, attrs in show.claims]
        else:
            combo = rng.choices(self._combo_keys, self._combo_weights)[0]
            claims = [(code, self._random_attrs(code)) for code in combo]
        for code, attrs in claims:
            attrs.update(normalise_attributes(code, _answered(code, attrs)))
            self._claim_row(pid, code, attrs, given, show)
        return claims

    def _claim_row(self, pid: int, code: str, attrs: dict, given: date, show: Showcase | None) -> None:
        rng = self.rng
        start_on = self.start - timedelta(days=rng.randint(60, 2400))
        end_on = None
        if code == "JSA" and ((show and "ended" in show.flags) or (not show and rng.random() < 0.3)):
            end_on = self.start + timedelta(days=rng.randint(self.days // 3, max(self.days // 3, self.days - 1)))
        self._add(
            "benefit_claim",
            "claims",
            pid,
            benefit=code,
            start_on=start_on,
            end_on=end_on,
            attributes=attrs,
            confirmed_on=given if rng.random() < 0.7 else None,
            created_at=datetime.combine(given, time(11, 5)),
            updated_at=datetime.combine(given, time(11, 5)),
        )

    def _preferences(
        self, pid: int, show: Showcase | None, zero_only: bool
    ) -> tuple[tuple[tuple[str, str | None], ...], str | None]:
        """The person's ordered ways of being paid, and the charity they chose (if any)."""
        rng = self.rng
        template = show.prefs if show else rng.choices(self._pref_keys, self._pref_weights)[0]
        if zero_only and (template is None or PREF_TEMPLATES[template][0][0] in COUNTED_KINDS + ("training",)):
            template = rng.choice(ZERO_ONLY_TEMPLATES)
        prefs = PREF_TEMPLATES[template] if template else ()
        charity = None
        for position, (kind, note) in enumerate(prefs):
            if kind == "charity":
                charity = "Mind" if show else rng.choice(CHARITIES)
                note = f"charity: {charity}"
            self.rows["preference"].append(
                {"id": self.ids.take("preference"), "person_id": pid, "position": position, "kind": kind, "note": note}
            )
            self.counts["preferences"] += 1
        return prefs, charity

    def _special(self, show: Showcase | None, zero_only: bool, cap: int | None) -> str | None:
        """Whether the person has a week near ("near") or over ("over") a weekly limit."""
        if show:
            return show.special
        if zero_only or cap is None:
            return None
        roll = self.rng.random()
        return "near" if roll < 0.05 else "over" if roll < 0.08 else None

    def _random_attrs(self, code: str) -> dict:
        rng = self.rng
        if code == "UC":
            return {
                "ap_start_day": rng.randint(1, 31),
                "work_allowance": rng.random() < 0.3,
                "housing_element": rng.random() < 0.45,
            }
        if code == "ESA":
            return {"permitted_work": rng.choices(("lower", "higher", "supported"), (2, 6, 2))[0]}
        if code == "HB":
            return {"disregard": rng.choices(("single", "couple", "higher", "lone_parent"), (5, 2, 2, 2))[0]}
        if code == "PC":
            return {"disregard": rng.choices(("single", "couple", "higher"), (5, 3, 2))[0]}
        return {}

    def _favourites(self, cap: int | None) -> list[ActivitySpec]:
        keys = self._activity_keys
        weights = list(self._activity_weights)
        if cap is not None:  # only activities one session of which stays comfortably below the limit
            weights = [
                0 if spec.unit != "hour" and spec.rate_pence > cap else w
                for w, spec in ((w, self.activities[k][1]) for w, k in zip(weights, keys))
            ]
            if not any(weights):
                weights = list(self._activity_weights)
        chosen: list[ActivitySpec] = []
        for _ in range(self.rng.choice((1, 1, 2, 2, 3))):
            spec = self.activities[self.rng.choices(keys, weights)[0]][1]
            if spec not in chosen:
                chosen.append(spec)
        return chosen

    # ------------------------------------------------------------ contributions and payments

    def _contribution(self, p: _Person, spec: ActivitySpec, worked_on: date, half_hours: int | None = None) -> dict:
        """A session at the usual length, kept comfortably below the person's weekly limit."""
        if half_hours is None:
            half_hours = self.rng.randint(*spec.half_hours)
        if spec.unit == "hour":
            cap = p.cap(worked_on)
            if cap is not None and not p.zero_only:
                half_hours = max(2, min(half_hours, cap * 2 // max(1, spec.rate_pence)))
            value = (spec.rate_pence * half_hours + 1) // 2
        else:
            value = spec.rate_pence
        return self._contribution_row(p, spec, worked_on, half_hours, value, recorded_later=True)

    def _contribution_row(
        self, p: _Person, spec: ActivitySpec, worked_on: date, half_hours: int, value: int, recorded_later: bool
    ) -> dict:
        """Add one contribution row; ``recorded_later``: recorded up to 40 hours after the session
        (otherwise at 5 pm on the day)."""
        rng = self.rng
        prep = rng.randint(*spec.prep_half_hours) if spec.includes_preparation else 0
        row = {
            "id": self.ids.take("contribution"),
            "person_id": p.id,
            "activity_id": self.activities[spec.key][0],
            "worked_on": worked_on,
            "hours": _hours(half_hours),
            "preparation_hours": _hours(prep),
            "role": rng.choice(spec.roles),
            "description": rng.choice(spec.topics) if spec.topics else None,
            "value_owed": _money(value),
            "recorded_by_id": self.coordinator,
        }
        if recorded_later:
            row["created_at"] = min(
                self.now, datetime.combine(worked_on, time(16, 30)) + timedelta(hours=rng.randint(1, 40))
            )
        else:
            row["created_at"] = min(self.now, datetime.combine(worked_on, time(17, 0)))
        self.rows["contribution"].append(row)
        self.counts["contributions"] += 1
        row["_pence"] = value
        row["_spec"] = spec
        return row

    def _activity_for(self, p: _Person, showcase: bool) -> None:
        offsets = self._session_offsets(p, showcase)
        # the special week and other income first, so the weekly budget sees them
        if p.special:
            self._special_week(p)
        if "other_income" in p.flags or (not showcase and self.rng.random() < 0.06):
            self._other_income(p)
        contributions = self._sessions(p, offsets)
        groups = self._payment_groups(p, contributions)
        payments = [self._payment(p, g, first=(i == 0)) for i, g in enumerate(groups)]
        self._showcase_flags(p, payments)
        self._mishaps(p, payments)

    def _session_offsets(self, p: _Person, showcase: bool) -> list[int]:
        """The days (counted from the start) the person comes to a session, in order."""
        rng = self.rng
        months = max(1, round(self.days / 30.4))
        per_month = {"regular": (3.0, 4.5), "monthly": (0.8, 1.6), "occasional": (0.15, 0.5)}[p.level]
        n = round(months * rng.uniform(*per_month))
        if showcase:
            n = max(n, 3)
        n = min(n, self.days + 1)
        offsets = sorted(rng.sample(range(self.days + 1), n)) if n else []
        # draft/approved flags need a recent session; regular people always have one
        if showcase and ("draft" in p.flags or "approved" in p.flags) and offsets and offsets[-1] < self.days - 6:
            offsets[-1] = self.days - rng.randint(1, 5)
            offsets.sort()
        return offsets

    def _add(self, table: str, tally: str, person_id: int, **columns: Any) -> None:
        """Append a row about one person to ``table`` with the next id, and count it under ``tally``."""
        self.rows[table].append({"id": self.ids.take(table), "person_id": person_id, **columns})
        self.counts[tally] += 1

    def _other_income(self, p: _Person) -> None:
        """A few amounts from another job, each only where it fits below the weekly budget."""
        rng = self.rng
        source = rng.choice(
            (
                "Part-time shop work",
                "Self-employed dog walking",
                "Cleaning job (cash in hand)",
                "Bank shifts as a care assistant",
                "Market stall",
            )
        )
        for _ in range(rng.randint(1, 4)):
            day = self.start + timedelta(days=rng.randint(0, self.days))
            pence = rng.randrange(3000, 12000, 50)
            if not p.fits(day, pence):
                continue
            p.book(day, pence)
            self._add(
                "other_income",
                "other_income",
                p.id,
                amount=_money(pence),
                received_on=day,
                source=source,
                recorded_by_id=self.coordinator,
                created_at=min(self.now, datetime.combine(day + timedelta(days=2), time(12, 0))),
            )

    def _sessions(self, p: _Person, offsets: list[int]) -> list[dict]:
        """One contribution on each day, with an expense now and then."""
        rng = self.rng
        contributions = []
        for off in offsets:
            worked_on = self.start + timedelta(days=off)
            spec = rng.choice(p.activities) if p.activities else self.activities["panel"][1]
            contributions.append(self._contribution(p, spec, worked_on))
            if rng.random() < 0.12:
                self._expense(p, worked_on, spec)
        return contributions

    def _payment_groups(self, p: _Person, contributions: list[dict]) -> list[list[dict]]:
        """Mostly one payment a session; some people without a limit are paid monthly for everything."""
        if p.cap(self.today) is None and p.level == "regular" and self.rng.random() < 0.3:
            by_month: dict[tuple[int, int], list[dict]] = {}
            for c in contributions:
                by_month.setdefault((c["worked_on"].year, c["worked_on"].month), []).append(c)
            return list(by_month.values())
        return [[c] for c in contributions]

    def _expense(self, p: _Person, worked_on: date, spec: ActivitySpec) -> None:
        rng = self.rng
        what, low, high, receipt = rng.choice(
            (
                ("Bus fare", 200, 650, True),
                ("Train fare (off-peak return)", 850, 3200, True),
                ("Accessible taxi", 1200, 2800, True),
                ("Mileage at 45p a mile", 450, 1800, False),
                ("Childcare during the session", 1500, 3500, True),
                ("Replacement care for the person I care for", 2000, 4500, True),
            )
        )
        pence = rng.randrange(low, high, 10)
        paid_on = min(self.today, worked_on + timedelta(days=rng.randint(0, 10)))
        if spec.context != "yes":  # counts as earnings unless service-user involvement
            if not p.fits(paid_on, pence):
                return
            p.book(paid_on, pence)
        self._add(
            "expense",
            "expenses",
            p.id,
            amount=_money(pence),
            currency="GBP",
            incurred_on=worked_on,
            paid_on=paid_on,
            description=f"{what}: {spec.name}",
            receipt_ref=f"R-{worked_on:%Y%m%d}-{rng.randrange(1000):03d}" if receipt else None,
            service_user_context=spec.context,
            recorded_by_id=self.finance,
            created_at=datetime.combine(paid_on, time(9, 30)),
        )

    def _kind(self, p: _Person, first: bool) -> str:
        if not p.pref_kinds:
            return "bank_transfer" if self.rng.random() < 0.8 else "cash"
        if first or len(p.pref_kinds) == 1 or self.rng.random() < 0.85:
            return p.pref_kinds[0]
        return p.pref_kinds[1]

    def _payment_row(
        self,
        p: _Person,
        kind: str,
        pence: int,
        paid_on: date,
        worked_on: date,
        status: str,
        contributions: list[dict],
        note: str | None = None,
    ) -> dict:
        pay_id = self.ids.take("payment")
        counted = kind not in NON_MONEY_KINDS
        recorder = self.coordinator if self.rng.random() < 0.7 else self.finance
        created = min(self.now, datetime.combine(worked_on + timedelta(days=1), time(10, 0)))
        if note is None:
            note = _payment_note(contributions, worked_on)
        row = {
            "id": pay_id,
            "person_id": p.id,
            "kind": kind,
            "amount": _money(pence if counted else 0),
            "benefit_value": _money(pence) if kind == "training" else None,
            "amount_offered": _money(pence) if kind in ("certificate", "declined", "charity") else None,
            "currency": "GBP",
            "status": status,
            "due_on": paid_on,
            "paid_on": paid_on,
            "worked_on": worked_on,
            "method": None,
            "reference": None,
            "note": note,
            "charity_name": (p.charity or "Mind") if kind == "charity" else None,
            "override_reason": None,
            "reversal_of_id": None,
            "reason": None,
            "recorded_by_id": recorder,
            "approved_by_id": None,
            "paid_by_id": None,
            "created_at": created,
            "approved_at": None,
            "paid_at": None,
            "cancelled_at": None,
            "version": 1,
            "_pence": pence if counted else 0,
            "_contributions": contributions,
        }
        if status in ("approved", "paid"):
            self._approve(row)
        if status == "paid":
            self._pay(row)
        self._add_payment(row)
        return row

    def _approve(self, row: dict) -> None:
        """Approved by finance (by admin when finance recorded it) within two days of being recorded."""
        row["approved_by_id"] = self.admin if row["recorded_by_id"] == self.finance else self.finance
        row["approved_at"] = min(self.now, row["created_at"] + timedelta(hours=self.rng.randint(2, 48)))

    def _pay(self, row: dict) -> None:
        """Paid by finance on the day (a bank transfer goes the day before), never before approval."""
        days_before = 1 if row["kind"] == "bank_transfer" else 0
        paid_at = datetime.combine(row["paid_on"], time(9, 0)) - timedelta(days=days_before)
        row["paid_by_id"] = self.finance
        row["paid_at"] = max(paid_at, row["approved_at"])
        row["method"], row["reference"] = self._method(row["kind"], row["id"])

    def _add_payment(self, row: dict) -> None:
        """Keep the row, link it to its contributions, and count it."""
        for c in row["_contributions"]:
            self.rows["payment_contribution"].append({"payment_id": row["id"], "contribution_id": c["id"]})
            self.counts["links"] += 1
        self.rows["payment"].append(row)
        self.counts["payments"] += 1
        self.by_status[row["status"]] += 1
        self.by_kind[row["kind"]] = self.by_kind.get(row["kind"], 0) + 1

    def _method(self, kind: str, pay_id: int) -> tuple[str | None, str | None]:
        if kind == "bank_transfer":
            return "Faster Payment", f"TRK{pay_id:07d}"
        if kind == "cash":
            return "cash", f"Petty cash receipt {pay_id % 10000:04d}"
        if kind == "voucher":
            return "e-voucher", f"VCH-{(pay_id * 7919) % 10**8:08d}"
        if kind == "training":
            return "course place", f"Booking {pay_id}"
        if kind == "charity":
            return "donation by bank transfer", f"DON-{pay_id:06d}"
        if kind == "certificate":
            return "certificate issued", f"CERT-{pay_id:06d}"
        return None, None

    def _payment(self, p: _Person, group: list[dict], first: bool) -> dict:
        worked_on = max(c["worked_on"] for c in group)
        pence = sum(c["_pence"] for c in group)
        kind = self._payment_kind(p, first, pence, worked_on)
        counted = pence if kind in COUNTED_KINDS else 0
        paid_on = self._pay_day(p, worked_on, counted, batch=len(group) > 1)
        p.book(paid_on, counted)
        return self._payment_row(p, kind, pence, paid_on, worked_on, self._status(paid_on, worked_on), group)

    def _payment_kind(self, p: _Person, first: bool, pence: int, worked_on: date) -> str:
        """The person's preferred kind; one that carries no money when the amount would pass their budget."""
        kind = self._kind(p, first)
        if kind in COUNTED_KINDS and pence > (p.cap(worked_on) or pence):
            kind = next((k for k in p.pref_kinds if k not in COUNTED_KINDS), "certificate")
        return kind

    def _pay_day(self, p: _Person, worked_on: date, counted: int, batch: bool) -> date:
        """3 to 14 days after the session (a monthly batch: early the next month), moved on a week at a
        time (up to ten) until the amount fits the weekly budget."""
        rng = self.rng
        paid_on = worked_on + timedelta(days=rng.randint(3, 14))
        if batch:
            paid_on = months_before(worked_on.replace(day=1), -1) + timedelta(days=rng.randint(2, 8))
        tries = 0
        while counted and not p.fits(paid_on, counted) and tries < 10:
            paid_on += timedelta(days=7)
            tries += 1
        return paid_on

    def _status(self, paid_on: date, worked_on: date) -> str:
        if paid_on <= self.today:
            return "paid"
        if (self.today - worked_on).days >= 3 and self.rng.random() < 0.6:
            return "approved"
        return "draft"

    def _special_week(self, p: _Person) -> None:
        """Put the person near (90-99%) or over a weekly limit in one week, paid on one day."""
        if self.days < 24:
            return
        paid_on = self.today - timedelta(days=self.rng.randint(10, min(70, self.days - 10)))
        limit = p.tightest(paid_on)
        half = self.activities["panel"][1].rate_pence // 2
        if limit is None or half <= 0:
            return
        parts = self._near_parts(limit, half) if p.special == "near" else self._over_parts()
        rows = [
            self._contribution_exact(p, spec, paid_on - timedelta(days=6 - 2 * i), half_hours)
            for i, (spec, half_hours) in enumerate(parts)
        ]
        total = sum(r["_pence"] for r in rows)
        if p.special == "over" and total <= limit:
            rows.append(self._contribution_exact(p, self.activities["panel"][1], paid_on - timedelta(days=1), 12))
            total = sum(r["_pence"] for r in rows)
        kind = (
            p.pref_kinds[0]
            if p.pref_kinds and p.pref_kinds[0] in ("cash", "bank_transfer", "voucher")
            else "bank_transfer"
        )
        p.book(paid_on, total)
        row = self._payment_row(p, kind, total, paid_on, rows[-1]["worked_on"], "paid", rows)
        if p.special == "over":
            row["override_reason"] = (
                "The person chose to take the full fee for the training week after "
                "talking to their benefits adviser; they will report the earnings."
            )

    def _near_parts(self, limit: int, half: int) -> list[tuple[ActivitySpec, int | None]]:
        """Sessions that come to 90-99% of the limit: a training day and panel hours, or panel hours alone."""
        day_spec = self.activities["training"][1]
        hour_spec = self.activities["panel"][1]
        target = (limit * 96 // 100) // half * half
        if target * 10 < limit * 9:
            target = (limit - 1) // half * half
        rest = target - day_spec.rate_pence
        if rest >= 2 * half and rest <= 12 * half:
            return [(day_spec, None), (hour_spec, rest // half)]
        return [(hour_spec, min(12, target // half))]

    def _over_parts(self) -> list[tuple[ActivitySpec, int | None]]:
        """A training day and a housing workshop: over most weekly limits."""
        return [(self.activities["training"][1], None), (self.activities["housing"][1], None)]

    def _contribution_exact(self, p: _Person, spec: ActivitySpec, worked_on: date, half_hours: int | None) -> dict:
        hh = half_hours if half_hours is not None else self.rng.randint(*spec.half_hours)
        value = (spec.rate_pence * hh + 1) // 2 if spec.unit == "hour" else spec.rate_pence
        return self._contribution_row(p, spec, worked_on, hh, value, recorded_later=False)

    def _set_pending(self, row: dict, status: str) -> None:
        if row["status"] == status:
            return
        self.by_status[row["status"]] -= 1
        self.by_status[status] += 1
        row["status"] = status
        soon = self.today + timedelta(days=3 if status == "approved" else 7)
        row["paid_on"] = row["due_on"] = max(row["paid_on"], soon)
        row["paid_by_id"] = row["paid_at"] = row["method"] = row["reference"] = None
        if status == "draft":
            row["approved_by_id"] = row["approved_at"] = None
        else:
            approver = self.admin if row["recorded_by_id"] == self.finance else self.finance
            row["approved_by_id"] = approver
            row["approved_at"] = min(self.now, row["created_at"] + timedelta(hours=4))

    def _showcase_flags(self, p: _Person, payments: list[dict]) -> None:
        if not payments:
            return
        if "draft" in p.flags:
            self._set_pending(payments[-1], "draft")
        elif "approved" in p.flags:
            self._set_pending(payments[-1], "approved")

    def _mishaps(self, p: _Person, payments: list[dict]) -> None:
        """Cancel a few duplicates and reverse a few paid payments (never for capped people)."""
        rng = self.rng
        capped = p.cap(self.today) is not None
        want_reverse = "reverse" in p.flags
        want_cancel = "cancel" in p.flags
        for row in payments:
            if row["status"] != "paid":
                continue
            if (want_cancel or rng.random() < 0.015) and not capped:
                want_cancel = False
                self._cancelled_duplicate(p, row)
            elif (
                (want_reverse or rng.random() < 0.005)
                and not capped
                and row["kind"] in ("cash", "bank_transfer", "voucher")
                and row["_pence"] > 0
            ):
                want_reverse = False
                self._reverse(p, row)

    def _cancelled_duplicate(self, p: _Person, original: dict) -> None:
        reason = self.rng.choice(
            (
                "Recorded twice by mistake.",
                "Wrong amount entered; recorded again.",
                "The person asked to be paid another way.",
            )
        )
        row = self._payment_row(
            p,
            original["kind"],
            original["_pence"],
            original["paid_on"],
            original["worked_on"],
            "cancelled",
            original["_contributions"],
            note=original["note"],
        )
        row["reason"] = reason
        row["cancelled_at"] = min(self.now, row["created_at"] + timedelta(hours=6))

    def _reverse(self, p: _Person, original: dict) -> None:
        rng = self.rng
        reason = rng.choice(
            (
                "Paid to an old bank account; paid again to the right one.",
                "Paid twice by mistake; the duplicate was returned.",
                "Voucher code did not work; a new one was issued.",
            )
        )
        rev_id = self.ids.take("payment")
        amount = original["amount"]
        when = min(self.now, original["paid_at"] + timedelta(days=rng.randint(2, 6)))
        self.rows["payment"].append(
            {
                **{k: v for k, v in original.items() if not k.startswith("_")},
                "id": rev_id,
                "amount": -amount,
                "benefit_value": -original["benefit_value"] if original["benefit_value"] is not None else None,
                "status": "paid",
                "reversal_of_id": original["id"],
                "reason": reason,
                "note": f"Reversal of payment {original['id']}",
                "override_reason": None,
                "reference": f"REV-{original['reference']}"[:100],
                "recorded_by_id": self.finance,
                "approved_by_id": self.admin,
                "paid_by_id": self.finance,
                "created_at": when,
                "approved_at": when,
                "paid_at": when,
                "cancelled_at": None,
                "version": 1,
            }
        )
        self.counts["payments"] += 1
        self.counts["reversals"] += 1
        self.by_status["paid"] += 1
        self.by_kind[original["kind"]] = self.by_kind.get(original["kind"], 0) + 1
        # the replacement, paid a week or two later
        again = original["paid_on"] + timedelta(days=rng.randint(7, 14))
        status = "paid" if again <= self.today else "approved"
        self._payment_row(
            p,
            original["kind"],
            original["_pence"],
            again,
            original["worked_on"],
            status,
            original["_contributions"],
            note=f"Replaces payment {original['id']} (reversed)",
        )


# ---------------------------------------------------------------- the seed function


def _ensure_activities() -> dict[str, tuple[int, ActivitySpec]]:
    """Reuse activities of the same name (a --force run adds no duplicates); create the rest."""
    out = {}
    existing = {a.name: a for a in db.session.scalars(sa.select(Activity))}
    for spec in ACTIVITIES:
        row = existing.get(spec.name)
        if row is None:
            row = Activity(
                name=spec.name,
                description=spec.description,
                default_rate=_money(spec.rate_pence),
                rate_unit=spec.unit,
                includes_preparation=spec.includes_preparation,
                service_user_context=spec.context,
                consulting_body=spec.body,
            )
            db.session.add(row)
            db.session.flush()
        rate = int(row.default_rate * 100)  # an admin may have changed it: use the row's rate
        out[spec.key] = (row.id, ActivitySpec(**{**spec.__dict__, "rate_pence": rate}))
    return out


def _user(email: str, role: str, name: str | None, password: str, person_id: int | None = None) -> tuple[int, bool]:
    from tracker.auth import service

    found = db.session.scalar(sa.select(User).where(User.email == email))
    if found is not None:
        return found.id, False
    user = service.create_user(email, role, person_id=person_id, password=password, name=name)
    return user.id, True


def _fix_sequences(tables) -> None:
    """Explicit ids leave PostgreSQL's sequences behind: move them past the rows just written."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        db.session.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table}"), 1))'
            )
        )


def seed(
    people: int = 30,
    months: int = 6,
    seed: int = 1,
    today: date | None = None,
    password: str = DEFAULT_PASSWORD,
    force: bool = False,
) -> dict:
    """Add demo data inside the current app context and commit; return what was added.

    Does nothing (``{"skipped": True, ...}``) when there are already people, unless ``force``.
    """
    if people < 1:
        raise ValueError("people must be at least 1")
    if months < 1:
        raise ValueError("months must be at least 1")
    today = today or _today()
    existing = db.session.scalar(sa.select(sa.func.count()).select_from(Person)) or 0
    if existing and not force:
        return {
            "skipped": True,
            "existing_people": existing,
            "people": 0,
            "claims": 0,
            "contributions": 0,
            "payments": 0,
            "sign_ins": [],
        }

    started = _time.monotonic()
    rng = Random(seed)
    start = months_before(today, months)
    activities = _ensure_activities()

    users: dict[str, int | None] = {}
    sign_ins = []
    for email, role, name in SIGN_INS:
        if role == "contributor":
            continue
        users[role], created = _user(email, role, name, password)
        sign_ins.append({"email": email, "role": role, "created": created})

    builder = _Builder(rng, today, start, activities, users)
    for index in range(people):
        builder.person(index)
        if (index + 1) % CHUNK_PEOPLE == 0:
            builder.flush()
    builder.flush()
    _fix_sequences(
        ("person", "preference", "consent", "benefit_claim", "contribution", "payment", "expense", "other_income")
    )

    email, role, _ = SIGN_INS[-1]
    _, created = _user(email, role, builder.first_person_name, password, person_id=builder.first_person_id)
    sign_ins.append({"email": email, "role": role, "created": created, "person": builder.first_person_name})
    db.session.commit()

    counts: dict[str, object] = dict(builder.counts)
    counts.update(
        {
            "skipped": False,
            "activities": len(activities),
            "by_status": dict(builder.by_status),
            "by_kind": dict(sorted(builder.by_kind.items())),
            "sign_ins": sign_ins,
            "start": start,
            "today": today,
            "seconds": round(_time.monotonic() - started, 1),
        }
    )
    return counts


# ---------------------------------------------------------------- the command


@click.group(help="Demo data.")
def demo():
    pass


@demo.command("seed", help="Add a believable demo organisation; large --people builds a benchmark data set.")
@click.option(
    "--people", default=30, show_default=True, type=click.IntRange(1, 1_000_000), help="How many people (contributors)."
)
@click.option(
    "--months",
    default=6,
    show_default=True,
    type=click.IntRange(1, 120),
    help="How many months of history, back from --today.",
)
@click.option(
    "--seed",
    "seed_value",
    default=1,
    show_default=True,
    type=int,
    help="Random seed: the same seed and date give the same data.",
)
@click.option(
    "--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Anchor date YYYY-MM-DD (default: today)."
)
@click.option("--password-stdin", is_flag=True, help="Read the demo users' password from standard input.")
@click.option("--force", is_flag=True, help="Add more even when the database already has people.")
@with_appcontext
def seed_command(people, months, seed_value, today, password_stdin, force):
    if today and not in_day_range(today.date()):
        raise click.UsageError(f"--today: {DAY_RANGE_MESSAGE}")
    password = DEFAULT_PASSWORD
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        problem = password_problem(password)
        if problem:
            raise click.UsageError(f"The demo password is refused: {problem}")
    result = seed(
        people=people,
        months=months,
        seed=seed_value,
        today=today.date() if today else None,
        password=password,
        force=force,
    )
    if result["skipped"]:
        click.echo(
            f"The database already has {result['existing_people']} people: nothing added. Use --force to add more."
        )
        return
    s = result["by_status"]
    click.echo(
        f"Demo data added: {day_text(result['start'])} to {day_text(result['today'])} "
        f"(seed {seed_value}, {result['seconds']} s)."
    )
    click.echo(f"  people         {result['people']:>9,}  ({result['consents']:,} with consent)")
    click.echo(f"  benefit claims {result['claims']:>9,}")
    click.echo(f"  activities     {result['activities']:>9,}")
    click.echo(f"  contributions  {result['contributions']:>9,}")
    click.echo(
        f"  payments       {result['payments']:>9,}  (paid {s['paid']:,}, approved {s['approved']:,}, "
        f"draft {s['draft']:,}, cancelled {s['cancelled']:,}; {result['reversals']:,} reversals)"
    )
    click.echo(f"  expenses       {result['expenses']:>9,}")
    click.echo(f"  other income   {result['other_income']:>9,}")
    click.echo("Sign in with:")
    shown = "demo-password-1" if password == DEFAULT_PASSWORD else "(the password you gave)"
    for u in result["sign_ins"]:
        extra = f"  ({u['person']})" if u.get("person") and u["created"] else ""
        if u["created"]:
            click.echo(f"  {u['email']} / {shown}{extra}")
        else:
            click.echo(f"  {u['email']} (already existed; password unchanged)")
