"""The code's shape, checked on every run: functions small enough to read at once."""

from __future__ import annotations

from pathlib import Path

from radon.complexity import cc_visit

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 15


def test_no_function_in_the_app_or_tasks_is_above_complexity_15():
    over = [
        f"{path.relative_to(ROOT)}:{block.lineno} {block.name} ({block.complexity})"
        for folder in ("tracker", "tasks")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for block in cc_visit(path.read_text())  # functions, classes and methods
        if block.complexity > LIMIT
    ]
    assert not over, "Split these into smaller functions:\n" + "\n".join(over)
