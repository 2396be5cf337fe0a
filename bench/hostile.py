"""Hostile mode: one address opens `--viewers` sockets that leave half a fragmented message
(32 KiB of a 64 KiB frame) or stay silent, and never read, while witnesses from another address
watch. Measured: how many the per-address limit refused, the worker's RSS before, at the peak and
after, when the half-sent and the silent sockets were dropped, and the time for a goal from a
scorer at a third address to reach every witness, during the flood and after. App only: the
reference server has no limits to measure."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from .clients import Scorer
from .servers import Server, scorer_cookie
from .wsclient import handshake

FLOOD_SOURCE = "127.0.0.7"
WITNESSES = 50
HALF_A_FRAME = 32 * 1024
BATCH = 200
SAMPLE_SECONDS = 0.25


class Flooder:
    """A raw socket from the flooding address: shakes hands, sees whether it was let in, and
    from then on only writes."""

    def __init__(self, writer: asyncio.StreamWriter, admitted: bool) -> None:
        self.writer, self.admitted = writer, admitted

    @classmethod
    async def open(cls, server: Server) -> Flooder:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", server.port, local_addr=(FLOOD_SOURCE, 0), limit=256
        )
        writer.write(handshake("127.0.0.1", server.port, "/ws", server.origin))
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        first = await asyncio.wait_for(reader.readexactly(1), 30)
        # A snapshot (a text frame, compressed or not), or a close (refused).
        flooder = cls(writer, admitted=first[0] & 0x0F == 1)
        if not flooder.admitted:
            flooder.close()
        return flooder

    def half_a_message(self) -> None:
        mask = os.urandom(4)
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(b"x" * 1024)) * (HALF_A_FRAME // 1024)
        self.writer.write(bytes([0x01, 0x80 | 126]) + HALF_A_FRAME.to_bytes(2, "big") + mask + payload)

    def close(self) -> None:
        self.writer.transport.abort()


class Witness:
    """A well-behaved viewer (it answers pings) that notes when each row's score changed."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.updates: list[float] = []
        self.closed: int | None = None
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for message in self.socket:
                if 'class="score home changed"' in str(message):  # a goal's push, never a snapshot
                    self.updates.append(time.monotonic())
        except ConnectionClosed as closed:
            self.closed = closed.rcvd.code if closed.rcvd else None

    async def close(self) -> None:
        self.reader.cancel()
        await self.socket.close()


async def _goal_reaches(scorer: Scorer, witnesses: list[Witness]) -> float:
    counts = [len(w.updates) for w in witnesses]
    sent = await scorer.goal(scorer.match_ids[0])
    deadline = sent + 30
    while any(len(w.updates) <= n for w, n in zip(witnesses, counts, strict=True)):
        if time.monotonic() > deadline:
            raise RuntimeError("a goal did not reach every witness within 30 s")
        await asyncio.sleep(0.005)
    return max(w.updates[n] for w, n in zip(witnesses, counts, strict=True)) - sent


async def hostile(server: Server, flood: int, partial_share: float = 0.7) -> dict[str, Any]:
    witnesses = [
        Witness(await connect(server.url.replace("http://", "ws://") + "/ws", open_timeout=30))
        for _ in range(WITNESSES)
    ]
    await asyncio.sleep(1)  # their snapshots
    scorer = await Scorer.open(server, await asyncio.to_thread(scorer_cookie, server))
    rss_before = server.rss_kib()
    flooders: list[Flooder] = []
    began = time.monotonic()
    for start in range(0, flood, BATCH):
        flooders += await asyncio.gather(*(Flooder.open(server) for _ in range(start, min(flood, start + BATCH))))
    admitted = [f for f in flooders if f.admitted]
    half = admitted[: int(len(admitted) * partial_share)]
    for flooder in half:
        flooder.half_a_message()
    opened = time.monotonic()
    await asyncio.sleep(1)
    rss_peak = server.rss_kib()
    during = await _goal_reaches(scorer, witnesses)
    held = WITNESSES + 1 + len(admitted)
    partial_gone = silent_gone = None
    while silent_gone is None:
        sockets = int(str(await asyncio.to_thread(lambda: server.health()["sockets"])))
        rss_peak = max(rss_peak, server.rss_kib())
        if partial_gone is None and sockets <= held - len(half):
            partial_gone = time.monotonic() - opened
        if sockets <= WITNESSES + 1:
            silent_gone = time.monotonic() - began
        if time.monotonic() - began > 180:
            raise RuntimeError(f"{sockets} sockets still open 180 s after the flood began")
        await asyncio.sleep(SAMPLE_SECONDS)
    after = await _goal_reaches(scorer, witnesses)
    result = {
        "flood": flood,
        "admitted": len(admitted),
        "refused": len(flooders) - len(admitted),
        "half_sent": len(half),
        "silent": len(admitted) - len(half),
        "open_seconds": round(opened - began, 2),
        "rss_before_mib": round(rss_before / 1024, 1),
        "rss_peak_mib": round(rss_peak / 1024, 1),
        "rss_after_mib": round(server.rss_kib() / 1024, 1),
        "half_sent_dropped_after_s": round(partial_gone or 0.0, 1),
        "silent_dropped_after_s": round(silent_gone, 1),
        "goal_to_all_witnesses_during_ms": round(during * 1000, 1),
        "goal_to_all_witnesses_after_ms": round(after * 1000, 1),
        "witnesses_lost": sum(w.closed is not None for w in witnesses),
        "scorer_goals_accepted": scorer.accepted,
    }
    for flooder in flooders:
        flooder.close()
    await scorer.close()
    await asyncio.gather(*(w.close() for w in witnesses))
    return result
