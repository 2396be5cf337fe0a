"""Scorer accounts: invitation, sign-in by password, permissions, revocation at the next
command, the audit; the throttle's delays and the socket limits' rules."""

from __future__ import annotations

import asyncio

from quart import Quart
from quart.typing import TestClientProtocol as Client

from livescores.accounts import failure_delay
from livescores.services import Services
from livescores.socket_limits import SocketLimits

from .pages import feedback
from .support import close_code, csrf_from, goal, receive_until, socket

PASSWORD = "correct horse battery"


async def accept(client: Client, token: str, password: str = PASSWORD) -> int:
    page = await client.get(f"/invite/{token}")
    assert page.status_code == 200
    html = await page.get_data(as_text=True)
    assert 'name="password"' in html
    response = await client.post(f"/invite/{token}", form={"csrf": csrf_from(html), "password": password})
    return response.status_code


async def test_an_invited_scorer_scores_only_in_their_competition_and_is_audited(
    client: Client, live: Services
) -> None:
    match, other = live.hub.matches[0], live.hub.matches[1]
    slug = match.competition_slug
    assert slug is not None
    _, token = await live.store.add_scorer("Robin", competitions=(slug,))
    assert await accept(client, token) == 303
    assert (await client.get(f"/invite/{token}")).status_code == 404
    live.scoreboard.accounts.replace_all(await live.store.accounts_since())
    async with socket(client, f"/ws?competition={slug}") as ws:
        await ws.receive()
        await goal(ws, match.id)
        answer = await receive_until(ws, lambda m: feedback(m) is not None)
        assert str(feedback(answer)).startswith("ok: Recorded goal")
    if other.competition_slug != slug:
        async with socket(client, f"/ws?match={other.id}") as ws:
            await ws.receive()
            before = other.version
            await goal(ws, other.id)
            answer = await receive_until(ws, lambda m: feedback(m) is not None)
            assert "You score only in" in str(feedback(answer))
            assert live.hub.rows[other.id].match.version == before
    lines = [line async for line in live.store.audit(match_id=match.id)]
    assert lines[-1].kind == "goal" and lines[-1].account == "Robin" and lines[-1].client_address


async def test_a_revoked_scorer_is_refused_at_the_next_command(client: Client, live: Services) -> None:
    match = live.hub.matches[0]
    _, token = await live.store.add_scorer("Kim")
    assert await accept(client, token) == 303
    live.scoreboard.accounts.replace_all(await live.store.accounts_since())
    async with socket(client) as ws:
        await ws.receive()
        revoked = await live.store.revoke_scorer("Kim")
        await live.scoreboard.account_ended(revoked)
        version = live.hub.rows[match.id].match.version
        assert await close_code(ws) == 1013  # htmx reconnects, as a viewer
    assert live.hub.rows[match.id].match.version == version


async def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(client: Client, live: Services) -> None:
    _, token = await live.store.add_scorer("Ann")
    assert await live.store.accept_invitation(token, PASSWORD) is not None
    answers = []
    for name in ("Ann", "Nobody"):
        page = await client.get("/signin")
        csrf = csrf_from(await page.get_data(as_text=True))
        response = await client.post("/signin", form={"csrf": csrf, "name": name, "password": "wrong password!"})
        body = await response.get_data(as_text=True)
        answers.append((response.status_code, "do not match" in body))
        assert "do not match" in body, body[body.find('role="alert"') :][:200]
    assert answers == [(403, True), (403, True)]


def test_delays_grow_and_stop_at_their_cap() -> None:
    assert [failure_delay(n, 60) for n in range(3)] == [0, 0, 0]
    assert [failure_delay(n, 60) for n in range(3, 7)] == [1, 2, 4, 8]
    assert failure_delay(100, 60) == 60 and failure_delay(100, 5) == 5


def test_scorers_have_room_when_viewers_and_one_address_are_full() -> None:
    limits = SocketLimits(viewers=3, scorers=1, per_address=2)
    assert limits.admit("viewer", "a") is None and limits.admit("viewer", "a") is None
    assert limits.admit("viewer", "a") == "address full"
    assert limits.admit("viewer", "b") is None
    assert limits.admit("viewer", "c") == "full"
    assert limits.admit("scorer", "a") is None
    assert limits.admit("scorer", "d") == "scorers full"
    limits.release("viewer", "a")
    assert limits.admit("viewer", "c") is None


async def test_only_admins_see_who_recorded_each_entry(app: Quart, client: Client, live: Services) -> None:
    match = live.hub.matches[0]
    _, token = await live.store.add_scorer("Robin")
    assert await accept(client, token) == 303
    live.scoreboard.accounts.replace_all(await live.store.accounts_since())
    async with socket(client, f"/ws?match={match.id}") as ws:
        await ws.receive()
        await goal(ws, match.id)
        assert str(feedback(await receive_until(ws, lambda m: feedback(m) is not None))).startswith("ok:")
    # A scorer who is not an admin sees the timeline, not who recorded it.
    page = await (await client.get(f"/matches/{match.id}")).get_data(as_text=True)
    assert 'class="timeline"' in page and "recorded-by" not in page
    _, admin_token = await live.store.add_scorer("Editor", admin=True)
    admin = app.test_client()
    assert await accept(admin, admin_token) == 303
    live.scoreboard.accounts.replace_all(await live.store.accounts_since())
    page = await (await admin.get(f"/matches/{match.id}")).get_data(as_text=True)
    recorded = page[page.index('id="audit-') :]
    assert '<td class="recorded-by"><bdi>Robin</bdi></td>' in recorded
    viewer = await (await app.test_client().get(f"/matches/{match.id}")).get_data(as_text=True)
    assert "recorded-by" not in viewer and "Robin" not in viewer
    api = await (await app.test_client().get(f"/api/matches/{match.id}")).get_data(as_text=True)
    assert "Robin" not in api and "account" not in api and "client_address" not in api


async def test_a_hundred_guesses_slow_their_address_and_leave_the_scorer_able_to_sign_in(
    app: Quart, live: Services
) -> None:
    _, token = await live.store.add_scorer("Ann")
    assert await live.store.accept_invitation(token, PASSWORD) is not None

    async def attempt(client: Client, address: str, password: str) -> tuple[int, int]:
        where = {"client": (address, 40000)}
        page = await client.get("/signin", scope_base=where)
        csrf = csrf_from(await page.get_data(as_text=True))
        form = {"csrf": csrf, "name": "Ann", "password": password}
        response = await client.post("/signin", form=form, scope_base=where)
        return response.status_code, int(response.headers.get("Retry-After", 0))

    stranger = app.test_client()
    answers = [await attempt(stranger, "198.51.100.7", f"guess number {n}") for n in range(100)]
    checked = sum(status == 403 for status, _ in answers)
    assert 3 <= checked <= 8, answers  # the rest waited, unchecked: a few guesses, not a hundred
    assert answers[-1][0] == 429
    # Even the right password waits at the guessing address.
    assert (await attempt(stranger, "198.51.100.7", PASSWORD))[0] == 429

    # The scorer at another address waits at most the account's few seconds, then signs in.
    scorer = app.test_client()
    status, wait = await attempt(scorer, "203.0.113.5", PASSWORD)
    if status == 429:
        assert wait <= 5
        await asyncio.sleep(wait + 0.1)
        status, wait = await attempt(scorer, "203.0.113.5", PASSWORD)
    assert status == 302, (status, wait)
