"""`livescores:app`, the object Hypercorn serves: importing the package builds nothing and
reads no configuration; the app is built on the server's first call, its serving hooks run
through the lifespan as before, and a build or a start that fails leaves nothing running."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import livescores
from livescores import create_app
from livescores.asgi import BuildOnFirstCall
from livescores.config import Config
from livescores.services import EXTENSION_KEY
from livescores.store import Store

from .servers import HYPERCORN, ROOT, free_port, server_env
from .support import SCORER_TOKEN

SCOREBOARD_TASKS = {"bus-listener", "match-clock", "viewer-count", "store-watcher", "bus-republish"}


class Lifespan:
    """The server's side of an ASGI lifespan, as Hypercorn runs it."""

    def __init__(self, app: Any) -> None:
        self.to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        self.task = asyncio.create_task(app(scope, self.to_app.get, self.from_app.put))

    async def event(self, kind: str) -> dict[str, Any]:
        await self.to_app.put({"type": f"lifespan.{kind}"})
        return await asyncio.wait_for(self.from_app.get(), 30)


def test_importing_the_package_with_a_wrong_setting_builds_nothing_and_succeeds() -> None:
    code = "import livescores.matches, livescores; assert livescores.app.built is None"
    env = {"PATH": "/usr/bin:/bin", "LIVESCORES_MAX_SOCKETS": "abc", "LIVESCORES_TIMEZONE": "Mars/Olympus"}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_served_object_is_not_built_by_importing_it() -> None:
    assert isinstance(livescores.app, BuildOnFirstCall)
    assert livescores.app.built is None


async def test_the_first_call_builds_the_app_and_the_lifespan_runs_its_serving_hooks(tmp_path: Path) -> None:
    config = Config(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'livescores.db'}",
        scorer_token=SCORER_TOKEN,
        secret_key="secret-for-tests",
        create_demo_matches=False,
    )
    served = BuildOnFirstCall(lambda: create_app(config))
    lifespan = Lifespan(served)
    assert await lifespan.event("startup") == {"type": "lifespan.startup.complete"}
    assert served.built is not None
    assert EXTENSION_KEY in served.built.extensions  # the store, bus and hub are open
    assert await lifespan.event("shutdown") == {"type": "lifespan.shutdown.complete"}
    assert EXTENSION_KEY not in served.built.extensions
    await asyncio.wait_for(lifespan.task, 5)


async def test_a_build_that_fails_is_a_failed_startup_not_a_server_without_services() -> None:
    served = BuildOnFirstCall(lambda: create_app(Config.from_env({"LIVESCORES_MAX_SOCKETS": "abc"})))
    lifespan = Lifespan(served)
    failed = await lifespan.event("startup")
    assert failed["type"] == "lifespan.startup.failed"
    assert "LIVESCORES_MAX_SOCKETS='abc' is not a whole number" in failed["message"]
    await asyncio.wait_for(lifespan.task, 5)
    assert served.built is None


async def test_a_start_that_fails_after_the_scoreboard_started_leaves_no_task_running(tmp_path: Path) -> None:
    path = tmp_path / "livescores.db"
    url = f"sqlite+aiosqlite:///{path}"
    store = Store(url)
    await store.migrate()
    await store.close()
    with sqlite3.connect(path) as db:  # the secret key cannot be stored, once the scoreboard runs
        db.execute("CREATE TRIGGER refuse BEFORE INSERT ON settings BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
    app = create_app(Config(database_url=url, scorer_token=SCORER_TOKEN, create_demo_matches=False))
    with pytest.raises(Exception, match="disk on fire"):
        async with app.test_app():
            pass
    await asyncio.sleep(0)
    running = {task.get_name() for task in asyncio.all_tasks() if not task.done()}
    assert not running & SCOREBOARD_TASKS
    assert EXTENSION_KEY not in app.extensions


@pytest.mark.slow
def test_hypercorn_stops_a_worker_whose_configuration_is_wrong_and_says_why(tmp_path: Path) -> None:
    command = [HYPERCORN, "--config", str(ROOT / "hypercorn.toml"), "--bind", f"127.0.0.1:{free_port()}"]
    done = subprocess.run(
        [*command, "livescores:app"],
        cwd=ROOT,
        env=server_env(tmp_path, LIVESCORES_MAX_SOCKETS="abc"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Lifespan failure in startup" in done.stderr
    assert "LIVESCORES_MAX_SOCKETS='abc' is not a whole number" in done.stderr
