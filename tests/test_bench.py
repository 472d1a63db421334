"""The benchmarks' quick mode: every script in bench/ runs end to end on tiny data, so a benchmark
that crashes fails the build. Timings mean nothing at these sizes and are never asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_ALL = ROOT / "bench" / "run_all.py"


def test_every_benchmark_runs_and_reports_its_ratio(tmp_path):
    before = (ROOT / "docs" / "benchmarks.md").read_bytes()
    done = subprocess.run(
        [sys.executable, str(RUN_ALL), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    rows = [json.loads(line[len("RESULT ") :]) for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    names = {"check", "positions", "runs", "dashboard", "documents", "api_load"}
    assert {r["bench"] for r in rows} == names
    assert all(r["ratio"] > 0 and r["baseline"] for r in rows)
    # The quick mode never writes its meaningless figures into the benchmark table.
    assert (ROOT / "docs" / "benchmarks.md").read_bytes() == before
