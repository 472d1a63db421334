"""Payment runs: approved bank transfers gathered for a pay date, with a bank file; and the bank
details they need, kept encrypted."""

from flask import Blueprint

bp = Blueprint("runs", __name__, url_prefix="/payment-runs")
