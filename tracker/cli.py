"""Command-line interface: ``flask --app wsgi users|demo|rules ...``."""

from __future__ import annotations

import sys
from typing import NoReturn

import click
from flask import Flask
from flask.cli import AppGroup

from tracker.dbcopy import register_db_copy
from tracker.errors import ValidationFailed
from tracker.extensions import db
from tracker.vocab import ROLES


def register_cli(app: Flask) -> None:
    app.cli.add_command(users)
    from tracker.demo import demo

    app.cli.add_command(demo)
    app.cli.add_command(rules)
    register_db_copy(app)

    from tracker.runs.cli import bank

    app.cli.add_command(bank)


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


@users.command("token", help="Issue a new API token for an existing user; printed last.")
@click.argument("email")
def issue_token(email):
    import sqlalchemy as sa

    from tracker.auth import service
    from tracker.auth.models import User

    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        click.echo(f"No user with email {email}.", err=True)
        raise SystemExit(2)
    secret = service.issue_token(user, label="cli")
    db.session.commit()
    click.echo("API token (shown once, store it safely):")
    click.echo(secret)


rules = AppGroup("rules", help="Load and list benefit rules.")


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
