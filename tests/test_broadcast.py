"""The hub's broadcaster: bursts of changes reach every socket coalesced into few messages,
and no socket ever gets an older version of a row after a newer one."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import re
import time

from livescores.hub import PASS_INTERVAL, SLICE_CHECK_EVERY, Connection
from livescores.services import Services

from .pages import rows

ROW_VERSION = re.compile(r'<li class="match[^"]*"[^>]*data-match-id="([^"]+)"[^>]*data-version="(\d+)"')


class Received:
    """What one socket was sent, message by message (the ASGI send side of a Connection)."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    async def send(self, message: str) -> None:
        self.messages.append(message)

    def versions(self) -> dict[str, list[int]]:
        seen: dict[str, list[int]] = {}
        for message in self.messages:
            for match_id, version in ROW_VERSION.findall(message):
                seen.setdefault(match_id, []).append(int(version))
        return seen


async def attach_viewers(live: Services, count: int) -> list[Received]:
    received = [Received() for _ in range(count)]
    for sink in received:
        live.hub.attach(Connection("viewer", sink.send, 10.0))
    return received


async def settle(live: Services) -> None:
    await live.hub.delivered()
    for _ in range(5):  # the outboxes' flush tasks
        await asyncio.sleep(0)


async def test_a_burst_of_changes_reaches_each_socket_as_one_message(live: Services) -> None:
    live.hub.pass_slice_seconds = 0  # a pass yields at every look at the clock
    viewers = await attach_viewers(live, SLICE_CHECK_EVERY * 2 + 7)  # more than one slice of a pass
    await settle(live)
    first, second, third = live.hub.matches[:3]
    for match in (first, second, third):
        live.hub.apply(dataclasses.replace(match, version=match.version + 1, home_score=1), "home")
    live.hub.apply(dataclasses.replace(first, version=first.version + 2, home_score=2), "home")
    await settle(live)
    for viewer in viewers:
        assert len(viewer.messages) == 2, "the snapshot, then one message for the whole burst"
        pushed = rows(viewer.messages[1])
        assert {match_id: row.home_score for match_id, row in pushed.items()} == {
            first.id: 2,
            second.id: 1,
            third.id: 1,
        }


async def test_no_socket_sees_a_row_go_back_while_changes_and_sockets_interleave(live: Services) -> None:
    rng = random.Random(7)
    live.hub.pass_slice_seconds = 0
    viewers = await attach_viewers(live, SLICE_CHECK_EVERY * 3 + 5)
    matches = {match.id: match for match in live.hub.matches[:4]}
    for _ in range(120):
        match_id = rng.choice(list(matches))
        newer = dataclasses.replace(matches[match_id], version=matches[match_id].version + 1)
        newer = dataclasses.replace(newer, home_score=newer.home_score + 1)
        matches[match_id] = newer
        live.hub.apply(newer, "home")
        if rng.random() < 0.3:
            viewers += await attach_viewers(live, 1)  # attaches while a pass may be half-way
        if rng.random() < 0.3:
            await asyncio.sleep(0)  # lets the broadcaster run a slice
    await settle(live)
    for viewer in viewers:
        seen = viewer.versions()
        for match_id, latest in matches.items():
            versions = seen[match_id]
            assert versions == sorted(versions), f"{match_id} went back: {versions}"
            assert versions[-1] == latest.version


async def test_a_scorer_is_acknowledged_after_the_row_reached_the_sockets(live: Services) -> None:
    viewers = await attach_viewers(live, 3)
    await settle(live)
    match = live.hub.matches[0]
    newer = dataclasses.replace(match, version=match.version + 1, home_score=match.home_score + 1)
    live.hub.apply(newer, "home")
    assert all(len(viewer.messages) == 1 for viewer in viewers), "queued, not yet sent"
    await settle(live)
    assert all(rows(viewer.messages[-1])[match.id].version == newer.version for viewer in viewers)


async def test_a_detached_socket_is_left_out_of_a_pass(live: Services) -> None:
    sink = Received()
    connection = Connection("viewer", sink.send, 10.0)
    live.hub.attach(connection)
    await settle(live)
    match = live.hub.matches[0]
    live.hub.apply(dataclasses.replace(match, version=match.version + 1, home_score=9), "home")
    live.hub.detach(connection)
    await settle(live)
    assert len(sink.messages) == 1, "only the snapshot"
    assert live.hub.watching_here == 0


async def test_a_page_gets_at_most_one_message_per_pass_interval(live: Services) -> None:
    (viewer,) = await attach_viewers(live, 1)
    await settle(live)
    match = live.hub.matches[0]
    started = time.monotonic()
    for version in range(match.version + 1, match.version + 4):
        live.hub.apply(dataclasses.replace(match, version=version, home_score=version), "home")
        await settle(live)
    assert len(viewer.messages) == 4, "the snapshot and one message per change"
    assert time.monotonic() - started >= 2 * PASS_INTERVAL, "three passes back to back span two intervals"


async def test_a_change_does_not_wait_for_a_pass_that_only_tells_the_count(live: Services) -> None:
    live.hub.pass_slice_seconds = 0  # a pass yields at every look at the clock
    viewers = await attach_viewers(live, SLICE_CHECK_EVERY * 4)
    await settle(live)
    live.hub.show_watching(1234)
    # Until the count's pass wrote its first slice (the pass yields between slices).
    while all(len(viewer.messages) < 2 for viewer in viewers):  # noqa: ASYNC110
        await asyncio.sleep(0)
    match = live.hub.matches[0]
    newer = dataclasses.replace(match, version=match.version + 1, home_score=match.home_score + 1)
    live.hub.apply(newer, "home")
    await settle(live)
    for viewer in viewers:
        assert "1,234 watching" in viewer.messages[-1], "every socket is told the count"
        assert rows(viewer.messages[-1])[match.id].version == newer.version
    # The sockets the count's pass had not reached got one message with both, not the count and
    # then the goal: all but its first slice or two.
    assert sum(len(viewer.messages) == 2 for viewer in viewers) >= SLICE_CHECK_EVERY * 2
