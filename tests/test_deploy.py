"""Deploying as a platform does: the Procfile run through honcho, the release phase, several
processes migrating one fresh database at once, and the files the Python buildpack reads."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request
from importlib.metadata import version
from pathlib import Path

import asyncpg
import pytest
from packaging.requirements import Requirement
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from livescores.config import Config

from .conftest import REDIS_TEST_URL, private_channel
from .pages import feedback, rows
from .servers import ROOT, Server, free_port, scorer_cookie, server_env, wait_until_healthy
from .services import need_redis

HONCHO = str(Path(sys.executable).with_name("honcho"))


def _head_revision() -> str:
    from alembic.script import ScriptDirectory

    from livescores.migrations import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


HEAD = _head_revision()  # the latest migration, which a fresh database ends at


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_the_procfile_serves_hypercorn_on_port_with_web_concurrency_workers_and_migrates_on_release() -> None:
    processes = procfile()
    assert set(processes) == {"web", "release"}
    web = shlex.split(processes["web"])
    assert web[0] == "hypercorn" and web[-1] == "livescores:app"
    assert web[web.index("--bind") + 1] == "0.0.0.0:$PORT"
    assert web[web.index("--workers") + 1] == "${WEB_CONCURRENCY:-1}"
    assert web[web.index("--config") + 1] == "hypercorn.toml"
    assert web[web.index("-k") + 1] == "uvloop"  # it keeps the fast path (tests/test_compat.py)
    assert processes["release"] == "python -m livescores.cli db upgrade"


def test_requirements_pin_every_runtime_dependency_to_what_the_tests_run_with() -> None:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            pinned = str(requirement.specifier).removeprefix("==")
            assert str(requirement.specifier) == f"=={pinned}", line
            pins[requirement.name.lower()] = pinned
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for dependency in map(Requirement, declared):
        name = dependency.name.lower()
        assert name in pins, f"{name} is not pinned"
        assert dependency.specifier.contains(pins[name]), (name, pins[name], str(dependency.specifier))
    for name, pinned in pins.items():
        assert version(name) == pinned, f"{name}: pinned {pinned}, tested with {version(name)}"


def test_python_version_is_the_one_the_tests_run_on() -> None:
    pinned = (ROOT / ".python-version").read_text().strip()
    assert pinned == f"{sys.version_info.major}.{sys.version_info.minor}"
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == f">={pinned}"


def test_app_json_asks_for_postgres_redis_and_the_config_vars_the_app_reads() -> None:
    manifest = json.loads((ROOT / "app.json").read_text())
    plans = [addon["plan"].split(":")[0] for addon in manifest["addons"]]
    assert plans == ["heroku-postgresql", "heroku-redis"]
    env = manifest["env"]
    assert env["SECRET_KEY"]["generator"] == "secret"
    assert env["LIVESCORES_SCORER_TOKEN"]["generator"] == "secret"
    values = {name: spec["value"] for name, spec in env.items() if "value" in spec}
    heroku = {
        **values,
        "DATABASE_URL": "postgres://u:p@db.example:5432/d1",
        "REDIS_URL": "rediss://:p@redis.example:6380",
        "SECRET_KEY": "s",
        "LIVESCORES_SCORER_TOKEN": "t",
    }
    config = Config.from_env(heroku)
    assert config.database_url == "postgresql+asyncpg://u:p@db.example:5432/d1"
    assert config.bus_url == "rediss://:p@redis.example:6380" and config.bus_channel == "livescores:changes"
    assert config.bus_verify_tls is False and config.trust_proxy_headers is True
    assert config.worker_count == 2 and config.secret_key == "s" and config.scorer_token == "t"


def test_the_channel_and_tls_verification_default_to_safe_values() -> None:
    config = Config.from_env({})
    assert (config.bus_url, config.bus_channel, config.bus_verify_tls) == ("memory://", "livescores:changes", True)
    assert Config.from_env({"LIVESCORES_CHANNEL": "staging:changes"}).bus_channel == "staging:changes"


# -- processes ----------------------------------------------------------------------------


async def schema_of(url: str) -> tuple[list[str], list[str]]:
    conn = await asyncpg.connect(url)
    try:
        versions = [r["version_num"] for r in await conn.fetch("SELECT version_num FROM alembic_version")]
        tables = [r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")]
        return versions, sorted(tables)
    finally:
        await conn.close()


def run_upgrades(count: int, env: dict[str, str]) -> list[subprocess.CompletedProcess[str]]:
    upgrades = [
        subprocess.Popen(
            [sys.executable, "-m", "livescores.cli", "db", "upgrade"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(count)
    ]
    return [subprocess.CompletedProcess(p.args, p.wait(60), p.stdout.read() if p.stdout else "") for p in upgrades]


@pytest.mark.slow
async def test_several_processes_migrating_a_fresh_postgres_database_at_once_are_safe(
    tmp_path: Path, postgres_url: str
) -> None:
    env = server_env(tmp_path, DATABASE_URL=postgres_url)
    finished = await asyncio.to_thread(run_upgrades, 4, env)
    assert [run.returncode for run in finished] == [0] * 4, [run.stdout for run in finished]
    assert all("database is up to date" in run.stdout for run in finished)
    revision, tables = await schema_of(postgres_url)
    assert revision == [HEAD]
    assert {"alembic_version", "events", "matches", "settings", "competitions", "teams"} <= set(tables)


@pytest.mark.slow
def test_several_processes_migrating_a_fresh_sqlite_database_at_once_are_safe(tmp_path: Path) -> None:
    finished = run_upgrades(4, server_env(tmp_path))
    assert [run.returncode for run in finished] == [0] * 4, [run.stdout for run in finished]
    import sqlite3

    with sqlite3.connect(tmp_path / "livescores.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"alembic_version", "events", "matches", "settings"} <= tables


def honcho(tmp_path: Path, process: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = (tmp_path / f"honcho-{process}-{port}.log").open("ab")
    return subprocess.Popen(
        [HONCHO, "--app-root", str(ROOT), "start", "--port", str(port), process],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.mark.slow
async def test_the_procfile_runs_as_a_platform_runs_it(tmp_path: Path, postgres_url: str) -> None:
    need_redis()
    env = server_env(
        tmp_path,
        DATABASE_URL=postgres_url.replace("postgresql://", "postgres://", 1),  # Heroku's spelling
        REDIS_URL=REDIS_TEST_URL,
        LIVESCORES_CHANNEL=private_channel(),
        WEB_CONCURRENCY="2",
    )
    env.pop("LIVESCORES_DB_PATH")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # `python`, `hypercorn` as installed

    release = honcho(tmp_path, "release", 5000, env)
    assert await asyncio.to_thread(release.wait, 60) == 0
    assert "database is up to date" in (tmp_path / "honcho-release-5000.log").read_text()
    assert (await schema_of(postgres_url))[0] == [HEAD]

    server = await asyncio.to_thread(start_web, tmp_path, env)
    web, port = server.process, int(server.url.rsplit(":", 1)[1])
    try:
        await asyncio.to_thread(check_page_and_socket, server)
        code, stopped_after = await asyncio.to_thread(stop_with_a_viewer_connected, server)
    finally:
        if web.poll() is None:
            os.killpg(web.pid, signal.SIGKILL)
            web.wait(5)
    log = server.log()
    assert len(re.findall(r"Running on http://0\.0\.0\.0:" + str(port), log)) == 2, log  # WEB_CONCURRENCY
    assert "MISCONFIGURED" not in log
    assert code == 1012, log
    assert stopped_after < 10, stopped_after


def start_web(tmp_path: Path, env: dict[str, str]) -> Server:
    """`honcho start web` on a free port; another port if someone else took it meanwhile."""
    for _ in range(3):
        port = free_port("0.0.0.0")
        web = honcho(tmp_path, "web", port, env)
        server = Server(f"http://127.0.0.1:{port}", web, tmp_path / f"honcho-web-{port}.log")
        try:
            wait_until_healthy(server)
            return server
        except RuntimeError:
            if "Address already in use" not in server.log():
                raise
    raise RuntimeError("no free port for the web process")


def stop_with_a_viewer_connected(server: Server) -> tuple[int | None, float]:
    """SIGTERM to honcho, which passes it to the web process's whole group as Heroku does; the
    close code the viewer got, and how long until every process of the group had exited."""
    group = int(re.findall(r"web\.1 started \(pid=(\d+)\)", server.log())[-1])
    with connect(server.ws_url, open_timeout=5) as viewer:
        viewer.recv(timeout=5)
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        try:
            while True:
                viewer.recv(timeout=10)
        except ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
    server.process.wait(15)
    while time.monotonic() - started < 15:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    return code, time.monotonic() - started


def check_page_and_socket(server: Server) -> None:
    with urllib.request.urlopen(server.url + "/", timeout=5) as page:
        board = rows(page.read().decode())
    assert len(board) == 10
    match_id = next(iter(board))
    cookie = scorer_cookie(server.url)
    with (
        connect(server.ws_url, open_timeout=5) as viewer,
        connect(server.ws_url, additional_headers={"Cookie": cookie}, open_timeout=5) as scorer,
    ):
        assert len(rows(str(viewer.recv(timeout=5)))) == 10
        scorer.recv(timeout=5)
        scorer.send(json.dumps({"action": "goal", "match": match_id, "side": "away"}))
        while not str(feedback(str(scorer.recv(timeout=5)))).startswith("ok: "):
            pass
        while match_id not in rows(pushed := str(viewer.recv(timeout=5))):
            pass
        assert rows(pushed)[match_id].away_score == 1
        with contextlib.suppress(TimeoutError, ConnectionClosed):
            viewer.recv(timeout=0.2)
