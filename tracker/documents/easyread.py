"""Easy-read wording of a statement or a certificate (issue 16, item 4): the same facts as the
standard document, in large type, one idea per line, short words and short sentences, with a
picture for each part. It follows the UK government's guidance "Accessible communication formats"
(GOV.UK, the easy read section). The words are made here once, from the data the standard document
is made from, and both the easy-read PDF (``pdf.render_easy_read``) and the easy-read web page show
them, so the two never differ. Pure: no Flask, no queries, no clock.

Like the standard statement, it carries facts only: no benefit, rule, limit or verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from tracker.documents.pdf import CertificateData, StatementData

#: The pictures a part can have (drawn by ``pictures.drawing`` in the PDF, and as inline SVG on the
#: web page); each says at a glance what the part is about.
PICTURES = ("paper", "coin", "clock", "calendar", "receipt", "tick", "help", "star", "pen", "screen")


class Part(NamedTuple):
    """One part of the document: a heading with its picture, then its lines, one idea each."""

    heading: str
    picture: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class EasyRead:
    """The whole easy-read document: its title and its parts, in order."""

    title: str
    parts: tuple[Part, ...]
    #: The web page of the same document, for the last part ("read it on a web page"); may be empty.
    link: str = ""


HELP = Part(
    "Help",
    "help",
    (
        "This paper is a list of facts.",
        "It is not advice about benefits.",
        "For advice, talk to Citizens Advice.",
        "Or talk to a welfare rights service near you.",
    ),
)


def _online(link: str) -> tuple[Part, ...]:
    if not link:
        return ()
    return (Part("Read it on a web page", "screen", ("You can read this on a web page too.", link)),)


def _due_lines(due: str) -> list[str]:
    """The standard statement's "date due" cell, one idea per line: when it was due, and the work it
    pays for when that was recorded ("14 April 2025 (for work from 7 April 2025 to 13 April 2025)")."""
    day, _, work = due.partition(" (for work from ")
    lines = [] if day == "Not recorded" else [f"It was due on {day}."]
    if work:
        lines.append(f"It was for work from {work.rstrip(')')}.")
    return lines


def _payment_lines(row: tuple[str, str, str, str, str]) -> list[str]:
    received, due, how, amount, status = row
    said = f"On {received} you got {amount}." if status == "Paid" else f"We plan to pay you {amount} on {received}."
    return [said, f"How: {how}.", *_due_lines(due)]


def _money(d: StatementData) -> Part:
    lines = [f"You got {d.total_paid} in all."]
    for row in d.payments:
        lines += _payment_lines(row)
    return Part("Money", "coin", tuple(lines))


def _time(d: StatementData) -> Part:
    lines = [f"You gave {d.total_hours} hours in all."]
    for day, activity, hours, _value in d.contributions:
        lines += [f"On {day} you gave {hours} hours.", f"What you did: {activity}."]
    return Part("Your time", "clock", tuple(lines))


def _expenses(d: StatementData) -> tuple[Part, ...]:
    if not d.expenses:
        return ()
    lines: list[str] = []
    for day, what, amount, counted in d.expenses:
        lines += [f"On {day} we paid back {amount}.", f"It was for: {what}."]
        lines.append("This is not pay." if counted.startswith("No") else "Ask an adviser if this counts as pay.")
    return (Part("Money paid back to you", "receipt", tuple(lines)),)


def _choices(d: StatementData) -> tuple[Part, ...]:
    if not d.choices:
        return ()
    lines: list[str] = []
    for day, choice, offered, accepted in d.choices:
        lines += [f"On {day}: {choice}.", f"We offered {offered}.", f"You took {accepted}."]
    return (Part("Your choices", "tick", tuple(lines)),)


def _months(d: StatementData) -> tuple[Part, ...]:
    if not d.by_month:
        return ()
    lines: list[str] = []
    for month, hours, received in d.by_month:
        lines += [f"In {month} you got {received}.", f"In {month} you gave {hours} hours."]
    return (Part("Each month", "calendar", tuple(lines)),)


def statement(d: StatementData, link: str = "") -> EasyRead:
    about = Part(
        "About this paper",
        "paper",
        (
            f"This paper is for {d.person_name}.",
            f"It is from {d.organisation}.",
            f"It is about {d.period_label}.",
            f"We made it on {d.issued_on}.",
        ),
    )
    if d.nothing:
        facts: tuple[Part, ...] = (Part("Money and time", "coin", ("We have no pay or hours for you in this time.",)),)
    else:
        facts = (_money(d), _time(d), *_expenses(d), *_choices(d), *_months(d))
    return EasyRead("Your money and time", (about, *facts, HELP, *_online(link)), link)


def certificate(d: CertificateData, link: str = "") -> EasyRead:
    details = dict(d.details)
    lines = [f"This is for {d.person_name}.", f"{d.person_name} worked with {d.organisation}."]
    if "Training" in details:
        title = "Training certificate"
        lines += [f"The course was: {details['Training']}.", "Well done."]
    else:
        title = "Certificate"
        if "Hours" in details:
            lines.append(f"They gave {details['Hours']} hours of their time.")
        if "Activities" in details:
            lines.append(f"The work was: {details['Activities']}.")
        lines.append("Thank you.")
    if "Dates" in details:
        lines.append(f"It was from {details['Dates']}.")
    signed = Part("Signed", "pen", (f"Signed by {d.signatory}.", f"For {d.organisation}.", f"Date: {d.issued_on}."))
    return EasyRead(title, (Part(title, "star", tuple(lines)), signed, *_online(link)), link)
