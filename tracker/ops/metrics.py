"""Prometheus metrics for an operator: requests, tasks and the numbers kept in the database.

* Requests: a counter and a latency histogram labelled by the route's URL rule (``/people/<int:
  person_id>``, never the raw path), the method and the status class (``2xx``), so the number of
  series stays bounded whatever clients send.
* Tasks: a counter by task name and outcome, and a duration histogram by task name, from Celery's
  ``task_prerun`` and ``task_postrun`` signals in the worker.
* Gauges read from the database when ``/metrics`` is scraped (``database_families``): the outbox
  backlog, documents waiting, the age of each scheduled job's last run (``tracker.ops.service``)
  and the number of rule families that look stale.

Multiprocess mode: with ``PROMETHEUS_MULTIPROC_DIR`` set (before the process starts), every gunicorn
and Celery worker process writes its counts to files in that folder and a scrape adds them up
(``MultiProcessCollector``); otherwise a scrape shows the counts of the process that answers it.
Recording a metric never breaks a request or a task: a failure is logged and forgotten.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import math
import os
import time
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from celery import signals as celery_signals
from flask import Flask, Request, g, request, request_finished, request_started
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

log = logging.getLogger(__name__)

#: This process's own metrics (in multiprocess mode they are also written to the shared folder).
REGISTRY = CollectorRegistry()
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
NO_ROUTE = "(no route)"
#: Loopback and the private ranges (RFC 1918, IPv6 unique local): what METRICS_ALLOW_PRIVATE lets in.
PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7")
)
OUTCOMES = {"SUCCESS": "succeeded", "FAILURE": "failed", "RETRY": "retried", "REJECTED": "rejected"}

REQUESTS = Counter(
    "tracker_http_requests",
    "Requests answered, by route (URL rule), method and status class.",
    ("route", "method", "status"),
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "tracker_http_request_duration_seconds",
    "Time to answer a request, by route (URL rule), method and status class.",
    ("route", "method", "status"),
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
TASKS = Counter(
    "tracker_tasks", "Background tasks run, by task name and outcome.", ("task", "outcome"), registry=REGISTRY
)
TASK_SECONDS = Histogram(
    "tracker_task_duration_seconds",
    "Time a background task ran, by task name.",
    ("task",),
    buckets=(0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0),
    registry=REGISTRY,
)

_task_started: dict[str, float] = {}


# ---- requests ----------------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Count and time every request the app answers."""
    request_started.connect(_request_started, app)
    request_finished.connect(_request_finished, app)


def _request_started(sender: Flask, **_: Any) -> None:
    g.metrics_started = time.perf_counter()


def _request_finished(sender: Flask, response: Any, **_: Any) -> None:
    try:
        started = g.get("metrics_started")
        elapsed = time.perf_counter() - started if started is not None else 0.0
        labels = request_labels(request, response.status_code)
        REQUESTS.labels(*labels).inc()
        REQUEST_SECONDS.labels(*labels).observe(elapsed)
    except Exception:  # a metric must never cost anyone their answer
        log.warning("Could not record the request's metrics", exc_info=True)


def request_labels(req: Request, status_code: int) -> tuple[str, str, str]:
    """(route, method, status class): the URL rule, never the path, and known methods only."""
    route = req.url_rule.rule if req.url_rule is not None else NO_ROUTE
    method = req.method if req.method in METHODS else "other"
    return route, method, f"{status_code // 100}xx"


# ---- tasks -------------------------------------------------------------------------------------


@celery_signals.task_prerun.connect
def _task_prerun(task_id: str | None = None, **_: Any) -> None:
    if task_id is not None:
        _task_started[task_id] = time.perf_counter()


@celery_signals.task_postrun.connect
def _task_postrun(task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any) -> None:
    try:
        started = _task_started.pop(task_id or "", None)
        name = getattr(task, "name", None) or "(unknown)"
        TASKS.labels(name, OUTCOMES.get(state or "", "other")).inc()
        if started is not None:
            TASK_SECONDS.labels(name).observe(time.perf_counter() - started)
    except Exception:
        log.warning("Could not record the task's metrics", exc_info=True)


# ---- who may scrape ----------------------------------------------------------------------------


def scrape_allowed(req: Request, config: Mapping[str, Any]) -> bool:
    """A request with the bearer token ``METRICS_TOKEN``, or, with ``METRICS_ALLOW_PRIVATE``, one
    from a private or loopback address. Anything else (the default: neither is set) is refused."""
    token = str(config.get("METRICS_TOKEN") or "")
    if token and _bearer_matches(req, token):
        return True
    return bool(config.get("METRICS_ALLOW_PRIVATE")) and _from_private_address(req, config)


def _bearer_matches(req: Request, token: str) -> bool:
    scheme, _, given = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def _from_private_address(req: Request, config: Mapping[str, Any]) -> bool:
    # With no proxy trusted, a request that came through one shows the proxy's (loopback) address:
    # a forwarded request is never taken for a local one.
    if not int(config.get("TRUSTED_PROXIES") or 0) and "X-Forwarded-For" in req.headers:
        return False
    try:
        address = ipaddress.ip_address(req.remote_addr or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in PRIVATE_NETWORKS)


# ---- the scrape ----------------------------------------------------------------------------------


class _Families:
    """A collector that yields metric families worked out beforehand (in the request's app context)."""

    def __init__(self, families: Iterable[Metric]):
        self.families = list(families)

    def collect(self) -> Iterable[Metric]:
        return iter(self.families)


class _Local:
    """This process's own metrics, when each process keeps its own."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def exposition(database: Iterable[Metric]) -> bytes:
    """The text a scrape answers: the processes' metrics, then the database's gauges."""
    registry = CollectorRegistry()
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder and os.path.isdir(folder):
        MultiProcessCollector(registry, path=folder)
    else:  # each process its own counts (or the folder is missing: the log says so at each write)
        registry.register(_Local())  # type: ignore[arg-type]
    registry.register(_Families(database))  # type: ignore[arg-type]
    return generate_latest(registry)


def gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def age_or_inf(at: datetime | None, now: datetime) -> float:
    """Seconds since ``at``; +Inf for something that has never happened, so an alert on age fires."""
    return math.inf if at is None else max(0.0, (now - at).total_seconds())


def database_families(now: datetime, on: date) -> list[Metric]:
    """The gauges read from the database at scrape time (reads only; the caller rolls back)."""
    from tracker.ops import service
    from tracker.rules import service as rules_service

    pending, oldest = service.outbox_backlog()
    beats = service.heartbeats()
    families: list[Metric] = [
        gauge("tracker_outbox_pending", "Outbox rows not yet handed to the broker.", pending),
        gauge(
            "tracker_outbox_oldest_pending_age_seconds",
            "Age of the oldest outbox row not yet handed to the broker (0 when there is none).",
            0.0 if oldest is None else age_or_inf(oldest, now),
        ),
        gauge("tracker_documents_waiting", "Documents asked for and not yet produced.", service.documents_waiting()),
    ]
    jobs = GaugeMetricFamily(
        "tracker_job_last_run_age_seconds",
        "Seconds since each scheduled job last finished its work (+Inf: never).",
        labels=("job",),
    )
    for job in service.SCHEDULED_JOBS:
        jobs.add_metric((job,), age_or_inf(beats.get(job), now))
    families.append(jobs)
    families.append(
        gauge(
            "tracker_scheduler_heartbeat_age_seconds",
            "Seconds since any scheduled job last finished its work: the scheduler's heartbeat (+Inf: never).",
            age_or_inf(max(beats.values(), default=None), now),
        )
    )
    rules = [rule for _, rule in rules_service.active_rules()]
    families.append(
        gauge(
            "tracker_rules_stale",
            "Rule families whose figures look out of date today (docs/operations.md says how that is decided).",
            len(service.stale_families(rules, on)),
        )
    )
    return families
