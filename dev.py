#!/usr/bin/env python3
"""Set up and run the tracker, or its tests, with nothing installed but Python 3.11+.

    python3 dev.py          set up, migrate, load demo data, start the web app and a Celery worker
    python3 dev.py test     set up and run every test (extra arguments go to pytest)

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


def flask(*args: str, env=None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env, check=True, **kw)


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
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
