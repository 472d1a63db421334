"""Command-line interface: ``flask --app wsgi users|demo|rules ...``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn, TypeVar

import click
from flask import Flask
from flask.cli import AppGroup

from tracker.dbcopy import register_db_copy
from tracker.errors import DomainError, ValidationFailed
from tracker.extensions import db
from tracker.vocab import MAX_ID, ROLES, STAFF_ROLES

T = TypeVar("T")


def register_cli(app: Flask) -> None:
    app.cli.add_command(users)
    from tracker.demo import demo

    app.cli.add_command(demo)
    app.cli.add_command(rules)
    register_db_copy(app)

    from tracker.runs.cli import bank

    app.cli.add_command(bank)
    from tracker.earnings.cli import earnings

    app.cli.add_command(earnings)


def _refuse(error: ValidationFailed, indent: str = "") -> NoReturn:
    """Roll back, print each field's messages on stderr and exit with status 2."""
    db.session.rollback()
    for field, messages in error.fields.items():
        for m in messages:
            click.echo(f"{indent}{field}: {m}", err=True)
    raise SystemExit(2) from None


users = AppGroup("users", help="Manage sign-ins and API tokens.")


@users.command("create", help="Create a user. With --token the last line printed is a new API token.")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--person", "person_id", type=int, default=None, help="The person a contributor is.")
@click.option("--name", default=None, help="The user's name, as shown in the app.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--token", is_flag=True, help="Also issue an API token and print it last.")
def create_user(email, role, person_id, name, password_stdin, token):
    from tracker.auth import service

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = service.create_user(email, role, person_id=person_id, password=password, name=name)
        secret = service.issue_token(user, label="cli") if token else None
        db.session.commit()
    except ValidationFailed as e:
        _refuse(e)
    click.echo(f"Created {user.role} {user.email} (user id {user.id}).")
    if secret:
        click.echo("API token (shown once, store it safely):")
        click.echo(secret)


def _user(email: str):
    """The user with this email address; exits with status 2 when there is none."""
    from tracker.auth import service

    user = service.user_by_email(email)
    if user is None:
        click.echo(f"No user with email {email}.", err=True)
        raise SystemExit(2)
    return user


def committed(action: Callable[[], T], *, conflict_status: int = 2) -> T:
    """Run a service call and commit. Wrong input rolls back, prints each field's messages and exits
    with status 2; a refusal of the state (a Conflict) rolls back, prints why and exits with
    ``conflict_status``."""
    try:
        result = action()
        db.session.commit()
    except ValidationFailed as e:
        _refuse(e)
    except DomainError as e:
        db.session.rollback()
        click.echo(e.message, err=True)
        raise SystemExit(conflict_status) from None
    return result


def _change_user(email: str, change: Callable, said: str) -> None:
    """Apply ``change(user)`` to the user with this email, commit, and say ``said`` (with {email})."""
    user = _user(email)
    committed(lambda: change(user))
    click.echo(said.format(email=user.email))


def _stamp(at) -> str:
    """A stored time in UK time, or "-"."""
    from tracker.timeutil import stamp_text

    return stamp_text(at) or "-"


@users.command("token", help="Issue a new API token for an existing user; printed last.")
@click.argument("email")
@click.option("--expires-in-days", "days", type=int, default=90, show_default=True, help="Days until it stops working.")
@click.option("--name", default="cli", show_default=True, help="What the token is for, as listed.")
def issue_token(email, days, name):
    from tracker.auth import service

    user = _user(email)

    def issue() -> str:
        service.check_token_days(days)
        return service.issue_token(user, label=name[:100], expires_in_days=days)

    secret = committed(issue)
    click.echo(f"API token for {user.email}, working for {days} days (shown once, store it safely):")
    click.echo(secret)


@users.command("list", help="List every user: email, role, active, last sign-in, working tokens.")
def list_users():
    from tracker.auth import service

    for user, tokens in service.users_with_token_counts():
        state = "active" if user.active else "deactivated"
        click.echo(
            f"{user.email:<40} {user.role:<12} {state:<12} last sign-in {_stamp(user.last_sign_in_at):<24} "
            f"tokens {tokens}  {user.name or ''}".rstrip()
        )


def _deactivate(user) -> None:
    from tracker.auth import service

    service.deactivate_user(user, actor=None)


def _reset_two_factor(user) -> None:
    from tracker.auth import two_factor

    two_factor.reset(user, actor=None)


def _user_command(name: str, help: str, said: str, change: Callable) -> None:
    """Make ``change(user)`` the command ``users NAME EMAIL``, which commits and says ``said`` (with {email})."""

    @users.command(name, help=help)
    @click.argument("email")
    def command(email):
        _change_user(email, change, said)


#: The commands that make one change to one user: name, help, what is said after, the change.
for _name, _help, _said, _change in (
    (
        "deactivate",
        "Stop a user signing in: ends their sessions and revokes their API tokens.",
        "Deactivated {email}: signed out everywhere, API tokens revoked.",
        _deactivate,
    ),
    (
        "reset-2fa",
        "Remove a user's second factor and recovery codes; they set it up again.",
        "Removed the second factor of {email} and signed them out; they set it up again at sign-in.",
        _reset_two_factor,
    ),
):
    _user_command(_name, _help, _said, _change)


@users.command("role", help="Move a staff member to another staff role; ends their sessions and revokes tokens.")
@click.argument("email")
@click.argument("role", type=click.Choice(STAFF_ROLES))
def change_role(email, role):
    from tracker.auth import service

    said = "{email} is now " + role + ": signed out everywhere, API tokens revoked."
    _change_user(email, lambda user: service.change_staff_role(user, role, actor=None), said)


@users.command("reset", help="Make a new single-use link to choose a password; mailed, or printed last.")
@click.argument("email")
def reset_password(email):
    from flask import current_app

    from tracker.auth import service

    user = _user(email)
    hours = int(current_app.config["INVITE_LINK_HOURS"])

    def reset() -> str | None:
        secret = service.reset_password(user, actor=None, hours=hours)
        return service.send_link(user, secret, base_url=current_app.config["PUBLIC_URL"], hours=hours)

    link = committed(reset)
    if link is None:
        click.echo(f"A link to choose a password, working once for {hours} hours, is mailed to {user.email}.")
        return
    click.echo(f"Link to choose a password for {user.email}, working once for {hours} hours (shown once):")
    click.echo(link)


@users.command("tokens", help="List a user's API tokens: id, name, created, expires, last used, revoked.")
@click.argument("email")
def list_tokens(email):
    from tracker.auth import service

    rows = service.tokens_of(_user(email))
    if not rows:
        click.echo("No tokens.")
    for row in rows:
        click.echo(
            f"{row.id:>6}  {(row.label or '-'):<20} created {_stamp(row.created_at)}  "
            f"expires {_stamp(row.expires_at)}  last used {_stamp(row.last_used_at)}  revoked {_stamp(row.revoked_at)}"
        )


@users.command("revoke", help="Revoke an API token by its id (see `users tokens EMAIL`).")
@click.argument("token_id", type=int)
def revoke_token(token_id):
    from tracker.auth import service
    from tracker.auth.models import ApiToken

    row = db.session.get(ApiToken, token_id) if 1 <= token_id <= MAX_ID else None
    if row is None:
        click.echo(f"No token with id {token_id}.", err=True)
        raise SystemExit(2)
    if row.revoked_at is None:
        service.revoke_token(row, actor=None)
        db.session.commit()
    click.echo(f"Token {row.id} of {row.user.email} is revoked.")


rules = AppGroup("rules", help="Load, list and confirm benefit rules.")


@rules.command("load", help="Load a rule pack (YAML). Without FILE, the shipped UK pack.")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
def rules_load(file):
    from tracker.engine import pack
    from tracker.rules import service

    try:
        counts = service.load_file(file or str(pack.default_pack_path()))
        db.session.commit()
    except ValidationFailed as e:
        click.echo(e.message, err=True)
        _refuse(e, indent="  ")
    click.echo(f"Rules: {counts['added']} added, {counts['updated']} updated, {counts['unchanged']} unchanged.")


@rules.command("confirm", help="Mark a rule's figure as confirmed against an official source (audited).")
@click.argument("code")
@click.option("--source", required=True, help="The address of the regulation or official page that states the figure.")
@click.option("--reason", required=True, help="How the figure was checked (which table or paragraph states it).")
def rules_confirm(code, source, reason):
    from tracker.rules import service

    confirm = lambda: service.confirm(code.strip().upper(), actor=None, reason=reason, source=source)  # noqa: E731
    row = committed(confirm, conflict_status=1)
    click.echo(f"{row.code} is confirmed (revision {row.revision}), source {source.strip()}.")


@rules.command("test", help="Run a scenario file (YAML) against the loaded rules: PASS or FAIL per scenario.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def rules_test(file):
    from pathlib import Path

    from tracker.rules import scenarios, service

    try:
        cases = scenarios.parse(Path(file))
    except (OSError, UnicodeDecodeError, scenarios.ScenarioError) as e:
        click.echo(f"{file}: {e}", err=True)
        raise SystemExit(2) from None
    outcomes = scenarios.run(cases, [rule for _, rule in service.active_rules()])
    for line in scenarios.report_lines(outcomes):
        click.echo(line)
    failed = sum(o.label == "FAIL" for o in outcomes)
    known = sum(o.label == "KNOWN" for o in outcomes)
    click.echo(
        f"{len(outcomes)} scenarios: {len(outcomes) - failed - known} passed, {failed} failed, {known} known defects."
    )
    if failed:
        raise SystemExit(1)


@rules.command("list", help="List the active rules, or those in force on a date.")
@click.option("--on", "on", default=None, help="A date, YYYY-MM-DD.")
def rules_list(on):
    from tracker.rules import service
    from tracker.timeutil import parse_day

    try:
        day = parse_day(on) if on else None
    except ValueError as e:
        click.echo(f"--on: {e}", err=True)
        raise SystemExit(2) from None
    rows = service.rules_in_force(day)
    if not rows:
        click.echo("No rules." if day is None else f"No rules in force on {day.isoformat()}.")
        return
    for row, rule in rows:
        limit = "-" if rule.limit is None else str(rule.limit)
        until = rule.effective_to.isoformat() if rule.effective_to else "open"
        click.echo(
            f"{rule.code:<24} {rule.benefit:<4} {rule.measure:<8} {limit:>9} {rule.period:<22} "
            f"{rule.effective_from.isoformat()}..{until:<10} {rule.confidence:<11} "
            f"{rule.effective_severity:<5} r{row.revision}  {rule.title}"
        )
