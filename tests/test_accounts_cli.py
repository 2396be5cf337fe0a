"""`livescores scorers add|list|revoke|reset` and `livescores audit` against the database a
running app uses: what they print, what they refuse, and a revocation reaching an open socket."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from quart.typing import TestClientProtocol as Client

from livescores.cli import main
from livescores.services import Services

from .pages import feedback
from .support import close_code, goal, receive_until, socket
from .test_accounts import accept

INVITATION = re.compile(r"^(?P<name>.+): invitation \(valid 24 hours, once\): (?P<url>\S+)$")


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in ("REDIS_URL", "LIVESCORES_PUBLIC_URL", "WEB_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


async def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_add_list_reset_revoke(
    cli_database: str, live: Services, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    slug = live.hub.matches[0].competition_slug
    assert slug is not None
    code, out, _ = await run(capsys, "scorers", "add", "Robin Hood", "--competition", slug)
    assert code == 0
    found = INVITATION.match(out.strip())
    assert found and found["name"] == "Robin Hood" and found["url"].startswith("/invite/"), out
    assert await live.store.invitation(found["url"].removeprefix("/invite/")) is not None

    monkeypatch.setenv("LIVESCORES_PUBLIC_URL", "https://scores.example.org/")
    code, out, _ = await run(capsys, "scorers", "add", "Editor", "--admin")
    assert code == 0 and "https://scores.example.org/invite/" in out

    # Refused, and nothing changes: a taken name, an unknown competition, a bad name.
    for argv, reason in (
        (("scorers", "add", "robin hood"), "already a scorer named"),
        (("scorers", "add", "Kim", "--competition", "no-such-league"), "no competition"),
        (("scorers", "add", "\x1b[31mred"), "scorer name"),
        (("scorers", "revoke", "Nobody"), "no scorer named"),
    ):
        code, out, err = await run(capsys, *argv)
        assert code == 1 and reason in err and not out, (argv, err)

    code, out, _ = await run(capsys, "scorers", "list")
    lines = out.strip().splitlines()
    assert [line.split("\t")[:4] for line in lines] == [
        ["Editor", "admin", "all competitions", "invited"],
        ["Robin Hood", "scorer", slug, "invited"],
    ]

    first = found["url"].removeprefix("/invite/")
    code, out, _ = await run(capsys, "scorers", "reset", "Robin Hood")
    again = INVITATION.match(out.strip())
    assert code == 0 and again and again["url"] != found["url"]
    assert await live.store.invitation(first) is None  # the old invitation is withdrawn

    code, out, _ = await run(capsys, "scorers", "revoke", "Robin Hood")
    assert code == 0 and out.startswith("Robin Hood: revoked")
    assert await live.store.invitation(again["url"].rsplit("/", 1)[-1]) is None
    code, out, _ = await run(capsys, "scorers", "list")
    assert "Robin Hood\tscorer\t" in out and "\trevoked\t" in out


async def test_a_revocation_from_the_command_line_ends_an_open_socket(
    cli_database: str, client: Client, live: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    match = live.hub.matches[0]
    code, out, _ = await run(capsys, "scorers", "add", "Kim")
    token = out.strip().rsplit("/", 1)[-1]
    assert code == 0 and await accept(client, token) == 303
    live.scoreboard.accounts.replace_all(await live.store.accounts_since())
    async with socket(client, f"/ws?match={match.id}") as ws:
        await ws.receive()
        await goal(ws, match.id)
        assert str(feedback(await receive_until(ws, lambda m: feedback(m) is not None))).startswith("ok:")
        version = live.hub.rows[match.id].match.version
        code, _, _ = await run(capsys, "scorers", "revoke", "Kim")
        revoked = time.monotonic()
        assert code == 0
        # No shared bus here: the worker's once-a-second read of the accounts brings it.
        assert await asyncio.wait_for(close_code(ws), 3) == 1013
        assert time.monotonic() - revoked < 2.5
    assert live.hub.rows[match.id].match.version == version


async def test_audit_lines_and_filters(
    cli_database: str, client: Client, live: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    match, other = live.hub.matches[0], live.hub.matches[1]
    _, token = await live.store.add_scorer("Ann")
    assert await accept(client, token) == 303
    live.scoreboard.accounts.replace_all(await live.store.accounts_since())
    async with socket(client, f"/ws?match={match.id}") as ws:
        await ws.receive()
        for action in ({}, {"action": "undo"}):
            await goal(ws, match.id, **action)
            answer = str(feedback(await receive_until(ws, lambda m: feedback(m) is not None)))
            assert answer.startswith("ok:"), answer
    code, out, _ = await run(capsys, "audit", "--match", match.id, "--scorer", "ann")
    lines = [line.split("\t") for line in out.strip().splitlines()]
    assert code == 0 and [line[3:5] for line in lines] == [["goal", "Ann"], ["undo", "Ann"]], out
    assert all(line[1] == match.id and len(line) == 6 for line in lines)  # the address last
    code, out, _ = await run(capsys, "audit", "--match", other.id, "--scorer", "Ann")
    assert code == 0 and out == ""
    code, out, _ = await run(capsys, "audit", "--since", "2999-01-01T00:00+00:00")
    assert code == 0 and out == ""
    for since in ("yesterday", "2026-05-01T12:00"):
        code, out, err = await run(capsys, "audit", "--since", since)
        assert code == 2 and not out and ("--since" in err or "ISO" in err), err
