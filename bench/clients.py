"""The load generator's side: viewer processes, scorer sockets, and stalled viewers."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections import deque
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from .servers import Server, pinned
from .wsclient import Viewer, board_scores, open_viewer

MATCH_ID = re.compile(r'data-match-id="([^"]+)"')
ANSWER_SECONDS = 30.0


class ViewerProcesses:
    """N viewer sockets spread over several `bench.viewers` processes, each from its own
    local address so that no run can run out of ephemeral ports."""

    def __init__(self, processes: list[asyncio.subprocess.Process]) -> None:
        self.processes = processes

    @classmethod
    async def start(
        cls, server: Server, total: int, count: int, concurrency: int, cpus: str | None, loop: str
    ) -> ViewerProcesses:
        processes = []
        count = max(1, min(count, total))
        for index in range(count):
            share = total // count + (1 if index < total % count else 0)
            command = [
                sys.executable, "-m", "bench.viewers", "--port", str(server.port), "--origin", server.origin,
                "--count", str(share), "--source", f"127.0.0.{11 + index}",
                "--concurrency", str(max(1, concurrency // count)), "--loop", loop,
            ]  # fmt: skip
            processes.append(
                await asyncio.create_subprocess_exec(
                    *pinned(command, cpus),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    limit=1 << 30,
                )
            )
        return cls(processes)

    async def ask(self, command: str) -> list[dict[str, Any]]:
        async def one(process: asyncio.subprocess.Process) -> dict[str, Any]:
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(command.encode() + b"\n")
            await process.stdin.drain()
            line = await asyncio.wait_for(process.stdout.readline(), 600)
            if not line:
                raise RuntimeError(f"a viewer process exited (code {process.returncode}) on {command!r}")
            answer: dict[str, Any] = json.loads(line)
            return answer

        return list(await asyncio.gather(*(one(p) for p in self.processes)))

    async def cpu_seconds(self) -> float:
        return float(sum(answer["cpu"] for answer in await self.ask("cpu")))

    async def close(self) -> None:
        for process in self.processes:
            if process.returncode is None and process.stdin is not None:
                process.stdin.write(b"quit\n")
                process.stdin.close()
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


class Scorer:
    """A scorer's socket (a browser-like one, offering deflate) that counts feedback lines."""

    def __init__(self, socket: ClientConnection, snapshot: str) -> None:
        self.socket = socket
        self.match_ids = MATCH_ID.findall(snapshot)
        self.home_scores = {m.decode(): score for m, score in board_scores(snapshot.encode())}
        self.accepted = 0
        self.refused = 0
        self.answered: list[float] = []  # when each feedback line came (time.monotonic())
        # One per goal sent by `goals_answered`, resolved by the feedback line that answers it.
        self._waiting: deque[asyncio.Future[bool]] = deque()
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, server: Server, cookie: str | None) -> Scorer:
        headers = {"Cookie": cookie} if cookie else {}
        socket = await connect(
            server.url.replace("http://", "ws://") + "/ws",
            origin=Origin(server.origin),
            additional_headers=headers,
            compression="deflate",
            open_timeout=30,
            ping_interval=None,
        )
        snapshot = await asyncio.wait_for(socket.recv(), 30)
        return cls(socket, str(snapshot))

    async def goal(self, match_id: str) -> float:
        sent = time.monotonic()
        await self.socket.send(json.dumps({"action": "goal", "match": match_id, "side": "home"}))
        return sent

    async def goals_answered(self, match_id: str, count: int) -> int:
        """Send `count` goals and wait for the server's answer to each; how many were accepted."""
        loop = asyncio.get_running_loop()
        answers: list[asyncio.Future[bool]] = []
        for _ in range(count):
            answers.append(loop.create_future())
            self._waiting.append(answers[-1])
            await self.goal(match_id)
        return sum(await asyncio.wait_for(asyncio.gather(*answers), ANSWER_SECONDS))

    async def _read(self) -> None:
        async for message in self.socket:
            text = str(message)
            if 'hx-target="#feedback"' in text:
                self.answered.append(time.monotonic())
                accepted = 'class="ok"' in text
                if accepted:
                    self.accepted += 1
                else:
                    self.refused += 1
                if self._waiting:
                    waiter = self._waiting.popleft()
                    if not waiter.done():
                        waiter.set_result(accepted)

    async def close(self) -> None:
        self.reader.cancel()
        await self.socket.close()


async def open_scorers(server: Server, cookie: str | None, count: int) -> list[Scorer]:
    gate = asyncio.Semaphore(50)

    async def one() -> Scorer:
        async with gate:
            return await Scorer.open(server, cookie)

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def open_stalled_viewer(server: Server, path: str, source: str, receive_buffer: int) -> Viewer:
    """A viewer that completes the handshake and then never reads, with a tiny receive buffer."""
    viewer = await open_viewer(
        "127.0.0.1", server.port, server.origin, source, True, receive_buffer=receive_buffer, path=path
    )
    await asyncio.sleep(0.2)
    return viewer
