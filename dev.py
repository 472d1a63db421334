#!/usr/bin/env python3
"""Set up and run the tracker, or its tests, with nothing installed but Python 3.11+.

    python3 dev.py          set up, migrate, load demo data, start the web app and a Celery worker
    python3 dev.py test     set up and run every test (extra arguments go to pytest)
    python3 dev.py screenshots [--out DIR]
                            screenshots of the main pages, as each demo user, at 1280 and 390 pixels wide
                            (into screenshots/ unless --out is given), from fresh demo data

The defaults need no servers: a SQLite file and Celery's filesystem broker under instance/.
Set DATABASE_URL, CELERY_BROKER_URL and REDIS_URL to use PostgreSQL and Redis instead.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed"
HOST, PORT = "127.0.0.1", int(os.environ.get("PORT", "5000"))
DEMO_PASSWORD = "demo-password-1"


def say(msg: str) -> None:
    print(f"==> {msg}", flush=True)


def setup() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036  (says so to someone running an older Python)
        sys.exit("The tracker needs Python 3.11 or newer.")
    if not PY.exists():
        say("Creating a virtual environment in .venv")
        venv.create(VENV, with_pip=True)
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != want:
        say("Installing the tracker and its test tools (first run takes a minute)")
        subprocess.run([PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([PY, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[test]"], check=True)
        STAMP.write_text(want)


def flask(*args: str, env=None, python=None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([python or PY, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env, check=True, **kw)


def start() -> None:
    setup()
    env = os.environ.copy()
    # An unset TRACKER_ENV is production, which refuses the development key: this is a development run.
    env["TRACKER_ENV"] = "development"
    (ROOT / "instance").mkdir(exist_ok=True)
    for sub in ("broker", "broker-processed", "broker-control", "documents"):
        (ROOT / "instance" / sub).mkdir(exist_ok=True)
    say("Migrating the database")
    flask("db", "upgrade", env=env, stdout=subprocess.DEVNULL)
    say("Loading the UK benefit rule pack (unchanged rules are left alone)")
    flask("rules", "load", env=env)
    say("Loading demo data (skipped if already there)")
    flask("demo", "seed", "--password-stdin", env=env, input=DEMO_PASSWORD + "\n", text=True)
    say("Starting a Celery worker (with beat for scheduled jobs)")
    worker = subprocess.Popen(
        [
            PY,
            "-m",
            "celery",
            "-A",
            "wsgi:celery_app",
            "worker",
            "-B",
            "--pool=solo",
            "--loglevel=WARNING",
            "-s",
            str(ROOT / "instance" / "celerybeat-schedule"),
        ],
        cwd=ROOT,
        env=env,
    )
    say("Starting the web app")
    web = subprocess.Popen(
        [PY, "-m", "flask", "--app", "wsgi", "run", "--host", HOST, "--port", str(PORT), "--no-reload"],
        cwd=ROOT,
        env=env,
    )
    time.sleep(2)
    print(
        f"""
  The tracker is running at http://{HOST}:{PORT}

  Demo sign-ins (password: {DEMO_PASSWORD}):
    admin@example.org        admin: users, roles, benefit rules
    finance@example.org      finance: record, approve and pay
    coordinator@example.org  coordinator: people, contributions, risks
    contributor@example.org  contributor: their own statements and preferences
  No second factor is asked for in development (REQUIRE_2FA is off unless you set it).

  Press Ctrl+C to stop.
""",
        flush=True,
    )
    try:
        while web.poll() is None and worker.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for proc in (web, worker):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT if os.name != "nt" else signal.SIGTERM)
        for proc in (web, worker):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    if web.returncode not in (0, None, -2, 130) or worker.returncode not in (0, None, -2, 130):
        sys.exit(1)


#: The checks the test command runs before the tests: lint, formatting, the engine's import
#: contract (it imports neither Flask nor SQLAlchemy) and types (strict for the engine).
CHECKS = (("ruff", "check", "."), ("ruff", "format", "--check", "."), ("lint-imports",), ("mypy",))


def check() -> None:
    for tool, *args in CHECKS:
        say(" ".join((tool, *args)))
        if subprocess.run([BIN / tool, *args], cwd=ROOT).returncode != 0:
            sys.exit(f"{tool} found problems: fix them, or run the tests alone with `python3 dev.py test -x`.")


def test(args: list[str]) -> None:
    """The whole suite, after the checks; with pytest arguments, only the tests asked for."""
    setup()
    if not args:
        check()
    result = subprocess.run([PY, "-m", "pytest", *args], cwd=ROOT)
    sys.exit(result.returncode)


# ---- screenshots -------------------------------------------------------------------------------

#: The main pages `python3 dev.py screenshots` takes, by demo user; "{person}" is the demo
#: contributor's person. tests/test_screenshots.py opens every one as its user (no 404, no 500).
SCREENSHOT_PAGES: dict[str, tuple[str, ...]] = {
    "contributor@example.org": ("/", "/me/", "/me/position", "/me/payments", "/documents/new"),
    "coordinator@example.org": (
        "/",
        "/people/",
        "/people/{person}",
        "/contributions/session",
        "/risks/",
        "/risks/people/{person}",
        "/risks/people/{person}/plan",
    ),
    "finance@example.org": (
        "/",
        "/payments/",
        "/payments/new?person_id={person}",
        "/payments/month-end",
        "/payments/owed",
    ),
    "admin@example.org": ("/", "/rules/", "/audit/"),
}
#: Screen widths: a laptop, and a phone (390 x 844, the phone every page is checked on).
SCREENSHOT_SIZES = ((1280, 800), (390, 844))


def screenshot_name(email: str, path: str, width: int) -> str:
    """contributor-me-position-390.png"""
    role = email.split("@", 1)[0]
    slug = "".join(c if c.isalnum() else "-" for c in path.split("?", 1)[0].strip("/")) or "home"
    return f"{role}-{slug.replace('--', '-').strip('-')}-{width}.png"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _wait_for(url: str, seconds: float = 30) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _demo_app(tmp: Path) -> tuple[dict, int]:
    """Fresh demo data in a SQLite file under ``tmp``; the environment to serve it and the demo
    contributor's person id."""
    import sqlite3

    env = os.environ.copy()
    env.update(
        TRACKER_ENV="development",
        DATABASE_URL=f"sqlite:///{tmp / 'screenshots.sqlite'}",
        BROKER_DIR=str(tmp / "broker"),
        STORAGE_DIR=str(tmp / "documents"),
    )
    for key in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "REDIS_URL"):
        env.pop(key, None)
    for sub in ("broker", "broker-processed", "broker-control", "documents"):
        (tmp / sub).mkdir()
    py = sys.executable  # this runs inside the venv
    flask("db", "upgrade", env=env, python=py, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    flask("rules", "load", env=env, python=py, stdout=subprocess.DEVNULL)
    flask(
        "demo",
        "seed",
        "--password-stdin",
        env=env,
        python=py,
        input=DEMO_PASSWORD + "\n",
        text=True,
        stdout=subprocess.DEVNULL,
    )
    with sqlite3.connect(tmp / "screenshots.sqlite") as db:
        row = db.execute("SELECT person_id FROM user_account WHERE email = 'contributor@example.org'").fetchone()
    return env, int(row[0])


def _shoot(base: str, person: int, out: Path) -> list[Path]:
    """Sign in as each demo user and save every page at every size (runs inside the venv)."""
    from playwright.sync_api import sync_playwright

    saved = []
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium if Path(chromium).exists() else None, args=["--no-sandbox", "--disable-gpu"]
        )
        for email, paths in SCREENSHOT_PAGES.items():
            # One sign-in per user (sign-in is throttled per address), then every page at every size.
            context = browser.new_context(viewport={"width": SCREENSHOT_SIZES[0][0], "height": SCREENSHOT_SIZES[0][1]})
            page = context.new_page()
            page.goto(base + "/sign-in")
            page.get_by_label("Email address").fill(email)
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(lambda url: "/sign-in" not in url)
            for width, height in SCREENSHOT_SIZES:
                page.set_viewport_size({"width": width, "height": height})
                for path in paths:
                    target = out / screenshot_name(email, path, width)
                    try:
                        page.goto(base + path.format(person=person), timeout=120_000)
                        page.screenshot(path=str(target), full_page=True, timeout=120_000)
                    except Exception as e:  # one slow page should not lose the rest
                        say(f"No screenshot of {path} as {email} at {width} pixels: {e.__class__.__name__}")
                        continue
                    saved.append(target)
            context.close()
        browser.close()
    return saved


def take_screenshots(out: Path) -> None:
    """Runs inside the venv: demo data, the web app on a free port, then the pictures."""
    import tempfile

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tracker-screenshots-") as tmp:
        say("Loading demo data into a new database")
        env, person = _demo_app(Path(tmp))
        port = _free_port()
        web = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", HOST, "--port", str(port), "--no-reload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://{HOST}:{port}"
            _wait_for(base + "/healthz")
            say(f"Taking screenshots into {out}")
            saved = _shoot(base, person, out)
        finally:
            web.terminate()
            web.wait(timeout=15)
    say(f"{len(saved)} screenshots saved in {out}")


def screenshots(args: list[str]) -> None:
    setup()
    out = Path(args[args.index("--out") + 1]) if "--out" in args[:-1] else ROOT / "screenshots"
    sys.exit(subprocess.run([PY, __file__, "_screenshots", str(out.resolve())], cwd=ROOT).returncode)


def main() -> None:
    cmd, *rest = sys.argv[1:] or ["start"]
    if cmd == "start":
        start()
    elif cmd == "test":
        test(rest)
    elif cmd == "check":
        setup()
        check()
    elif cmd == "setup":
        setup()
    elif cmd == "screenshots":
        screenshots(rest)
    elif cmd == "_screenshots":  # the part that runs inside the venv, where Playwright is
        take_screenshots(Path(rest[0]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
