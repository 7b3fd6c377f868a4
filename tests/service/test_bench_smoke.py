"""A short, bounded run of the load benchmark (``bench/service_load.py``): a few desks for a
few seconds against the real service and the hello-world reference. Fails on any error, so
the benchmark keeps working and the mix stays error-free; the figures themselves are for
docs/BENCHMARKS.md, not asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize("client_processes", [1, 2])
def test_benchmark_smoke_run_has_no_errors(tmp_path: Path, client_processes: int) -> None:
    pytest.importorskip("psutil")
    out = tmp_path / "result.json"
    command = [
        sys.executable,
        "-m",
        "bench.service_load",
        "--desks",
        "3",
        "--seconds",
        "8",  # a desk's cycle (card on, read ~1 s, five lookups) fits several times
        "--warmup",
        "2",
        "--fail-on-error",
        "--client-processes",
        str(client_processes),
        "--json",
        str(out),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())["median"]
    for app in ("cccd", "hello"):
        assert result[app]["errors"] == 0
        for endpoint in ("put_card", "create_scan", "citizen", "photo", "insurance", "list_scans"):
            assert result[app]["endpoints"][endpoint]["count"] > 0, (app, endpoint)
    cccd = result["cccd"]
    assert cccd["scans"]["count"] > 0
    assert cccd["events_per_second"] > 0
    assert cccd["server_cpu_seconds"] > 0 and cccd["rss_mb"]["max"] > 0
    assert "short-request p99 ratio" in done.stdout
