"""The operator's area: health probes for load balancers, Prometheus metrics, and the scheduled
jobs' heartbeats."""

from flask import Blueprint

bp = Blueprint("ops", __name__)
# Its routes are in views.py, which create_app imports (see tracker.AREAS): the area's services and
# models can be imported without pulling in its pages.
