"""``flask --app wsgi bank rotate-keys``: re-encrypt every person's bank details with the first key."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from tracker.errors import Conflict
from tracker.extensions import db

bank = AppGroup("bank", help="Bank details kept encrypted.")


@bank.command("rotate-keys", help="Re-encrypt every row with the first key of BANK_DETAILS_KEYS.")
def rotate_keys() -> None:
    from tracker.runs import accounts

    try:
        count = accounts.rotate_keys()
        db.session.commit()
    except Conflict as e:
        db.session.rollback()
        click.echo(e.message, err=True)
        raise SystemExit(2) from None
    click.echo(f"Re-encrypted {count} bank detail record{'s' if count != 1 else ''} with the first key.")


@bank.command("new-key", help="Print a new random key to put first in BANK_DETAILS_KEYS.")
def new_key() -> None:
    from tracker.runs import crypto

    click.echo(crypto.new_key())
