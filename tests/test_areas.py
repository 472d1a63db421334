"""Every area has one shape: its package creates ``bp``, its views add the routes, and create_app
registers every blueprint and imports every model from the one tuple ``tracker.AREAS``."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Blueprint

import tracker
from tracker import AREAS, create_app

PACKAGE = Path(tracker.__file__).resolve().parent
#: Packages under tracker/ that are not areas: the pure engine has no pages, models or blueprint.
NOT_AREAS = {"engine"}


def test_every_package_is_an_area_or_the_engine():
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert packages - NOT_AREAS == set(AREAS), (
        "every package under tracker/ is an area listed in tracker.AREAS (or named in NOT_AREAS here)"
    )
    assert len(AREAS) == len(set(AREAS))


@pytest.mark.parametrize("name", AREAS)
def test_each_area_creates_its_blueprint_in_its_package(name):
    area = importlib.import_module(f"tracker.{name}")
    assert isinstance(area.bp, Blueprint)
    assert area.bp.name == name
    assert area.bp.import_name == f"tracker.{name}"  # made in __init__, not in a views module


@pytest.mark.parametrize("name", AREAS)
def test_route_modules_use_the_package_blueprint(name):
    if importlib.util.find_spec(f"tracker.{name}.views") is None:
        return
    views = importlib.import_module(f"tracker.{name}.views")
    assert getattr(views, "bp", None) in (None, importlib.import_module(f"tracker.{name}").bp)
    assert "Blueprint(" not in (PACKAGE / name / "views.py").read_text()


def test_the_app_registers_exactly_the_areas():
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert set(app.blueprints) == set(AREAS)
    for name in AREAS:
        assert app.blueprints[name] is importlib.import_module(f"tracker.{name}").bp
    api_rules = [r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")]
    assert api_rules and all(rule.startswith("/api/v1/") for rule in api_rules)


def test_every_models_module_is_imported_from_the_tuple():
    create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    for name in AREAS:
        if (PACKAGE / name / "models.py").exists():
            assert f"tracker.{name}.models" in sys.modules


def test_a_service_can_be_imported_without_the_pages():
    """Only create_app imports the views, so a task or a script never pulls in the pages."""
    code = (
        "import sys, tracker.payments.service, tracker.risks.service, tracker.auth.passwords; "
        "print(sorted(m for m in sys.modules if m.startswith('tracker.') and m.endswith('.views')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent)
    assert out.stdout.strip() == "[]"
