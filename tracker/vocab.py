"""The tracker's one vocabulary: codes, the sets they form, ceilings, and the words people read.

Every area, the pure engine (as plain data), the pages, the PDFs and the API take their codes and
labels from here, so a benefit, a payment kind or a role is spelled one way everywhere. This module
imports nothing from the tracker, Flask or SQLAlchemy. Labels are plain English strings kept in one
place, ready for a translation catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

# ---- roles --------------------------------------------------------------------------------------

ROLES = ("admin", "finance", "coordinator", "contributor")
STAFF_ROLES = ("admin", "finance", "coordinator")
#: Who records, approves and pays money.
FINANCE_ROLES = ("admin", "finance")
#: Who looks after people and may see which benefits they receive (special-category data).
BENEFIT_INFO_ROLES = ("admin", "coordinator")
#: Who must use a second factor (a one-time code) when REQUIRE_2FA is on; others may choose to.
TWO_FACTOR_ROLES = ("admin", "finance")
ROLE_LABELS = {"admin": "Admin", "finance": "Finance", "coordinator": "Coordinator", "contributor": "Contributor"}

# ---- ceilings and ranges ------------------------------------------------------------------------

#: The largest amount one payment, expense, session or income entry may carry.
MAX_AMOUNT = Decimal("100000.00")
#: The most hours one contribution may record for a day.
MAX_HOURS = Decimal("24")
#: The largest figure a benefit rule may carry (a limit, a capital threshold).
MAX_RULE_LIMIT = Decimal("1000000")
#: The largest id a database id column holds (INTEGER: 32 bits on PostgreSQL): a bigger number is
#: "not found", or a 422 in a request body, never a database error.
MAX_ID = 2**31 - 1
#: The last page number a list accepts.
MAX_PAGE = 100_000
#: The most rows one page of an API list holds.
MAX_PER_PAGE = 200
#: The longest cursor (the signed "where the next page starts" of a list) a request may carry.
MAX_CURSOR = 500
#: The most risk flags one page of the API's list holds (and how many it gives without per_page).
MAX_FLAGS_PER_PAGE = 500
#: Dates outside these years are refused.
FIRST_YEAR, LAST_YEAR = 2000, 2100

# ---- benefits -----------------------------------------------------------------------------------

BENEFITS = ("UC", "ESA", "CA", "CSP", "JSA", "HB", "PC", "PIP", "ADP", "TAX")
#: The one tax rule: it is not a benefit, so finance may see its name.
TAX = "TAX"

BENEFIT_NAMES = {
    "UC": "Universal Credit",
    "ESA": "Employment and Support Allowance",
    "CA": "Carer's Allowance",
    "CSP": "Carer Support Payment",
    "JSA": "Jobseeker's Allowance",
    "HB": "Housing Benefit",
    "PC": "Pension Credit",
    "PIP": "Personal Independence Payment",
    "ADP": "Adult Disability Payment",
    "TAX": "Income tax (trading allowance)",
}

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def benefit_name(code: str | None) -> str:
    """The benefit's name for people; an unknown code is shown as it is."""
    return BENEFIT_NAMES.get(code or "", code or "")


@dataclass(frozen=True)
class Attr:
    """A claim attribute a rule depends on: its name, label, kind and allowed values."""

    name: str
    label: str
    kind: str  # "int", "bool", "choice", "date"
    default: object = None
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    hint: str = ""
    #: The answer decides which rule applies, so it is never defaulted: it must be answered.
    decides_rule: bool = False
    #: Asked only when another attribute has this value, as (name, value).
    only_if: tuple[str, object] | None = None

    def asked_when(self, values: Mapping[str, object]) -> bool:
        """Whether the question is asked, given the claim's other answers."""
        return self.only_if is None or values.get(self.only_if[0]) == self.only_if[1]


@dataclass(frozen=True)
class Benefit:
    code: str
    name: str
    attributes: tuple[Attr, ...] = ()
    claimable: bool = True
    info_only: bool = False


#: The Universal Credit claim attribute that says a couple claims together. A claim that answers
#: it "no" never counts a partner's earnings; any other claim counts them where its rule says so.
JOINT_CLAIM = "joint_claim"
#: Benefits assessed on the household: only their rules may count a partner's earnings
#: (``counts.partner``). A person's own limits (CA, CSP, ESA, JSA) never do.
HOUSEHOLD_BENEFITS = ("UC", "HB", "PC")


def _week(default: str) -> Attr:
    return Attr(
        "week_start",
        "Day the benefit week starts",
        "choice",
        default,
        choices=WEEKDAYS,
        hint="Shown on the award letter. Earnings are counted per benefit week.",
    )


#: The public contract's table of benefit codes and the claim attributes each one needs.
BENEFIT_INFO: dict[str, Benefit] = {
    b.code: b
    for b in (
        Benefit(
            "UC",
            "Universal Credit",
            (
                Attr(
                    "ap_start_day",
                    "Day of the month the assessment period starts",
                    "int",
                    None,
                    required=True,
                    minimum=1,
                    maximum=31,
                    hint="The date in the person's Universal Credit journal, from 1 to 31.",
                ),
                Attr(
                    "work_allowance",
                    "Has a work allowance",
                    "bool",
                    hint="Only with a child or limited capability for work.",
                    decides_rule=True,
                ),
                Attr(
                    "housing_element",
                    "Award includes help with housing costs",
                    "bool",
                    hint="With help for housing costs the work allowance is lower.",
                    decides_rule=True,
                    only_if=("work_allowance", True),
                ),
                Attr(
                    "lcw_pending",
                    "Waiting for a work capability assessment",
                    "bool",
                    hint="While it is pending, monthly earnings at 16 hours at the National Living Wage can end it.",
                    decides_rule=True,
                ),
                Attr(
                    JOINT_CLAIM,
                    "Joint claim with a partner",
                    "bool",
                    hint="A couple claims together: one work allowance, and the partner's earnings count too.",
                    decides_rule=True,
                ),
            ),
        ),
        Benefit(
            "ESA",
            "Employment and Support Allowance (new style)",
            (
                Attr(
                    "permitted_work",
                    "Permitted work limit",
                    "choice",
                    choices=("lower", "higher", "supported"),
                    hint="On the permitted work letter from DWP.",
                    decides_rule=True,
                ),
                _week("monday"),
            ),
        ),
        Benefit("CA", "Carer's Allowance", (_week("monday"),)),
        Benefit("CSP", "Carer Support Payment (Scotland)", (_week("sunday"),)),
        Benefit("JSA", "Jobseeker's Allowance (new style)", (_week("monday"),)),
        Benefit(
            "HB",
            "Housing Benefit",
            (
                Attr(
                    "disregard",
                    "Earnings disregard",
                    "choice",
                    "single",
                    choices=("single", "couple", "higher", "lone_parent"),
                ),
                _week("monday"),
            ),
        ),
        Benefit(
            "PC",
            "Pension Credit",
            (
                Attr("disregard", "Earnings disregard", "choice", "single", choices=("single", "couple", "higher")),
                _week("monday"),
            ),
        ),
        Benefit("PIP", "Personal Independence Payment", (), info_only=True),
        Benefit("ADP", "Adult Disability Payment (Scotland)", (), info_only=True),
        Benefit("TAX", "Trading allowance (income tax)", (), claimable=False),
    )
}

CLAIMABLE_CODES = tuple(code for code, b in BENEFIT_INFO.items() if b.claimable)

#: Contract defaults for claim attributes, by benefit code (plain data for the engine).
CLAIM_DEFAULTS: dict[str, dict[str, object]] = {
    code: {a.name: a.default for a in b.attributes if a.default is not None} for code, b in BENEFIT_INFO.items()
}

#: A benefit's name inside a sentence: the tax rule reads "income tax" there.
BENEFIT_NAMES_INLINE = {**BENEFIT_NAMES, "TAX": "income tax"}

# ---- payments -----------------------------------------------------------------------------------

PAYMENT_KINDS = ("cash", "bank_transfer", "voucher", "training", "certificate", "declined", "charity")
#: Kinds that carry no money, so they cannot keep an amount.
NON_MONEY_KINDS = frozenset({"certificate", "declined"})
#: Kinds paid as money to the person (or to a charity for them), which every earnings limit in the
#: default pack counts: what another organisation's signed earnings record adds as other income.
EARNED_MONEY_KINDS = ("cash", "bank_transfer", "voucher", "charity")
#: The longest period one earnings record covers (a tax year and a day).
MAX_RECORD_DAYS = 366

#: How staff read a payment kind.
KIND_LABELS = {
    "cash": "Cash",
    "bank_transfer": "Bank transfer",
    "voucher": "Vouchers",
    "training": "Training (in kind)",
    "certificate": "A certificate (no money)",
    "declined": "Declined (the person chose not to be paid)",
    "charity": "Paid to a charity the person chose",
}
#: How a contributor reads their own payment kind.
KIND_LABELS_FOR_YOU = {
    "cash": "Cash",
    "bank_transfer": "Bank transfer",
    "voucher": "Vouchers",
    "training": "Training",
    "certificate": "A certificate (no money)",
    "declined": "You chose not to be paid",
    "charity": "Paid to a charity you chose",
}
#: What each way of being paid is, and what it usually means for benefits: the preferences page's hints.
#: Hedged on purpose (the tracker's check and an adviser say what applies to one person).
KIND_DESCRIPTIONS = {
    "cash": "Money in your hand. It usually counts as earnings for benefits such as Universal Credit.",
    "bank_transfer": "Money paid into your bank account. It usually counts as earnings, as cash does.",
    "voucher": "Shop or gift vouchers instead of money. Whether they count as earnings depends on the benefit.",
    "training": "A course or training place paid for you. It does not usually count as earnings.",
    "certificate": "A certificate that shows what you did, with no money. It does not count as earnings.",
    "declined": "No payment. Turning down money you were offered can sometimes still count for benefits.",
    "charity": "We pay a charity you choose instead of you. This can sometimes still count as your earnings.",
}
#: How a person likes their statements and certificates made (issue 16, item 4): the usual layout, or
#: easy read (large type, one idea per line, short words, a picture for each part).
DOCUMENT_FORMATS = ("standard", "easy_read")
DOCUMENT_FORMAT_LABELS = {"standard": "Standard", "easy_read": "Easy read"}
DOCUMENT_FORMAT_HINTS = {
    "standard": "The usual layout, with tables.",
    "easy_read": "Large writing, short sentences and a picture for each part.",
}
#: A kind inside a sentence ("£20.00 vouchers on 7 December 2026").
KIND_WORDS_INLINE = {
    "cash": "cash",
    "bank_transfer": "bank transfer",
    "voucher": "vouchers",
    "training": "training",
    "certificate": "a certificate",
    "declined": "declined",
    "charity": "to a charity",
}

PAYMENT_STATUSES = ("draft", "approved", "paid", "cancelled")
#: The payments list's sortable columns: ?sort=date (oldest first) or ?sort=-date (newest first).
PAYMENT_SORTS = ("date", "amount", "person", "status")
PAYMENT_STATUS_LABELS = {
    "draft": "Draft: waiting for approval",
    "approved": "Approved: not yet paid",
    "paid": "Paid",
    "cancelled": "Cancelled",
}

#: How a payment was made. Month end groups paid payments by these words.
PAY_METHODS = (
    "bank transfer",
    "cash",
    "voucher",
    "cheque",
    "training place",
    "charity donation",
    "no money (certificate or decline)",
)
#: A method outside the list: the payment keeps a note saying what it was.
PAY_METHOD_OTHER = "other"
#: Every method a payment may be marked paid with (month end groups by these).
PAY_METHOD_CHOICES = PAY_METHODS + (PAY_METHOD_OTHER,)
#: Older free-text spellings, lower case, and the method each one means.
PAY_METHOD_ALIASES = {
    "faster payment": "bank transfer",
    "faster payments": "bank transfer",
    "bacs": "bank transfer",
    "bank transfer": "bank transfer",
}
PAY_METHOD_LABELS = {**{m: m.capitalize() for m in PAY_METHODS}, PAY_METHOD_OTHER: "Other (say what in the note)"}

SERVICE_USER_CONTEXTS = ("yes", "no", "unknown")
SERVICE_USER_CONTEXT_LABELS = {"yes": "Yes", "no": "No", "unknown": "Not sure"}
#: Payment runs (tracker/runs): approved bank transfers gathered for a pay date.
RUN_STATUSES = ("open", "paid", "cancelled")
RUN_STATUS_WORDS = {"open": "Open", "paid": "Paid", "cancelled": "Cancelled"}

# ---- rules and verdicts -------------------------------------------------------------------------

MEASURES = ("earnings", "hours")
RULE_KINDS = ("cliff", "taper", "info")
BREACHES = ("above", "at_or_above")
#: Which date a payment counts on: when received (UC, reg 54), when due (CA, CSP, ESA, JSA), or when
#: the work was done. See docs/rules-engine.md, "Which date counts".
DATE_BASES = ("received", "due", "worked")
#: Which benefit period a total decides: its own, or (CA, CSP) the benefit week after it.
AFFECTS = ("period", "following_week")
#: The longest period a payment can say it covers, and how far after its due date that period may end.
MAX_COVER_DAYS = 366
MAX_COVER_AFTER_DUE_DAYS = 31
#: How far a due date may be from the date the person receives the payment.
MAX_DUE_GAP_DAYS = 366
SEVERITIES = ("warn", "block")
CONFIDENCES = ("confirmed", "secondary", "derived", "unconfirmed")
EXPENSE_MODES = ("never", "unless_service_user")

#: What a verdict measures: a rule's measure, or ``notional_earnings`` when its total includes money
#: offered and declined, reduced or given to a charity with no exemption established.
VERDICT_MEASURES = (*MEASURES, "notional_earnings")
#: The verdict measures whose figures are money.
MONEY_MEASURES = ("earnings", "notional_earnings")

# ---- notional earnings --------------------------------------------------------------------------

#: What kind of payer the organisation is (config ORGANISATION_PAYER): it decides whether the
#: charity or voluntary-organisation exemption from notional earnings can apply (UC reg 60(4)(a)).
PAYER_KINDS = ("charity", "public_body", "company")
PAYER_LABELS = {
    "charity": "A charity or voluntary organisation",
    "public_body": "A public body (NHS, local authority, university, government)",
    "company": "A company or other business",
}
#: Kinds judged for notional earnings when money was offered (a payment with ``amount_offered``
#: above what was given is "reduced", whatever its kind).
NOTIONAL_KINDS = frozenset({"declined", "charity", "training", "certificate"})
#: The exemptions from notional earnings the tracker can establish.
NOTIONAL_EXEMPTIONS = ("service_user", "charity")


@dataclass(frozen=True)
class NotionalBasis:
    """Where a benefit's regulations treat money offered and not taken as earnings, and which
    exemptions they allow (``docs/rules-engine.md``, "Notional earnings")."""

    exemptions: tuple[str, ...]
    source: str


_EASEMENT_2009 = "https://www.legislation.gov.uk/uksi/2009/2655/regulation/6/made/data.xht"
#: The benefits whose regulations can treat money offered as earnings (notional earnings). Not
#: listed: PC (the tracker has no source for it), PIP, ADP and the trading allowance.
NOTIONAL_EARNINGS: dict[str, NotionalBasis] = {
    # UC Regs 2013 reg 60(3); not for a service user (reg 60(4)(b)) or for charity or voluntary
    # work where it is reasonable to be unpaid (reg 60(4)(a)).
    "UC": NotionalBasis(
        ("service_user", "charity"), "https://www.legislation.gov.uk/uksi/2013/376/regulation/60/2013-04-29/data.html"
    ),
    # Legacy benefits: notional earnings, with the service-user easement of SI 2009/2655 (ESA, JSA,
    # HB) and SI 2009/2678 (the Computation of Earnings Regs 1996 reg 4, which govern CA).
    "ESA": NotionalBasis(("service_user",), _EASEMENT_2009),
    "JSA": NotionalBasis(("service_user",), _EASEMENT_2009),
    "HB": NotionalBasis(("service_user",), _EASEMENT_2009),
    "CA": NotionalBasis(("service_user",), "https://www.legislation.gov.uk/uksi/1996/2745/regulation/4"),
    # CSP's earnings schedule mirrors the CA Computation of Earnings rules (Scottish Government note
    # to SCoSS): assumed to carry the same notional-earnings rule and easement (unconfirmed).
    "CSP": NotionalBasis(
        ("service_user",),
        "https://socialsecuritycommission.scot/publications/draft-regulations/the-carers-assistance-carer-support-"
        "payment-scotland-regulations-2023/draft-carers-assistance-carer-support-payment-scotland-regulations-2023-"
        "further-update-from-scottish-government/",
    ),
}

VERDICT_STATUS_WORDS = {
    "ok": "Within the limit",
    "near": "Close to the limit",
    "over": "Over the limit",
    "info": "For information",
    "unknown": "Not checked: no rule covers this date",
}
VERDICT_STATUSES = tuple(VERDICT_STATUS_WORDS)

#: What a verdict costs the person (``Verdict.effect``), worst first: the benefit stops for the
#: period (a cliff edge is over), it is reduced (a taper with a reduction above zero), nothing was
#: checked (no rule covers the claim), close to a limit, within it, or information only. Pages,
#: the API, notifications and PDFs order and word verdicts by this one class
#: (``tracker.rules.wording.effect_text``).
EFFECTS = ("stops", "reduces", "unknown", "near", "within", "info")
#: The order of the effects: a lower number is worse.
EFFECT_RANK = {code: rank for rank, code in enumerate(EFFECTS)}
#: The effects that cost the person money or leave them unprotected.
HARMFUL_EFFECTS = ("stops", "reduces", "unknown")

RULE_STATUSES = ("active", "superseded", "retired")
RULE_STATUS_WORDS = {"active": "In use", "superseded": "Replaced by a later revision", "retired": "Retired"}

# ---- risk flags ---------------------------------------------------------------------------------

FLAG_STATUSES = ("open", "acknowledged", "resolved")
FLAG_STATUS_WORDS = {"open": "Open", "acknowledged": "Acknowledged", "resolved": "Resolved"}
FLAG_LEVEL_WORDS = {"over": "Over the limit", "near": "Close to the limit", "manual": "Raised by a coordinator"}
