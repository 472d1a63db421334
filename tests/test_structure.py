"""The shape of the test suite itself: no test module imports another one (shared helpers live in
tests/builders.py or a conftest.py)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _is_test_module(dotted: str) -> bool:
    return any(part.startswith("test_") for part in dotted.split("."))


def imported_test_modules(source: str) -> list[str]:
    """The test modules a module's source imports, however it spells the import."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if _is_test_module(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if _is_test_module(module):
                found.append(module)
            else:
                found += [f"{module}.{alias.name}" for alias in node.names if alias.name.startswith("test_")]
    return found


def test_the_check_sees_every_spelling() -> None:
    source = (
        "from tests.test_api_people import count\nimport test_worker\nfrom tests import test_money\n"
        "from .test_jobs import sent\nfrom tests.browser.test_smoke import x\n"
        "from tests.builders import payment\nfrom tests.conftest import IN_CI\nimport tests.builders\n"
    )
    assert imported_test_modules(source) == [
        "tests.test_api_people",
        "test_worker",
        "tests.test_money",
        ".test_jobs",
        "tests.browser.test_smoke",
    ]


def test_no_test_module_imports_another() -> None:
    offenders = {}
    for path in sorted(TESTS.rglob("*.py")):
        found = imported_test_modules(path.read_text(encoding="utf-8"))
        if found:
            offenders[str(path.relative_to(TESTS))] = found
    assert offenders == {}, f"move shared helpers into tests/builders.py or a conftest.py: {offenders}"
