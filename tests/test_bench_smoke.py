"""The benchmark's smoke run: 200 viewers, 5 goals, the app and the Node reference, with `GET /`
timed meanwhile; it fails only on lost or duplicated messages and failed page requests, never
on a time."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_benchmark_smoke_run_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    servers = ["app", "node"] if shutil.which("node") and shutil.which("npm") else ["app"]
    report = tmp_path / "bench.json"
    command = [sys.executable, "-m", "bench", "--smoke", "--servers", *servers, "--json", str(report)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    runs = json.loads(report.read_text())["runs"]
    for server in servers:
        result = runs[0][server]
        assert result["connected"] == 200
        assert result["goals"] == 5
        assert (result["lost"], result["duplicates"], result["out_of_order"]) == (0, 0, 0)
        assert result["page"]["ok"] > 0
        assert result["page"]["errors"] == 0


@pytest.mark.slow
def test_a_goal_on_a_stored_calendar_reaches_exactly_the_pages_that_show_its_match(tmp_path: Path) -> None:
    report = tmp_path / "bench.json"
    command = [sys.executable, "-m", "bench", "--smoke", "--servers", "app", "--matches", "500", "--json", str(report)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    calendar = json.loads(report.read_text())["runs"][0]["app"]["calendar"]
    assert calendar["stored"] == 500
    reach = calendar["reach"]
    # Today, its day, its competition, both teams and the match: one frame per goal each.
    assert reach["goal_frames_per_goal_showing"] == reach["sockets_showing"] == 18
    assert reach["goal_frames_not_showing"] == 0
    assert reach["sockets_not_showing"] == 12


@pytest.mark.slow
def test_the_memory_bench_breaks_an_idle_socket_down_by_layer(tmp_path: Path) -> None:
    report = tmp_path / "memory.json"
    command = [sys.executable, "-m", "bench.memory", "--viewers", "200", "--json", str(report)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(report.read_text())
    assert result["rss"]["connected"] == result["traced"]["connected"] == 200
    layers = result["traced"]["layers"]
    # Each socket holds its transport and the app's objects; nothing of Hypercorn's stays.
    assert layers["app"]["bytes_per_socket"] > 0
    assert layers["asyncio transport"]["bytes_per_socket"] > 0
    for hypercorns in ("wsproto", "h11", "Hypercorn WSStream (scope, handshake)", "Hypercorn TCPServer, TaskGroup"):
        assert layers.get(hypercorns, {"bytes_per_socket": 0})["bytes_per_socket"] < 100
    assert sum(layer["bytes_per_socket"] for layer in layers.values()) == pytest.approx(
        result["traced"]["traced_bytes_per_socket"], abs=50
    )
