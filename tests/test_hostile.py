"""A hostile crowd against real `hypercorn livescores:app` processes, sized for a shared 2-core
machine: one address flooding sockets that leave half a fragmented message and never read, a
full viewers' cap, a revoked scorer on another worker, two scorers at once on two workers, and
the logs of a production-style start. The timeouts are shortened through the environment so
that each waits seconds, not a minute."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from .conftest import REDIS_TEST_URL, private_channel
from .pages import feedback
from .servers import NoRedirect, Server, server_env, start_server, wait_for_workers
from .services import need_redis
from .support import SCORER_TOKEN
from .test_scale_out import Viewer, eventually, recorded_by, score, scorer, viewers

pytestmark = pytest.mark.slow

FLOOD_ADDRESS = "127.0.0.2"  # all of 127/8 is this machine: another client address for the server
PER_ADDRESS = 1000  # the default
FLOOD = 1500
PARTIAL = 700  # of the sockets let in, those that leave half a message; the rest stay silent
# What the flood may add to the server's memory per socket it let in: a socket's own state, the
# half message Hypercorn holds, and its snapshot waiting in a kernel buffer nobody reads.
MOST_KIB_PER_SOCKET = 128
HALF_A_FRAME = 32 * 1024  # half of the 64 KiB Hypercorn reads (hypercorn.toml)
PING_TIMEOUT = 4.0
FRAGMENT_TIMEOUT = 2.0
PASSWORD = "correct horse battery"
LIVESCORES = str(Path(sys.executable).with_name("livescores"))


def rss_kib(server: Server) -> int:
    """The resident memory of the worker that holds the sockets (Hypercorn spawns it), in KiB."""
    for pid in Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split():
        if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
            found = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
            assert found
            return int(found.group(1))
    raise AssertionError("no worker process")


def open_sockets(server: Server) -> int:
    with urllib.request.urlopen(server.url + "/healthz", timeout=5) as response:
        return int(json.loads(response.read())["sockets"])


def api_matches(server: Server) -> list[dict[str, object]]:
    with urllib.request.urlopen(server.url + "/api/matches", timeout=5) as response:
        found: list[dict[str, object]] = json.loads(response.read())["matches"]
    return found


class Hostile:
    """A raw socket that shakes hands, learns whether it was let in, then never reads again."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, admitted: bool) -> None:
        self.reader, self.writer, self.admitted = reader, writer, admitted

    @classmethod
    async def open(cls, server: Server) -> Hostile:
        port = int(server.url.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(FLOOD_ADDRESS, 0), limit=256)
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        writer.write(
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 101"), head
        first = await asyncio.wait_for(reader.readexactly(1), 10)
        # A snapshot (a text frame) for a socket let in; a close frame for one refused.
        return cls(reader, writer, admitted=first == b"\x81")

    def send_half_a_message(self) -> None:
        """The first fragment of a text message (no FIN), masked as a client's must be."""
        mask = secrets.token_bytes(4)
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(b"x" * 1024)) * (HALF_A_FRAME // 1024)
        # 126: a 16-bit length follows (a longer form for a length that fits is a protocol error).
        header = bytes([0x01, 0x80 | 126]) + HALF_A_FRAME.to_bytes(2, "big") + mask
        self.writer.write(header + payload)

    def close(self) -> None:
        self.writer.transport.abort()


async def scorer_goal_reaches(server: Server, crowd: list[Viewer], match_id: str) -> float:
    """A scorer from 127.0.0.1 connects and scores; seconds until every viewer has the goal."""
    before = {id(v): v.board[match_id].version for v in crowd}
    started = time.monotonic()
    sam = await scorer(server, "sam")
    try:
        assert (await score(sam, match_id)).startswith("ok: ")
        await eventually(lambda: all(v.board[match_id].version > before[id(v)] for v in crowd))
    finally:
        await sam.close()
    return time.monotonic() - started


async def test_one_address_flooding_half_sent_messages_is_held_to_its_share_and_dropped_on_time(
    tmp_path: Path,
) -> None:
    server = await asyncio.to_thread(
        start_server,
        tmp_path,
        LIVESCORES_PING_TIMEOUT=str(PING_TIMEOUT),
        LIVESCORES_FRAGMENT_TIMEOUT=str(FRAGMENT_TIMEOUT),
        LIVESCORES_CLOCK_INTERVAL="3600",
    )
    flood: list[Hostile] = []
    try:
        async with viewers(server, 30, workers=1) as crowd:
            match_id = next(iter(crowd[0].board))
            rss_before = await asyncio.to_thread(rss_kib, server)
            flood_started = time.monotonic()
            for start in range(0, FLOOD, 50):
                flood += await asyncio.gather(*(Hostile.open(server) for _ in range(start, min(FLOOD, start + 50))))
            admitted = [h for h in flood if h.admitted]
            assert len(admitted) == PER_ADDRESS and len(flood) - len(admitted) == FLOOD - PER_ADDRESS
            for hostile in admitted[:PARTIAL]:
                hostile.send_half_a_message()
            flooded = time.monotonic()
            await asyncio.sleep(0.5)
            rss_full = await asyncio.to_thread(rss_kib, server)
            assert await asyncio.to_thread(open_sockets, server) == len(crowd) + PER_ADDRESS

            # While the flood holds its share: a scorer from another address connects and scores.
            reached = await scorer_goal_reaches(server, crowd, match_id)

            # Half-sent messages go after the fragment timeout; silent sockets after the ping's.
            partial_gone = silent_gone = None
            while silent_gone is None:
                now = await asyncio.to_thread(open_sockets, server)
                if partial_gone is None and now <= len(crowd) + PER_ADDRESS - PARTIAL:
                    partial_gone = time.monotonic() - flooded
                if now == len(crowd):
                    silent_gone = time.monotonic() - flood_started
                assert time.monotonic() - flooded < PING_TIMEOUT + 10, f"{now} sockets still open"
                await asyncio.sleep(0.1)
            assert partial_gone is not None
            assert FRAGMENT_TIMEOUT <= partial_gone <= FRAGMENT_TIMEOUT + 3, partial_gone
            # Each silent socket was last heard at its handshake, during the flood.
            assert PING_TIMEOUT <= silent_gone <= PING_TIMEOUT + (flooded - flood_started) + 3, silent_gone
            rss_after = await asyncio.to_thread(rss_kib, server)

            # Every viewer that answers its pings is still there, and gets the next goal too.
            assert all(viewer.closed is None for viewer in crowd)
            reached_after = await scorer_goal_reaches(server, crowd, match_id)
        log = server.log()
        assert len(re.findall(rf"socket: refused {FLOOD_ADDRESS}:\d+ \(address full,", log)) == FLOOD - PER_ADDRESS
    finally:
        for hostile in flood:
            hostile.close()
        await asyncio.to_thread(server.stop)
    growth = (rss_full - rss_before) / 1024
    assert growth * 1024 / PER_ADDRESS < MOST_KIB_PER_SOCKET, f"the flood grew the server by {growth:.1f} MiB"
    print(
        f"flood of {FLOOD} sockets from one address, limit {PER_ADDRESS}: {FLOOD - PER_ADDRESS} refused; "
        f"worker RSS {rss_before / 1024:.1f} MiB before, {rss_full / 1024:.1f} MiB with {PARTIAL} half-sent 32 KiB "
        f"messages held (+{growth:.1f} MiB), {rss_after / 1024:.1f} MiB after the drops; half-sent dropped "
        f"{partial_gone:.1f} s after (timeout {FRAGMENT_TIMEOUT} s), silent {silent_gone:.1f} s after the "
        f"flood began ({flooded - flood_started:.1f} s to open; timeout "
        f"{PING_TIMEOUT} s); a goal reached all {len(crowd)} viewers in {reached * 1000:.0f} ms during the "
        f"flood, {reached_after * 1000:.0f} ms after"
    )


async def test_with_the_viewers_cap_full_a_scorer_still_connects_and_scores(tmp_path: Path) -> None:
    cap = 150
    server = await asyncio.to_thread(
        start_server, tmp_path, LIVESCORES_MAX_SOCKETS=str(cap), LIVESCORES_CLOCK_INTERVAL="3600"
    )
    try:
        async with viewers(server, cap, workers=1) as crowd:
            assert len(crowd) == cap
            refused: list[int | None] = []
            for _ in range(10):
                ws = await connect(server.ws_url, open_timeout=10)
                try:
                    await asyncio.wait_for(ws.recv(), 5)
                except ConnectionClosed as closed:
                    refused.append(closed.rcvd.code if closed.rcvd else None)
            assert refused == [1013] * 10  # htmx retries these later
            reached = await scorer_goal_reaches(server, crowd, next(iter(crowd[0].board)))
    finally:
        await asyncio.to_thread(server.stop)
    print(f"viewers' cap of {cap} full, 10 more refused with 1013; the scorer's goal reached all in {reached:.2f} s")


# -- two workers, Redis, PostgreSQL ----------------------------------------------------------


def cli(env: dict[str, str], *argv: str) -> str:
    done = subprocess.run([LIVESCORES, *argv], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def accept_invitation(base_url: str, invitation: str) -> str:
    """Set the password through the invitation's form; the cookie a socket of that scorer sends."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    path = invitation.strip().rsplit(": ", 1)[1]
    with opener.open(base_url + path) as page:
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.read().decode())
    assert csrf
    form = urllib.parse.urlencode({"csrf": csrf.group(1), "password": PASSWORD}).encode()
    try:
        opener.open(base_url + path, data=form)
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 303, redirect.read()
    return "; ".join(f"{c.name}={c.value}" for c in jar if c.name == "livescores_scorer")


async def account_socket(server: Server, cookie: str) -> ClientConnection:
    ws = await connect(server.ws_url, additional_headers={"Cookie": cookie}, open_timeout=10)
    await asyncio.wait_for(ws.recv(), 5)
    return ws


async def one_per_worker(server: Server, name: str, cookie: str, match_id: str) -> dict[str, ClientConnection]:
    """Sockets of one account, scoring once each, until one sits on each of the two workers."""
    found: dict[str, ClientConnection] = {}
    for _ in range(30):
        ws = await account_socket(server, cookie)
        assert (await score(ws, match_id)).startswith("ok: ")
        pid = recorded_by(server, name)
        if pid in found:
            await ws.close()
        else:
            found[pid] = ws
        if len(found) == 2:
            break
    return found


async def ended(ws: ClientConnection, seconds: float) -> tuple[float, str | None, int | None]:
    """Wait for the socket's end: when (monotonic), the last feedback line, the close code."""
    note = None
    try:
        async with asyncio.timeout(seconds):
            async for message in ws:
                note = feedback(str(message)) or note
    except ConnectionClosed:
        pass
    return time.monotonic(), note, ws.close_code


async def test_revocation_reaches_the_other_worker_and_the_audit_names_concurrent_scorers(
    tmp_path: Path, postgres_url: str
) -> None:
    need_redis()
    channel = private_channel()
    env = {"DATABASE_URL": postgres_url, "REDIS_URL": REDIS_TEST_URL, "LIVESCORES_CHANNEL": channel}
    server = await asyncio.to_thread(start_server, tmp_path, "--workers", "2", LIVESCORES_CLOCK_INTERVAL="3600", **env)
    cli_env = server_env(tmp_path, **env)
    sockets: list[ClientConnection] = []
    try:
        await asyncio.to_thread(wait_for_workers, server, 2)
        kim = accept_invitation(server.url, await asyncio.to_thread(cli, cli_env, "scorers", "add", "Kim"))
        lee = accept_invitation(server.url, await asyncio.to_thread(cli, cli_env, "scorers", "add", "Lee"))
        async with viewers(server, 20) as crowd:
            first, second = list(crowd[0].board)[:2]
            kims = await one_per_worker(server, "Kim", kim, first)
            assert len(kims) == 2, "Kim's sockets all landed on one worker"
            lee_ws = await account_socket(server, lee)
            sockets += [*kims.values(), lee_ws]
            assert (await score(lee_ws, first)).startswith("ok: ")
            lee_pid = recorded_by(server, "Lee")
            kim_ws = next(ws for pid, ws in kims.items() if pid != lee_pid)

            # Two scorers at once, on two workers, on one match: each goal is theirs in the audit.
            async def goals(ws: ClientConnection) -> None:
                for _ in range(5):
                    assert (await score(ws, second)).startswith("ok: ")

            await asyncio.gather(goals(kim_ws), goals(lee_ws))
            audit = await asyncio.to_thread(cli, cli_env, "audit", "--match", second)
            lines = [line.split("\t") for line in audit.strip().splitlines()]
            goals_by = sorted(line[4] for line in lines if line[3] == "goal")
            assert goals_by == ["Kim"] * 5 + ["Lee"] * 5, audit
            assert all(line[5] == "127.0.0.1" for line in lines if line[3] == "goal"), audit

            # Revoked on the command line: Kim's sockets on both workers end within 2 s.
            version = crowd[0].board[first].version
            waits = [asyncio.create_task(ended(ws, 10)) for ws in kims.values()]
            started = time.monotonic()
            await asyncio.to_thread(cli, cli_env, "scorers", "revoke", "Kim")
            done = time.monotonic()
            ends = await asyncio.gather(*waits)
            for at, note, code in ends:
                assert at - done < 2, (at - started, done - started)
                assert code == 1013 and note is not None and "withdrawn" in note, ends
            await asyncio.sleep(0.5)
            assert crowd[0].board[first].version == version  # nothing recorded by Kim since
            assert (await score(lee_ws, first)).startswith("ok: ")  # Lee scores on
            # A new socket with Kim's cookie is a viewer's now.
            again = await account_socket(server, kim)
            sockets.append(again)
            refused = await score(again, first)
            assert "signed-in scorers" in refused, refused
    finally:
        for ws in sockets:
            await ws.close()
        await asyncio.to_thread(server.stop)
    last = max(at for at, _, _ in ends)
    print(
        f"`livescores scorers revoke` ran {(done - started) * 1000:.0f} ms; Kim's sockets on both workers had "
        f"ended {(last - started) * 1000:.0f} ms after it started"
    )


async def test_a_production_style_start_logs_no_secret(tmp_path: Path) -> None:
    token, key = secrets.token_urlsafe(24), secrets.token_hex(32)
    server = await asyncio.to_thread(
        start_server, tmp_path, LIVESCORES_SCORER_TOKEN=token, SECRET_KEY=key, LIVESCORES_TRUST_PROXY="1"
    )
    try:
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
        for guess in ("wrong", token):
            with opener.open(f"{server.url}/signin?token={guess}") as page:  # the one-click link's page
                csrf = re.search(r'name="csrf" value="([^"]+)"', page.read().decode())
            assert csrf
            form = urllib.parse.urlencode({"csrf": csrf.group(1), "token": guess, "name": "Sam"}).encode()
            with contextlib.suppress(urllib.error.HTTPError):  # 403 for the wrong one, 302 for the right one
                opener.open(server.url + "/signin", data=form)
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar if c.name == "livescores_scorer")
        assert cookie
        ws = await account_socket(server, cookie)
        match_id = (await asyncio.to_thread(api_matches, server))[0]["id"]
        assert (await score(ws, match_id)).startswith("ok: ")
        await ws.close()
    finally:
        await asyncio.to_thread(server.stop)
    log = server.log()
    assert "event: goal" in log and "Scorers sign in at /signin with the scorer token" in log
    assert token not in log and key not in log
    assert SCORER_TOKEN not in log
