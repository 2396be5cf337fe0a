"""Real servers for the tests: `hypercorn livescores:app` started as a subprocess on a free port."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .support import SCORER_TOKEN

ROOT = Path(__file__).resolve().parent.parent
HYPERCORN = str(Path(sys.executable).with_name("hypercorn"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "WEB_CONCURRENCY")}
    env.update(
        LIVESCORES_DB_PATH=str(tmp_path / "livescores.db"),
        LIVESCORES_SCORER_TOKEN=SCORER_TOKEN,
        SECRET_KEY="secret-for-tests",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def start_server(tmp_path: Path, *args: str, port: int | None = None, **env: str) -> Server:
    port = port or free_port()
    log_path = tmp_path / f"server-{port}-{time.monotonic_ns()}.log"
    command = [
        HYPERCORN,
        "--config",
        str(ROOT / "hypercorn.toml"),
        "--bind",
        f"127.0.0.1:{port}",
        *args,
        "livescores:app",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=server_env(tmp_path, **env), stdout=log_path.open("wb"), stderr=subprocess.STDOUT
    )
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    wait_until_healthy(server)
    return server


def wait_until_healthy(server: Server, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited with {server.process.returncode}:\n{server.log()}")
        try:
            with urllib.request.urlopen(server.url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not become healthy:\n{server.log()}")


@contextmanager
def running_server(tmp_path: Path, *args: str, **env: str) -> Iterator[Server]:
    server = start_server(tmp_path, *args, **env)
    try:
        yield server
    finally:
        server.stop()


def scorer_cookie(base_url: str, name: str = "Sam") -> str:
    """Sign in through the real form; the `Cookie` header value a scorer's socket sends."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    with opener.open(base_url + "/signin") as page:
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.read().decode())
    assert csrf
    form = urllib.parse.urlencode({"csrf": csrf.group(1), "token": SCORER_TOKEN, "name": name}).encode()
    try:
        opener.open(base_url + "/signin", data=form)
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 302, redirect.read()
    return "; ".join(f"{c.name}={c.value}" for c in jar if c.name == "livescores_scorer")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None
