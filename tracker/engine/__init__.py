"""The pure benefit-rules engine: plain data in, codes and numbers out.

``core`` is the front callers use (``from tracker.engine import core as engine``): verdicts and
suggestions, built from ``model`` (the data), ``evaluate`` (periods, totals and verdicts) and
``suggest`` (the search for other ways to pay). ``periods`` (benefit periods), ``pack`` (reading and
checking rule packs) and ``planner`` (a run of upcoming sessions) sit beside it. None of them imports
Flask or SQLAlchemy, nor any other part of the tracker except ``tracker.vocab``: an import-linter
contract (pyproject.toml) and tests/rules/test_engine.py keep it so, and mypy checks them strictly.

Results carry codes and figures (``Verdict.remarks``, ``Suggestion.basis``, ``Proposal.story``,
``Plan.outcome``); ``tracker.rules.wording`` puts them into words, and ``tracker.rules.checks``
applies it where results leave the engine.
"""
