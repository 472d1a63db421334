"""The pure benefit-rules engine: plain data in, codes and numbers out.

``core`` (verdicts and suggestions), ``periods`` (benefit periods), ``pack`` (reading and checking
rule packs) and ``planner`` (a run of upcoming sessions) import neither Flask nor SQLAlchemy, nor any
other part of the tracker except ``tracker.vocab``; an import-linter contract in the test command
keeps it so. Wording for people lives in the areas' presenters.
"""
