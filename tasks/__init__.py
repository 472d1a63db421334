"""Celery tasks: thin, named, id-based and idempotent. Each loads, calls one service, commits."""
