"""Viewing is open, scoring is earned: sign-in, sessions, CSRF, throttling and origins."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from dataclasses import replace

from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from quart import Quart
from quart.typing import TestClientProtocol as Client

from livescores import create_app
from livescores.auth import scorer_from_cookies, session_id
from livescores.config import Config
from livescores.services import Services

from .pages import feedback, rows
from .support import ORIGIN, SCORER_TOKEN, close_code, csrf_from, goal, receive_until, sign_in, socket


async def versions(live: Services) -> list[int]:
    return [match.version for match in await live.store.all_matches()]


async def test_viewers_see_plain_team_names_and_scorers_see_buttons(client: Client, scorer_client: Client) -> None:
    viewer_html = await (await client.get("/")).get_data(as_text=True)
    scorer_html = await (await scorer_client.get("/")).get_data(as_text=True)
    assert "hx-ws:send" not in viewer_html and "<button" not in viewer_html.split('id="board"')[1]
    assert scorer_html.count("hx-ws:send") == 20
    assert "Scoring as <strong>Sam</strong>" in scorer_html


async def test_a_viewer_socket_cannot_score_whatever_it_sends(client: Client, live: Services) -> None:
    before = await versions(live)
    match = live.hub.matches[0]
    async with socket(client) as viewer:
        await viewer.receive()
        await goal(viewer, match.id)
        answer = await viewer.receive()
        assert "Only signed-in scorers" in str(feedback(str(answer)))
        await viewer.send(json.dumps({"action": "undo", "match": match.id}))
        assert "Only signed-in scorers" in str(feedback(str(await viewer.receive())))
    assert await versions(live) == before


async def test_signing_in_sets_a_safe_cookie_and_signing_out_removes_it(client: Client) -> None:
    page = await client.get("/signin")
    csrf = csrf_from(await page.get_data(as_text=True))
    assert "HttpOnly" in page.headers["Set-Cookie"] and "SameSite=Strict" in page.headers["Set-Cookie"]
    response = await client.post("/signin", form={"csrf": csrf, "token": SCORER_TOKEN, "name": "Kim"})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("livescores_scorer=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Scoring as <strong>Kim</strong>" in await (await client.get("/")).get_data(as_text=True)
    signed_out = await client.post("/signout", headers={"Sec-Fetch-Site": "same-origin"})
    assert signed_out.status_code == 302
    assert "hx-ws:send" not in await (await client.get("/")).get_data(as_text=True)


async def test_the_cookie_is_secure_under_https(client: Client) -> None:
    page = await client.get("/signin", scheme="https")
    csrf = csrf_from(await page.get_data(as_text=True))
    response = await client.post(
        "/signin", form={"csrf": csrf, "token": SCORER_TOKEN}, scheme="https", headers={"Cookie": _csrf_cookie(page)}
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def _csrf_cookie(page: object) -> str:
    header: str = page.headers["Set-Cookie"]  # type: ignore[attr-defined]
    return header.split(";")[0]


async def test_wrong_tokens_are_refused_then_delayed_not_locked(client: Client) -> None:
    for attempt in range(3):  # a few mistakes cost nothing
        page = await client.get("/signin")
        csrf = csrf_from(await page.get_data(as_text=True))
        response = await client.post("/signin", form={"csrf": csrf, "token": f"guess-{attempt}"})
        assert response.status_code == 403
        assert "That token is not right." in await response.get_data(as_text=True)
    page = await client.get("/signin")
    csrf = csrf_from(await page.get_data(as_text=True))
    # The next guess waits a second: even the right token is held back until then.
    response = await client.post("/signin", form={"csrf": csrf, "token": SCORER_TOKEN})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) == 1
    html = await response.get_data(as_text=True)
    assert "Too many wrong attempts" in html
    csrf = csrf_from(html)
    assert "hx-ws:send" not in await (await client.get("/")).get_data(as_text=True)
    await asyncio.sleep(1.1)  # a delay, not a lock: after it the right token signs in
    response = await client.post("/signin", form={"csrf": csrf, "token": SCORER_TOKEN})
    assert response.status_code == 302
    assert "hx-ws:send" in await (await client.get("/")).get_data(as_text=True)


async def test_sign_in_without_the_csrf_token_is_refused(client: Client) -> None:
    await client.get("/signin")
    for form in ({"token": SCORER_TOKEN}, {"token": SCORER_TOKEN, "csrf": "forged"}):
        response = await client.post("/signin", form=form)
        assert response.status_code == 400
        assert "did not come from this site" in await response.get_data(as_text=True)
    assert "hx-ws:send" not in await (await client.get("/")).get_data(as_text=True)


async def test_the_one_click_link_shows_a_button_and_signs_in_only_by_post(client: Client) -> None:
    link = await client.get(f"/signin?token={SCORER_TOKEN}")
    assert link.status_code == 200
    assert "hx-ws:send" not in await (await client.get("/")).get_data(as_text=True)  # a GET signs nobody in
    html = await link.get_data(as_text=True)
    assert f'name="token" value="{SCORER_TOKEN}"' in html
    response = await client.post("/signin", form={"csrf": csrf_from(html), "token": SCORER_TOKEN})
    assert response.status_code == 302
    assert "hx-ws:send" in await (await client.get("/")).get_data(as_text=True)


async def test_cross_site_gets_of_wrong_links_count_for_nothing(client: Client) -> None:
    # What five <img src=".../signin?token=wrong"> on another site make a browser send.
    for attempt in range(5):
        assert (await client.get(f"/signin?token=wrong-{attempt}")).status_code == 200
    page = await client.get("/signin")
    csrf = csrf_from(await page.get_data(as_text=True))
    response = await client.post("/signin", form={"csrf": csrf, "token": SCORER_TOKEN})
    assert response.status_code == 302


async def test_a_csrf_value_that_is_not_ascii_is_refused_not_an_error(client: Client) -> None:
    await client.get("/signin")
    response = await client.post("/signin", form={"csrf": "é✓", "token": SCORER_TOKEN})
    assert response.status_code == 400
    assert "hx-ws:send" not in await (await client.get("/")).get_data(as_text=True)


async def test_signing_out_needs_a_post_from_this_site(client: Client) -> None:
    await sign_in(client)
    # A browser without Sec-Fetch-Site still sends Origin: a foreign one leaves the scorer in.
    for foreign in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {}):
        assert (await client.post("/signout", headers=foreign)).status_code == 302
        assert "hx-ws:send" in await (await client.get("/")).get_data(as_text=True), foreign
    assert (await client.post("/signout", headers={"Origin": ORIGIN})).status_code == 302
    assert "hx-ws:send" not in await (await client.get("/")).get_data(as_text=True)


async def test_a_forged_session_cookie_is_a_viewer(client: Client, live: Services) -> None:
    before = await versions(live)
    client.set_cookie("localhost", "livescores_scorer", "Sam.forged.signature")  # type: ignore[attr-defined]
    assert "hx-ws:send" not in await (await client.get("/")).get_data(as_text=True)
    async with socket(client) as ws:
        await ws.receive()
        await goal(ws, live.hub.matches[0].id)
        assert "Only signed-in scorers" in str(feedback(str(await ws.receive())))
    assert await versions(live) == before


async def test_foreign_and_null_origins_are_refused_before_the_handshake(scorer_client: Client) -> None:
    for origin in ("http://evil.example", "null", "http://localhost.evil.example", "https://localhost"):
        async with scorer_client.websocket("/ws", headers={"Origin": origin}) as ws:
            assert await close_code(ws) == 403, origin  # type: ignore[arg-type]


async def test_a_missing_origin_is_let_in_as_what_its_cookie_says(client: Client, scorer_client: Client) -> None:
    async with client.websocket("/ws") as ws:
        assert len(rows(str(await ws.receive()))) == 10
    async with scorer_client.websocket("/ws") as ws:
        snapshot = str(await ws.receive())
        assert "hx-ws:send" in snapshot


async def test_allowed_origins_and_trusted_proxy_headers(config: Config) -> None:
    allowed = create_app(
        Config(**{**config.__dict__, "allowed_origins": ("https://club.example",), "trust_proxy_headers": True})
    )
    async with allowed.test_app():
        client = allowed.test_client()
        async with client.websocket("/ws", headers={"Origin": "https://club.example"}) as ws:
            assert len(rows(str(await ws.receive()))) == 10
        proxied = {"Origin": "https://scores.example", "X-Forwarded-Proto": "https"}
        proxied["X-Forwarded-Host"] = "scores.example"
        async with client.websocket("/ws", headers=proxied) as ws:
            assert len(rows(str(await ws.receive()))) == 10
        async with client.websocket("/ws", headers={"Origin": "https://scores.example"}) as ws:
            assert await close_code(ws) == 403  # type: ignore[arg-type]


async def test_every_event_records_who_scored_it_and_when(app: Quart, live: Services) -> None:
    client = app.test_client()
    await sign_in(client, name="Robin")
    match = live.hub.matches[1]
    async with socket(client) as ws:
        await ws.receive()
        await goal(ws, match.id)
        await receive_until(ws, lambda m: "ok" in str(feedback(m)))
    from sqlalchemy import select

    from livescores.store import events_table

    async with live.store.engine.connect() as conn:
        row = (
            await conn.execute(
                select(events_table).where(events_table.c.match_id == match.id).order_by(events_table.c.version.desc())
            )
        ).first()
    assert row is not None
    assert row.kind == "goal" and row.recorded_by == "Robin" and row.recorded_at is not None


async def test_pages_carry_security_headers(client: Client) -> None:
    response = await client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_the_token_and_secret_are_generated_once_and_shared(config: Config) -> None:
    generated = Config(**{**config.__dict__, "scorer_token": None, "secret_key": None})
    tokens = []
    for _ in range(2):
        app = create_app(generated)
        async with app.test_app():
            found: Services = app.extensions["livescores"]
            tokens.append((found.scorer_token, app.secret_key))
    assert tokens[0] == tokens[1]
    assert len(tokens[0][0]) >= 32 and len(str(tokens[0][1])) >= 64
    assert ORIGIN


def quart_auth_token(app: Quart, name: str, secret: str | None = None, days_ago: float = 0) -> str:
    """A session cookie's value made as Quart-Auth makes it (itsdangerous, SHA-512, its salt),
    signed `days_ago` days back, with the app's secret key or another one."""
    signed_at = int(time.time() - days_ago * 24 * 3600)

    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return signed_at

    serializer = URLSafeTimedSerializer(
        secret or str(app.secret_key), "quart auth salt", signer=Then, signer_kwargs={"digest_method": hashlib.sha512}
    )
    return serializer.dumps(name)


async def test_the_socket_takes_the_scorer_from_the_signed_cookie_alone(app: Quart, client: Client) -> None:
    await sign_in(client, name="Kim")
    jar = client.cookie_jar  # type: ignore[attr-defined]
    genuine = next(cookie.value for cookie in jar if cookie.name == "livescores_scorer")
    payload, timestamp, signature = genuine.rsplit(".", 2)
    forged_name = base64.urlsafe_b64encode(json.dumps("Eve").encode()).decode().rstrip("=")
    middle = len(signature) // 2  # (the last character carries padding bits, which decoding drops)
    flipped = signature[:middle] + ("A" if signature[middle] != "A" else "B") + signature[middle + 1 :]
    assert getattr(scorer_from_cookies(app, f"theme=dark; livescores_scorer={genuine}"), "name", None) == "Kim"
    recent = quart_auth_token(app, session_id(app, "Ann"), days_ago=13)
    assert getattr(scorer_from_cookies(app, f"livescores_scorer={recent}"), "name", None) == "Ann"
    for refused in (
        f"{payload}.{timestamp}.{flipped}",  # tampered signature
        f"{forged_name}.{timestamp}.{signature}",  # another name under the genuine signature
        quart_auth_token(app, session_id(app, "Ann"), secret="another-secret-key"),  # signed by someone else
        quart_auth_token(app, session_id(app, "Ann"), days_ago=15),  # older than the 14 days a session lasts
        quart_auth_token(app, "Ann"),  # a name without the mark of the current token
        quart_auth_token(app, "Ann|0123456789abcdef"),  # with the mark of another token
        "",
    ):
        assert scorer_from_cookies(app, f"livescores_scorer={refused}") is None, refused
    assert scorer_from_cookies(app, None) is None and scorer_from_cookies(app, "theme=dark") is None


async def test_an_expired_session_cookie_is_a_viewer_on_the_socket(app: Quart, client: Client, live: Services) -> None:
    before = await versions(live)
    expired = quart_auth_token(app, session_id(app, "Sam"), days_ago=15)
    async with client.websocket("/ws", headers={"Origin": ORIGIN, "Cookie": f"livescores_scorer={expired}"}) as ws:
        assert "hx-ws:send" not in str(await ws.receive())
        await goal(ws, live.hub.matches[0].id)  # type: ignore[arg-type]
        assert "Only signed-in scorers" in str(feedback(str(await ws.receive())))
    fresh = quart_auth_token(app, session_id(app, "Sam"), days_ago=1)
    async with client.websocket("/ws", headers={"Origin": ORIGIN, "Cookie": f"livescores_scorer={fresh}"}) as ws:
        assert "hx-ws:send" in str(await ws.receive())
    assert await versions(live) == before


async def test_changing_the_scorer_token_signs_every_scorer_out(config: Config) -> None:
    before = create_app(config)
    async with before.test_app():
        client = before.test_client()
        await sign_in(client, name="Kim")
        cookie = next(c.value for c in client.cookie_jar if c.name == "livescores_scorer")  # type: ignore[attr-defined]
        assert getattr(scorer_from_cookies(before, f"livescores_scorer={cookie}"), "name", None) == "Kim"
    # The token leaked and was changed; the secret key, which signs the cookies, was not.
    after = create_app(replace(config, scorer_token="a-new-token"))
    async with after.test_app():
        assert scorer_from_cookies(after, f"livescores_scorer={cookie}") is None
        client = after.test_client()
        page = await client.get("/", headers={"Cookie": f"livescores_scorer={cookie}"})
        assert "hx-ws:send" not in await page.get_data(as_text=True)
        headers = {"Origin": ORIGIN, "Cookie": f"livescores_scorer={cookie}"}
        async with client.websocket("/ws", headers=headers) as ws:
            assert "hx-ws:send" not in str(await ws.receive())
        await sign_in(client, name="Kim", token="a-new-token")
        assert "Scoring as <strong>Kim</strong>" in await (await client.get("/")).get_data(as_text=True)
