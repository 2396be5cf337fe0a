"""Link previews: the match page's title and meta tags say the live score, and the card image
is a 1200x630 PNG carrying the same words."""

import io
import re
from datetime import UTC, datetime, timedelta
from html import unescape

from PIL import Image
from quart.typing import TestClientProtocol as Client

from livescores.matches import Event, Match
from livescores.services import Services
from livescores.share import share_of


def meta(html: str, key: str) -> str:
    found = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)">', html)
    assert found, f"no {key}"
    return unescape(found.group(1))


async def kicked_off(live: Services, match_id: str, home: str, away: str) -> Match:
    [match] = await live.store.add_fixtures([(match_id, Match(match_id, home, away, datetime.now(UTC)))])
    match, _ = await live.store.record(
        match_id, Event("kick_off", datetime.now(UTC) - timedelta(minutes=37, seconds=5))
    )
    for side in ("home", "away", "away"):
        match, _ = await live.store.record(match_id, Event("goal", datetime.now(UTC), side=side))  # type: ignore[arg-type]
    live.hub.load(await live.store.all_matches())
    return match


async def test_a_shared_match_says_its_live_score(client: Client, live: Services) -> None:
    match = await kicked_off(live, "sharetest", "Argentina", "France")
    html = await (await client.get("/matches/sharetest")).get_data(as_text=True)
    title = unescape(re.search(r"<title>(.*?)</title>", html).group(1))  # type: ignore[union-attr]
    assert title == "Argentina 1–2 France · 38' · Live scores"
    assert meta(html, "og:title") == meta(html, "twitter:title") == "Argentina 1–2 France · 38'"
    assert "Live, 38'" in meta(html, "description") == meta(html, "og:description")
    assert meta(html, "twitter:card") == "summary_large_image"
    image_url = meta(html, "og:image")
    assert image_url == meta(html, "twitter:image")
    assert image_url.startswith("http") and image_url.endswith(f"/matches/sharetest/card.png?v={match.version}")

    response = await client.get(image_url.split("localhost", 1)[-1])
    assert response.status_code == 200
    assert response.content_type == "image/png"
    card = Image.open(io.BytesIO(await response.get_data()))
    assert card.format == "PNG" and card.size == (1200, 630)
    card.load()
    assert card.text["Title"] == meta(html, "og:title")  # type: ignore[attr-defined]
    assert card.text["Score"] == "1–2" and card.text["Clock"] == "38'"  # type: ignore[attr-defined]
    assert card.text["Teams"] == "Argentina\nFrance"  # type: ignore[attr-defined]
    assert len({card.getpixel((x, 240)) for x in range(0, 1200, 7)}) > 3  # drawn, not blank

    etag = response.headers["ETag"]
    again = await client.get(image_url.split("localhost", 1)[-1], headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert (await client.get("/matches/nosuchmatch/card.png")).status_code == 404
    assert (await client.get("/matches/not%20an%20id/card.png")).status_code == 404


async def test_titles_for_a_finished_and_an_unplayed_match() -> None:
    kickoff = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)
    unplayed = share_of(Match("a", "Arsenal", "Chelsea", kickoff, "Premier League"))
    assert unplayed.title == "Arsenal v Chelsea"
    assert "Kick-off Fri 18 Dec 2026, 15:00 UTC" in unplayed.description
    finished = share_of(Match("b", "Argentina", "France", kickoff, status="full_time", home_score=3, away_score=3))
    assert finished.title == "Argentina 3–3 France · FT"


async def test_every_page_has_a_meta_description(client: Client) -> None:
    for path in ("/", "/competitions", "/signin", "/day/2014-01-01"):
        html = await (await client.get(path)).get_data(as_text=True)
        assert len(meta(html, "description")) > 40, path
