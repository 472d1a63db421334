import sqlalchemy as sa
from celery import shared_task

from tracker.extensions import db


@shared_task(name="tracker.health.ping", ignore_result=False)
def ping(token: str) -> str:
    return f"pong:{token}"


@shared_task(name="tracker.health.count_people", ignore_result=False)
def count_people() -> int:
    """Proves a worker reaches the same database as the web app."""
    from tracker.people.models import Person

    return db.session.execute(sa.select(sa.func.count(Person.id))).scalar_one()
