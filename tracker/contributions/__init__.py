from flask import Blueprint

bp = Blueprint("contributions", __name__, url_prefix="/contributions")

from tracker.contributions import views  # noqa: E402,F401
