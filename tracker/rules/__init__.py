"""Benefit rules: period windows, the rule pack and the pure evaluation engine.

The modules in this package (``periods``, ``engine`` and ``pack``) import neither Flask nor
SQLAlchemy: they take plain data and return plain results, so the same code runs from a view, a
task, a command and a test. See ``docs/rules-engine.md``.
"""
