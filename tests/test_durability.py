"""Nothing acknowledged is lost: restart the real server, or kill it outright."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from websockets.sync.client import connect

from .pages import feedback, rows
from .servers import scorer_cookie, start_server

pytestmark = pytest.mark.slow


def board(url: str) -> dict[str, tuple[int, int]]:
    with urllib.request.urlopen(url) as response:
        html = response.read().decode()
    return {match_id: (row.home_score, row.away_score) for match_id, row in rows(html).items()}


def test_a_goal_acknowledged_just_before_sigkill_is_there_after_restart(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        before = board(server.url)
        match_id = next(iter(before))
        cookie = scorer_cookie(server.url)
        with connect(server.ws_url, additional_headers={"Cookie": cookie, "Origin": server.url}) as ws:
            ws.recv(timeout=5)
            for _ in range(5):
                ws.send(json.dumps({"action": "goal", "match": match_id, "side": "away"}))
                while not str(feedback(str(ws.recv(timeout=5)))).startswith("ok: "):
                    pass
            server.kill()  # the instant the fifth acknowledgement arrived
    finally:
        server.stop()
    restarted = start_server(tmp_path)
    try:
        after = board(restarted.url)
    finally:
        restarted.stop()
    assert after[match_id] == (before[match_id][0], before[match_id][1] + 5)
    assert set(after) == set(before)


def test_empty_and_binary_frames_on_a_real_server_get_an_answer(tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        cookie = scorer_cookie(server.url)
        with connect(server.ws_url, additional_headers={"Cookie": cookie, "Origin": server.url}) as ws:
            # The client offered permessage-deflate, as browsers do, and sends compressed: the
            # app accepts it without context takeover on its side.
            assert ws.request is not None and "permessage-deflate" in str(ws.request.headers)
            assert ws.response is not None
            assert ws.response.headers["Sec-WebSocket-Extensions"] == "permessage-deflate; server_no_context_takeover"
            ws.recv(timeout=5)
            for frame in (b"", "", b"\x00\xff", b'{"action": "goal"}'):
                ws.send(frame)
                assert str(feedback(str(ws.recv(timeout=5)))).startswith("error: ")
            match_id = next(iter(board(server.url)))
            ws.send(json.dumps({"action": "goal", "match": match_id, "side": "home"}))
            while not str(feedback(str(ws.recv(timeout=5)))).startswith("ok: "):
                pass
    finally:
        server.stop()
