from flask import Blueprint

bp = Blueprint("people", __name__, url_prefix="/people")
# The views module adds its routes to ``bp``; create_app imports it (not this package), so
# services can import this package without pulling in the views.
