"""``flask --app wsgi bank rotate-keys``: re-encrypt every person's bank details with the first key."""

from __future__ import annotations

import click
from flask.cli import AppGroup

bank = AppGroup("bank", help="Bank details kept encrypted.")


@bank.command("rotate-keys", help="Re-encrypt every row with the first key of BANK_DETAILS_KEYS.")
def rotate_keys() -> None:
    from tracker.cli import committed
    from tracker.runs import accounts

    count = committed(accounts.rotate_keys)
    click.echo(f"Re-encrypted {count} bank detail record{'s' if count != 1 else ''} with the first key.")


@bank.command("new-key", help="Print a new random key to put first in BANK_DETAILS_KEYS.")
def new_key() -> None:
    from tracker.runs import crypto

    click.echo(crypto.new_key())
