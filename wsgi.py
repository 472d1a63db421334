"""Entry point: ``flask --app wsgi ...``, ``gunicorn wsgi:app``, ``celery -A wsgi:celery_app worker``."""

from tracker import create_app

app = create_app()
celery_app = app.extensions["celery"]
