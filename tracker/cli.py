"""Command-line interface: ``flask --app wsgi users|demo|rules ...``."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from tracker.errors import ValidationFailed
from tracker.extensions import db


def register_cli(app: Flask) -> None:
    app.cli.add_command(users)
    from tracker.demo import demo

    app.cli.add_command(demo)


users = AppGroup("users", help="Manage sign-ins and API tokens.")


@users.command("create", help="Create a user. With --token the last line printed is a new API token.")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(["admin", "finance", "coordinator", "contributor"]))
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
        db.session.rollback()
        for field, messages in e.fields.items():
            for m in messages:
                click.echo(f"{field}: {m}", err=True)
        raise SystemExit(2) from None
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
