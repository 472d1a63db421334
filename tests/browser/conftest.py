"""Browser tests: the app served on loopback, a real Celery worker, and Debian's Chromium driven
by Playwright. axe-core (shipped inside axe-playwright-python) checks each page.

Without Chromium these tests skip locally and FAIL under CI=true (.ci/run installs it).
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.builders import PASSWORD
from tests.conftest import IN_CI, start_worker, stop_worker, worker_env_vars

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
pytestmark = pytest.mark.browser


def _need_chromium() -> str:
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return CHROMIUM
    if IN_CI:
        pytest.fail(f"Chromium is required under CI=true (looked for {CHROMIUM}).")
    pytest.skip("Chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser():
    path = _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=path,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def live_app(make_app, database_url, broker_dir, document_storage, tmp_path):
    """The app on a free loopback port, with a real worker consuming its broker."""
    env = worker_env_vars(database_url, broker_dir, tmp_path, document_storage)
    from config import celery_settings

    celery = celery_settings(
        env.get("CELERY_BROKER_URL"), env["CELERY_RESULT_BACKEND"], env.get("BROKER_DIR", ""), database_url
    )
    app = make_app(CELERY=celery, BROKER_DIR=env.get("BROKER_DIR", ""), WTF_CSRF_ENABLED=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    worker, log = start_worker(env, tmp_path / "browser-worker.log", "--pool=solo", "-n", f"browser-{os.getpid()}@%h")
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        stop_worker(worker, log)


@pytest.fixture
def page(browser):
    context = browser.new_context(bypass_csp=False, viewport={"width": 390, "height": 844}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


def axe_serious(page) -> list[dict]:
    """Run axe-core on the page; return serious and critical violations."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = results.response.get("violations", [])
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n.get("target") for n in v.get("nodes", [])][:5],
        }
        for v in violations
        if v.get("impact") in ("serious", "critical")
    ]


def assert_accessible(page, where: str) -> None:
    """No serious or critical axe-core violation, and no sideways scrolling on a phone (reflow)."""
    found = axe_serious(page)
    assert found == [], f"axe-core: serious or critical violations on {where} ({page.url}): {found}"
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], (
        f"{where} ({page.url}) scrolls sideways: {widths[0]}px wide on a {widths[1]}px screen"
    )


def sign_in(page, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(base + "/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/sign-in" not in url)


def fill_date(scope, legend: str, day) -> None:
    """Type a date into a GOV.UK date input: the group named by its legend ("(optional)" after it
    or not), then its Day, Month and Year boxes."""
    import re
    from datetime import date

    if isinstance(day, str):
        day = date.fromisoformat(day)
    group = scope.get_by_role("group", name=re.compile(rf"^{re.escape(legend)}( \(optional\))?$"))
    group.get_by_label("Day", exact=True).fill(str(day.day))
    group.get_by_label("Month", exact=True).fill(str(day.month))
    group.get_by_label("Year", exact=True).fill(str(day.year))
