"""The example deployment in deploy/: systemd units, the settings file and the nginx site.

The files are parsed and checked here. ``systemd-analyze verify`` and ``nginx -t`` run where those
programs exist and skip where they do not, even under CI=true: they are not part of the test
environment (deploy/README.md says so).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = ("tracker-web.service", "tracker-worker.service", "tracker-beat.service")
ENV_FILE = "/etc/tracker/tracker.env"
STATE_DIR = "/var/lib/tracker"
VENV_BIN = "/opt/tracker/.venv/bin/"
GUNICORN_ADDRESS = "127.0.0.1:8000"

Unit = dict[str, dict[str, list[str]]]
Directive = tuple[str, list[str], list]


# ---- readers ---------------------------------------------------------------------------------


def read_unit(path: Path) -> Unit:
    """A systemd unit as {section: {key: [values]}}: keys may repeat, a trailing backslash joins lines."""
    text = re.sub(r"\\\n[ \t]*", " ", path.read_text())
    unit: Unit = {}
    section: dict[str, list[str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = unit.setdefault(line[1:-1], {})
            continue
        assert section is not None and "=" in line, f"{path.name}: stray line {line!r}"
        key, value = line.split("=", 1)
        section.setdefault(key.strip(), []).append(value.strip())
    return unit


def one(unit: Unit, section: str, key: str) -> str:
    values = unit[section].get(key, [])
    assert len(values) == 1, f"{section}.{key}: expected one value, found {values}"
    return values[0]


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=value lines, quotes removed as systemd and a shell both remove them."""
    out: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, value = line.split("=", 1)
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", key), key
        words = shlex.split(value)
        assert len(words) <= 1, f"{key}: quote a value that has spaces"
        out[key] = words[0] if words else ""
    return out


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def configuration_variables() -> set[str]:
    """Every variable named in the first column of the README's Configuration table."""
    names: set[str] = set()
    for line in readme_section("Configuration").splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", line.split("|")[1]))
    return names


def parse_nginx(text: str) -> list[Directive]:
    """nginx configuration as a tree of (name, arguments, children)."""
    text = re.sub(r"#[^\n]*", "", text)
    tokens = re.findall(r'"[^"]*"|\'[^\']*\'|[{};]|[^\s{};]+', text)
    stack: list[list[Directive]] = [[]]
    words: list[str] = []
    for token in tokens:
        if token == ";":
            stack[-1].append((words[0], words[1:], []))
            words = []
        elif token == "{":
            block: Directive = (words[0], words[1:], [])
            stack[-1].append(block)
            stack.append(block[2])
            words = []
        elif token == "}":
            assert not words, f"missing ';' after {words}"
            stack.pop()
        else:
            words.append(token.strip("\"'"))
    assert len(stack) == 1 and not words, "unbalanced braces"
    return stack[0]


def find(tree: list[Directive], name: str) -> list[Directive]:
    return [d for d in tree if d[0] == name]


def args_of(tree: list[Directive], name: str) -> list[list[str]]:
    return [d[1] for d in find(tree, name)]


# ---- systemd units ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def units() -> dict[str, Unit]:
    return {name: read_unit(DEPLOY / name) for name in UNITS}


def exec_start(unit: Unit) -> list[str]:
    return shlex.split(one(unit, "Service", "ExecStart"))


@pytest.mark.parametrize("name", UNITS)
def test_each_unit_runs_unprivileged_reads_the_settings_and_restarts(units, name):
    unit = units[name]
    assert {"Unit", "Service", "Install"} <= set(unit)
    assert one(unit, "Unit", "Description")
    assert "network-online.target" in one(unit, "Unit", "After")
    assert one(unit, "Service", "User") == one(unit, "Service", "Group") == "tracker"
    assert one(unit, "Service", "EnvironmentFile") == ENV_FILE
    assert one(unit, "Service", "WorkingDirectory") == "/opt/tracker"
    assert one(unit, "Service", "Restart") == "on-failure"
    assert one(unit, "Install", "WantedBy") == "multi-user.target"
    assert exec_start(unit)[0].startswith(VENV_BIN)


@pytest.mark.parametrize("name", UNITS)
def test_each_unit_is_hardened_and_writes_only_to_the_state_folder(units, name):
    service = units[name]["Service"]
    assert service["NoNewPrivileges"] == ["yes"]
    assert service["ProtectSystem"] == ["strict"]
    assert service["PrivateTmp"] == ["yes"]
    assert service["ReadWritePaths"] == [STATE_DIR]
    env = read_env_file(DEPLOY / "tracker.env.example")
    for key in ("STORAGE_DIR", "BROKER_DIR", "PROMETHEUS_MULTIPROC_DIR"):  # folders the app writes to must be writable
        assert env[key].startswith(STATE_DIR + "/")


def test_web_unit_serves_the_flask_app_with_gunicorn_on_loopback(units):
    argv = exec_start(units["tracker-web.service"])
    assert argv[0] == VENV_BIN + "gunicorn"
    assert argv[-1] == "wsgi:app"
    assert argv[argv.index("--bind") + 1] == GUNICORN_ADDRESS
    assert one(units["tracker-web.service"], "Service", "Type") == "notify"  # gunicorn tells systemd it is up


def test_web_unit_loads_the_gunicorn_hooks_for_the_metrics(units):
    argv = exec_start(units["tracker-web.service"])
    assert argv[argv.index("--config") + 1] == "/opt/tracker/deploy/gunicorn.conf.py"
    text = (DEPLOY / "gunicorn.conf.py").read_text()
    assert "def child_exit(" in text and "mark_process_dead" in text


def test_worker_and_beat_units_load_the_celery_app(units):
    worker = exec_start(units["tracker-worker.service"])
    beat = exec_start(units["tracker-beat.service"])
    assert worker[0] == beat[0] == VENV_BIN + "celery"
    assert worker[1:4] == ["-A", "wsgi:celery_app", "worker"]
    assert beat[1:4] == ["-A", "wsgi:celery_app", "beat"]
    # beat's schedule file lives in the one writable folder
    assert beat[beat.index("--schedule") + 1].startswith(STATE_DIR + "/")


def test_exactly_one_unit_runs_beat_and_none_upgrades_the_schema(units):
    runs_beat = [name for name, unit in units.items() if {"beat", "-B", "--beat"} & set(exec_start(unit))]
    assert runs_beat == ["tracker-beat.service"]
    assert not (DEPLOY / "tracker-beat@.service").exists()  # no template to start several
    for name in UNITS:
        text = (DEPLOY / name).read_text()
        assert not re.search(r"^Exec\w*=.*\bdb\s+upgrade", text, re.MULTILINE), name


def _stub_programs(folder: Path) -> None:
    for program in ("gunicorn", "celery"):
        stub = folder / program
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)


def test_units_pass_systemd_analyze_verify(tmp_path):
    program = shutil.which("systemd-analyze")
    if program is None:
        pytest.skip("systemd-analyze is not installed (optional, even under CI=true)")
    # verify checks that ExecStart's program exists: point the units at stand-ins in tmp_path.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _stub_programs(bin_dir)
    for name in UNITS:
        (tmp_path / name).write_text((DEPLOY / name).read_text().replace(VENV_BIN, f"{bin_dir}/"))
    done = subprocess.run(
        [program, "verify", *(str(tmp_path / name) for name in UNITS)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    # Warnings (an unknown key, a bad value) leave the exit code at 0 but name the unit.
    assert not [line for line in output.splitlines() if any(name in line for name in UNITS)], output


# ---- the settings file -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return read_env_file(DEPLOY / "tracker.env.example")


def test_settings_file_names_every_configuration_variable(env_example):
    documented = configuration_variables()
    assert {"SECRET_KEY", "DATABASE_URL", "TRUSTED_PROXIES", "SMTP_PASSWORD"} <= documented
    assert documented - set(env_example) == set()
    assert set(env_example) - documented == set()


def test_settings_file_holds_no_secret(env_example):
    assert env_example["SECRET_KEY"] == ""
    assert env_example["SMTP_PASSWORD"] == ""
    assert env_example["S3_SECRET_ACCESS_KEY"] == ""
    assert env_example["TRACKER_ENV"] == "production"
    assert env_example["TRUSTED_PROXIES"] == "1"  # nginx, and nothing else, in front
    for key in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"):
        assert sa.engine.make_url(env_example[key]).password is None, key


def test_a_shell_reads_the_settings_file_the_same_way(env_example):
    """The schema upgrade is run by hand from a shell that sources the file (deploy/README.md)."""
    script = 'set -a; . "$1"; set +a; for k in "${@:2}"; do printf "%s=%s\\0" "$k" "${!k}"; done'
    done = subprocess.run(
        ["bash", "-c", script, "bash", str(DEPLOY / "tracker.env.example"), *env_example],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        timeout=30,
        check=True,
    )
    from_shell = dict(item.split("=", 1) for item in done.stdout.split("\0") if item)
    assert from_shell == env_example


def test_the_app_refuses_production_until_the_secret_is_filled_in(env_example, monkeypatch):
    from werkzeug.middleware.proxy_fix import ProxyFix

    from tracker import create_app

    for key, value in env_example.items():
        # The metrics library reads its folder when it is first imported, for the whole process: the
        # tests' processes keep their counts in memory.
        if key != "PROMETHEUS_MULTIPROC_DIR":
            monkeypatch.setenv(key, value)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()
    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    with pytest.raises(RuntimeError, match="ORGANISATION_PAYER"):
        create_app()  # left blank in the example: the organisation says what kind of payer it is
    monkeypatch.setenv("ORGANISATION_PAYER", "charity")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert isinstance(app.wsgi_app, ProxyFix)
    assert (app.wsgi_app.x_for, app.wsgi_app.x_proto, app.wsgi_app.x_host) == (1, 1, 1)


# ---- nginx -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def servers() -> list[Directive]:
    tree = parse_nginx((DEPLOY / "nginx-tracker.conf").read_text())
    return find(tree, "server")


def _listens_on(server: Directive, port: str) -> bool:
    return any(args[0].rsplit(":", 1)[-1] == port for args in args_of(server[2], "listen"))


def test_nginx_redirects_plain_http_to_https(servers):
    plain = [s for s in servers if _listens_on(s, "80")]
    assert len(plain) == 1
    assert args_of(plain[0][2], "return") == [["301", "https://$host$request_uri"]]
    assert not find(plain[0][2], "location")  # nothing is served over plain HTTP


def _secure_server(servers: list[Directive]) -> list[Directive]:
    secure = [s for s in servers if _listens_on(s, "443")]
    assert len(secure) == 1
    return secure[0][2]


def test_nginx_terminates_tls_for_the_same_name(servers):
    body = _secure_server(servers)
    assert all("ssl" in args for args in args_of(body, "listen"))
    assert len(args_of(body, "ssl_certificate")) == len(args_of(body, "ssl_certificate_key")) == 1
    assert args_of(body, "server_name") == args_of(servers[0][2], "server_name")


def test_nginx_passes_to_gunicorn_with_the_trusted_headers(servers):
    (location,) = [d for d in find(_secure_server(servers), "location") if d[1] == ["/"]]
    headers = {args[0]: args[1] for args in args_of(location[2], "proxy_set_header")}
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["X-Forwarded-Proto"] == "$scheme"
    assert headers["X-Forwarded-Host"] == "$host"
    assert headers["Host"] == "$host"
    assert args_of(location[2], "proxy_pass") == [[f"http://{GUNICORN_ADDRESS}"]]


def test_nginx_parser_catches_a_missing_semicolon():
    with pytest.raises(AssertionError):
        parse_nginx("server { listen 80 }")
    assert parse_nginx("a b; c { d 'e f'; }") == [("a", ["b"], []), ("c", [], [("d", ["e f"], [])])]


def _self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: no certificate for nginx -t")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=tracker.example.org",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return cert, key


def test_nginx_accepts_the_site(tmp_path):
    program = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if program is None:
        pytest.skip("nginx is not installed (optional, even under CI=true)")
    cert, key = _self_signed_certificate(tmp_path)
    site = (DEPLOY / "nginx-tracker.conf").read_text()
    site = re.sub(r"ssl_certificate \S+;", f"ssl_certificate {cert};", site)
    site = re.sub(r"ssl_certificate_key \S+;", f"ssl_certificate_key {key};", site)
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "site.conf").write_text(site)
    wrapper = tmp_path / "nginx.conf"
    wrapper.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n    access_log off;\n    include {tmp_path}/site.conf;\n}}\n"
    )
    done = subprocess.run(
        [program, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(wrapper)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


# ---- the README ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [f"deploy/{name}" for name in UNITS]
    + ["deploy/nginx-tracker.conf", "deploy/tracker.env.example", "deploy/README.md", "docs/operations.md"],
)
def test_the_production_section_names_each_file(path):
    assert (ROOT / path).exists()
    assert path in readme_section("Production")
