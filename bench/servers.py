"""The two servers under test, started as real processes: the app under Hypercorn, and the
reference broadcast server on Node's `ws` (installed with npm into bench/.node)."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
NODE_DIR = BENCH / ".node"
SCORER_TOKEN = "bench-scorer-token"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pinned(command: list[str], cpus: str | None) -> list[str]:
    return ["taskset", "-c", cpus, *command] if cpus and shutil.which("taskset") else command


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    work_dir: Path
    database: Path | None = None
    pid: int = 0
    extras: dict[str, str] = field(default_factory=dict)
    # With `--matches`: what bench.calendar_load stored before the start (today's pages).
    calendar: dict[str, Any] | None = None
    # With `--workers N`: every worker process (`pid` is the first); memory and CPU are summed.
    pids: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def origin(self) -> str:
        return self.url

    def rss_kib(self) -> int:
        """Resident memory of the processes that serve the sockets, in KiB."""
        total = 0
        for pid in self.pids or [self.pid]:
            status = Path(f"/proc/{pid}/status").read_text()
            found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
            total += int(found.group(1)) if found else 0
        return total

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.pids or [self.pid]:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / CLOCK_TICKS

    def worker_sockets(self) -> list[int]:
        """Per worker process, the TCP connections to the server's port it holds."""
        inodes = _connection_inodes(self.port)
        return [len(_socket_inodes(pid) & inodes) for pid in self.pids or [self.pid]]

    def worker_of(self, client_port: int) -> int | None:
        """Which worker (its index in `pids`) holds the connection from a local client port."""
        inode = _connection_inodes(self.port, client_port)
        for index, pid in enumerate(self.pids or [self.pid]):
            if _socket_inodes(pid) & inode:
                return index
        return None

    def health(self) -> dict[str, object]:
        with urllib.request.urlopen(self.url + "/healthz", timeout=10) as response:
            body: dict[str, object] = json.loads(response.read())
            return body

    def stall_lines(self) -> list[str]:
        """What the app's stall watch logged (LIVESCORES_STALL_LOG_MS), and its slow commits,
        newest last."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        wanted = ("stalls:", "slow commit")
        return [line for line in lines if any(w in line for w in wanted) and "logging event-loop" not in line][-200:]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def _connection_inodes(server_port: int, client_port: int | None = None) -> set[str]:
    """The inodes of the server's side of established connections on its port (IPv4 loopback)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
        if state != "01" or int(local.rsplit(":", 1)[1], 16) != server_port:
            continue
        if client_port is None or int(remote.rsplit(":", 1)[1], 16) == client_port:
            found.add(inode)
    return found


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _child_pids(pid: int, count: int, timeout: float = 30) -> list[int]:
    """Hypercorn's `count` spawned worker processes."""
    deadline = time.monotonic() + timeout
    found: list[int] = []
    while time.monotonic() < deadline:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        found = [int(c) for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
        if len(found) >= count:
            return sorted(found)
        time.sleep(0.05)
    return sorted(found) or [pid]


def _child_pid(pid: int, timeout: float = 10) -> int:
    """Hypercorn runs its worker in a spawned child process; that child holds the sockets."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        for child in children:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                return int(child)
        time.sleep(0.05)
    return pid


def _wait_healthy(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}:\n{server.log()}")
        try:
            server.health()
            return
        except (OSError, ValueError):
            time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not become healthy:\n{server.log()}")


def start_app(
    work_dir: Path,
    cpus: str | None,
    max_sockets: int,
    matches: int = 0,
    env_extra: dict[str, str] | None = None,
    workers: int = 1,
    redis_url: str | None = None,
    loop: str = "asyncio",
    port: int | None = None,
    database: Path | None = None,
    wait: bool = True,
) -> Server:
    """`hypercorn --config hypercorn.toml livescores:app`, one worker, on a fresh SQLite file;
    with `matches`, on one that holds that many (see bench/calendar_load.py). With `workers`,
    `hypercorn -w N` (the workers share the listening socket) and, with `redis_url`, Redis as
    the bus between them, on a channel of this run's own. With `loop` "uvloop", `hypercorn -k
    uvloop`. A replacement passes the port and database of the server it replaces, and
    `wait=False` to watch its start itself. In a process group of its own, which a deploy
    signals whole."""
    port = port or free_port()
    calendar = None
    if database is not None:
        matches = 0
    database = database or work_dir / f"livescores-{port}.db"
    if matches:
        seeded = subprocess.run(
            [sys.executable, "-m", "bench.calendar_load", str(database), str(matches)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        calendar = json.loads(seeded.stdout.splitlines()[-1])
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "WEB_CONCURRENCY")}
    env.update(
        LIVESCORES_DB_PATH=str(database),
        LIVESCORES_SCORER_TOKEN=SCORER_TOKEN,
        SECRET_KEY="bench-secret-key",
        # The default (19,500) is below the largest run; the file limit is the real ceiling.
        LIVESCORES_MAX_SOCKETS=str(max_sockets),
        # Every viewer comes from a few loopback addresses; the default (1,000 per address)
        # would refuse most of a large run's viewers.
        LIVESCORES_MAX_SOCKETS_PER_ADDRESS=str(max_sockets),
        # The figures are for goals in ten matches kicked off, as in the reference runs.
        LIVESCORES_DEMO="draw",
        PYTHONUNBUFFERED="1",
    )
    env.update(env_extra or {})
    if redis_url is not None:
        env.update(REDIS_URL=redis_url, LIVESCORES_CHANNEL=f"livescores-bench:{port}")
    hypercorn = str(Path(sys.executable).with_name("hypercorn"))
    command = [hypercorn, "--config", str(ROOT / "hypercorn.toml"), "--bind", f"127.0.0.1:{port}"]
    command += ["-k", "uvloop", "livescores:app"] if loop == "uvloop" else ["livescores:app"]
    if workers > 1:
        command[1:1] = ["--workers", str(workers)]
    log_path = work_dir / f"app-{port}-{time.monotonic_ns()}.log"
    process = subprocess.Popen(
        pinned(command, cpus),
        cwd=ROOT,
        env=env,
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server("app", port, process, log_path, work_dir, database, calendar=calendar)
    if redis_url is not None:
        server.extras["channel"] = env["LIVESCORES_CHANNEL"]
    if not wait:
        return server
    _wait_healthy(server)
    if workers > 1:
        server.pids = _child_pids(process.pid, workers)
        server.pid = server.pids[0]
        _wait_started(server)  # every worker serves: each has opened its services
    else:
        server.pid = _child_pid(process.pid)
    return server


def _wait_started(server: Server, timeout: float = 60) -> None:
    """A worker has started when it has logged how scorers sign in (the end of its start-up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.log_path.read_text(errors="replace").count("Scorers sign in") >= len(server.pids):
            return
        time.sleep(0.1)
    raise RuntimeError(f"not every worker started:\n{server.log()}")


def install_ws() -> Path:
    """npm-install the `ws` package once into bench/.node; returns its node_modules folder."""
    modules = NODE_DIR / "node_modules"
    if not (modules / "ws" / "package.json").exists():
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "--silent", "ws@8"],
            check=True,
        )
    return modules


def start_node(
    work_dir: Path, cpus: str | None, board: dict[str, object], port: int | None = None, wait: bool = True
) -> Server:
    """The reference: the same snapshot on connect, the same row fragment broadcast per goal."""
    modules = install_ws()
    port = port or free_port()
    board_path = work_dir / f"board-{port}.json"
    board_path.write_text(json.dumps(board))
    command = ["node", str(BENCH / "reference" / "server.js"), str(port), str(board_path)]
    log_path = work_dir / f"node-{port}-{time.monotonic_ns()}.log"
    env = {**os.environ, "NODE_PATH": str(modules)}
    process = subprocess.Popen(
        pinned(command, cpus), cwd=ROOT, env=env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT
    )
    server = Server("node", port, process, log_path, work_dir)
    if wait:
        _wait_healthy(server)
    server.pid = process.pid
    return server


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def scorer_cookie(server: Server, name: str = "Bench") -> str | None:
    """Sign in through the app's form (CSRF cookie and field); None for a server without one."""
    if server.name != "app":
        return None
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    with opener.open(server.url + "/signin") as page:
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.read().decode())
    if csrf is None:
        raise RuntimeError("the sign-in form carries no CSRF field")
    form = urllib.parse.urlencode({"csrf": csrf.group(1), "token": SCORER_TOKEN, "name": name}).encode()
    try:
        opener.open(server.url + "/signin", data=form)
    except urllib.error.HTTPError as redirect:
        if redirect.code != 302:
            raise
    return "; ".join(f"{c.name}={c.value}" for c in jar if c.name == "livescores_scorer")
