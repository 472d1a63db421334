"""Services flush, never commit: the commit boundaries are the pages (``tracker.pages``), the API
(``writes``), the tasks (``tracker.celery.TrackerTask``) and the command line."""

from __future__ import annotations

import ast
from pathlib import Path

TRACKER = Path(__file__).resolve().parent.parent / "tracker"

#: Service modules that are not called service.py.
OTHER_SERVICE_MODULES = (
    "payments/expenses.py",
    "payments/queries.py",
    "risks/positions.py",
    "risks/dashboard.py",
    "rules/ledger.py",
    "rules/checks.py",
    "documents/storage.py",
    "documents/pdf.py",
)


def service_modules() -> list[Path]:
    found = sorted(TRACKER.rglob("service.py")) + [TRACKER / name for name in OTHER_SERVICE_MODULES]
    return [path for path in found if path.exists()]


def commits_in(path: Path) -> list[str]:
    """Every ``<anything>.commit(...)`` call in a module, as "file:line"."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    label = path.relative_to(TRACKER.parent) if path.is_relative_to(TRACKER.parent) else path.name
    return [
        f"{label}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"
    ]


def test_the_scan_finds_every_service_module_and_sees_a_commit(tmp_path):
    names = {p.relative_to(TRACKER).as_posix() for p in service_modules()}
    for area in (
        "people",
        "payments",
        "contributions",
        "documents",
        "notify",
        "risks",
        "rules",
        "imports",
        "auth",
        "audit",
    ):
        assert f"{area}/service.py" in names
    assert set(OTHER_SERVICE_MODULES) <= names
    sample = tmp_path / "sample.py"
    sample.write_text("def f(session):\n    session.flush()\n    session.commit()\n")
    assert commits_in(sample) == ["sample.py:3"]


def test_no_service_module_commits():
    found = [hit for path in service_modules() for hit in commits_in(path)]
    assert found == [], "Services flush; the page, API or task boundary commits: " + ", ".join(found)
