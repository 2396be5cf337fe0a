"""Following teams without an account: the cookie, the stars, and the day's board ordered by it."""

import re
from datetime import UTC, datetime

from quart.typing import TestClientProtocol as Client

from livescores.follows import COOKIE, MAX_TEAMS, followed_in
from livescores.matches import Match
from livescores.pages import TODAY
from livescores.services import Services

SAME_SITE = {"Sec-Fetch-Site": "same-origin"}


def test_the_cookie_keeps_only_valid_distinct_slugs() -> None:
    assert followed_in("arsenal.chelsea.arsenal") == ("arsenal", "chelsea")
    assert followed_in("Arsenal.<script>.-x.ok-team..") == ("ok-team",)
    assert followed_in(None) == ()
    assert len(followed_in(".".join(f"team-{n}" for n in range(100)))) == MAX_TEAMS


async def board_order(client: Client) -> list[str]:
    html = await (await client.get("/")).get_data(as_text=True)
    return re.findall(r'id="match-([^"]+)"', html.split('id="board"', 1)[1])


async def test_following_a_team_puts_its_match_first_and_survives_a_new_client(client: Client, live: Services) -> None:
    order = await board_order(client)
    assert len(order) > 2
    last = next(m for m in await live.scoreboard.window.page_matches(TODAY) if m.id == order[-1])
    slug = last.away_slug
    assert slug is not None
    before = await (await client.get(f"/teams/{slug}")).get_data(as_text=True)
    assert 'aria-pressed="false"' in before and "pauseOnBackground" not in before

    response = await client.post(
        "/follow", form={"team": slug, "follow": "1", "next": f"/teams/{slug}"}, headers=SAME_SITE
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/teams/{slug}"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}={slug};") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Max-Age=34560000" in cookie

    order_now = await board_order(client)
    assert order_now[0] == last.id
    assert sorted(order_now) == sorted(order)  # moved, not repeated: a row's id stays unique
    page = await (await client.get("/")).get_data(as_text=True)
    assert 'class="group mine"' in page and "My teams" in page
    assert f'data-followed="{slug}"' in page
    assert """hx-config='{"ws": {"pauseOnBackground": false}}'""" in page
    after = await (await client.get(f"/teams/{slug}")).get_data(as_text=True)
    assert 'aria-pressed="true"' in after
    mine = await (await client.get("/my-teams")).get_data(as_text=True)
    assert f'href="/teams/{slug}"' in mine

    await client.post("/follow", form={"team": slug, "follow": "0", "next": "/"}, headers=SAME_SITE)
    assert await board_order(client) == order


async def test_refused_follows_change_nothing_and_say_why(client: Client, live: Services) -> None:
    [match] = await live.store.add_fixtures([("f1", Match("follow1", "Leeds Town", "Everton", datetime.now(UTC)))])
    await live.scoreboard.window.refresh_catalogue()
    slug = match.home_slug
    cases = [
        ({"team": slug, "follow": "1"}, {}, 403, "did not come from this site"),
        ({"team": slug, "follow": "1"}, {"Sec-Fetch-Site": "cross-site"}, 403, "did not come from this site"),
        ({"team": "no-such-team", "follow": "1"}, SAME_SITE, 404, "no such team"),
        ({"team": "../x", "follow": "1"}, SAME_SITE, 404, "no such team"),
        ({"team": slug, "follow": "maybe"}, SAME_SITE, 400, "follow (1) or unfollow (0)"),
    ]
    for form, headers, status, reason in cases:
        response = await client.post("/follow", form=form, headers=headers)
        assert response.status_code == status, form
        assert reason in await response.get_data(as_text=True)
        assert "Set-Cookie" not in response.headers
    away = await client.post(
        "/follow", form={"team": slug, "follow": "1", "next": "//evil.example/"}, headers=SAME_SITE
    )
    assert away.headers["Location"] == "/my-teams"
