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

from .services import need_redis_server_program
from .support import SCORER_TOKEN

ROOT = Path(__file__).resolve().parent.parent
HYPERCORN = str(Path(sys.executable).with_name("hypercorn"))


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
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
        """SIGKILL to Hypercorn's main process and its workers alike, as a crashed machine would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        return self.process.returncode


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "WEB_CONCURRENCY")}
    env.update(
        LIVESCORES_DB_PATH=str(tmp_path / "livescores.db"),
        LIVESCORES_SCORER_TOKEN=SCORER_TOKEN,
        SECRET_KEY="secret-for-tests",
        PYTHONUNBUFFERED="1",
        LIVESCORES_DEMO="draw",
    )
    env.update(extra)
    return env


def start_server(
    tmp_path: Path, *args: str, port: int | None = None, file_limit: int | None = None, **env: str
) -> Server:
    """In a process group of its own, so that the server and its workers can be signalled whole."""
    port = port or free_port()
    log_path = tmp_path / f"server-{port}-{time.monotonic_ns()}.log"
    config = str(ROOT / "hypercorn.toml")
    command = [HYPERCORN, "--config", config, "--bind", f"127.0.0.1:{port}", *args, "livescores:app"]
    if file_limit is not None:
        command = ["prlimit", f"--nofile={file_limit}:{file_limit}", "--", *command]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=server_env(tmp_path, **env),
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
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


def wait_for_workers(server: Server, count: int, timeout: float = 30) -> None:
    """Until `count` worker processes are serving (the health check reached only one of them)."""
    deadline = time.monotonic() + timeout
    while len(re.findall(r"\] \[INFO\] Running on ", server.log())) < count:
        if time.monotonic() > deadline or server.process.poll() is not None:
            raise RuntimeError(f"{count} workers did not start:\n{server.log()}")
        time.sleep(0.05)


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
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    with opener.open(base_url + "/signin") as page:
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.read().decode())
    assert csrf
    form = urllib.parse.urlencode({"csrf": csrf.group(1), "token": SCORER_TOKEN, "name": name}).encode()
    try:
        opener.open(base_url + "/signin", data=form)
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 302, redirect.read()
    return "; ".join(f"{c.name}={c.value}" for c in jar if c.name == "livescores_scorer")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class RedisServer:
    """A private `redis-server` on a free port, so a test can stop and start it at will."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        need_redis_server_program()
        self.directory.mkdir(parents=True, exist_ok=True)
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(command, cwd=self.directory, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as probe:
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
