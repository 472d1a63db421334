"""Celery wired the Flask way: one Celery app per Flask app, tasks run in an app context."""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.conf.update(imports=("tasks.outbox", "tasks.health", "tasks.documents", "tasks.risks", "tasks.notify"))
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
