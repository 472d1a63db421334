"""Demo data (placeholder: being written)."""

import click


@click.group(help="Demo data.")
def demo():
    pass
