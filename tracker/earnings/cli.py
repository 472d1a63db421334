"""``flask --app wsgi earnings new-key``: a new signing key for earnings records."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from tracker.earnings import signing

earnings = AppGroup("earnings", help="Signed earnings records.")


@earnings.command("new-key", help="Print a new Ed25519 signing key (PEM) for EARNINGS_SIGNING_KEY.")
def new_key() -> None:
    click.echo(signing.private_pem(signing.new_private_key()), nl=False)
