"""English and Spanish: chosen from Accept-Language or the switch's cookie; pages, dates and the
screen-reader sentences in the fan's language; English stays the default."""

from __future__ import annotations

import re

from quart.typing import TestClientProtocol as Client

from livescores.i18n import COOKIE, chosen_language
from livescores.services import Services

from .support import goal, receive_until, socket

SPANISH = {"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"}


def test_the_language_is_the_cookie_s_else_the_best_accepted_else_english() -> None:
    assert chosen_language(None, "es-ES,es;q=0.9,en;q=0.8") == "es"
    assert chosen_language(None, "de-DE, en;q=0.5, es;q=0.7") == "es"
    assert chosen_language(None, "de, fr") == "en"
    assert chosen_language(None, "es;q=nonsense, en") == "en"
    assert chosen_language("es", "en-GB") == "es"
    assert chosen_language("klingon", "en-GB") == "en"
    assert chosen_language(None, None) == "en"


async def test_a_spanish_browser_gets_the_page_in_spanish(client: Client, live: Services) -> None:
    response = await client.get("/", headers=SPANISH)
    html = await response.get_data(as_text=True)
    assert '<html lang="es">' in html
    assert "Resultados en directo" in html and "Mis equipos" in html and "Día anterior" in html
    assert re.search(r"<h1 id=\"day-title-es\">Hoy, [a-zé]+, \d+ de [a-z]+ de \d{4}</h1>", html), "the day heading"
    assert 'id="announcer-es"' in html and 'id="announcer"' not in html
    assert 'data-live="En directo"' in html and 'data-offline="Sin conexión, actualizado a las %s"' in html
    assert "Accept-Language" in response.headers["Vary"]
    english = await (await client.get("/")).get_data(as_text=True)
    assert '<html lang="en">' in english and "Live scores" in english and "Resultados" not in english
    assert 'data-live="Live"' in english and 'data-offline="Offline, last updated %s"' in english


async def test_the_switch_sets_a_cookie_that_outranks_accept_language(client: Client, live: Services) -> None:
    page = await (await client.get("/competitions")).get_data(as_text=True)
    assert 'href="/language?lang=es&amp;next=%2Fcompetitions"' in page
    refused = await client.get("/language?lang=xx&next=/")
    assert refused.status_code == 400 and "Set-Cookie" not in refused.headers
    assert "Choose one of: en, es" in await refused.get_data(as_text=True)
    switched = await client.get("/language?lang=es&next=/competitions")
    assert switched.status_code == 303 and switched.headers["Location"] == "/competitions"
    assert f"{COOKIE}=es" in switched.headers["Set-Cookie"]
    html = await (await client.get("/", headers={"Accept-Language": "en-GB"})).get_data(as_text=True)
    assert '<html lang="es">' in html and "Resultados en directo" in html
    away = await client.get("/language?lang=en&next=//evil.example/")
    assert away.headers["Location"] == "/"


async def test_a_goal_is_announced_in_every_language_each_to_its_own_region(
    scorer_client: Client, client: Client, live: Services
) -> None:
    match = live.hub.matches[0]
    async with socket(scorer_client) as scorer, socket(client) as viewer:
        await viewer.receive()
        await scorer.receive()
        await goal(scorer, match.id, "away", minute="7")
        push = await receive_until(viewer, lambda m: match.id in m)
    region = '<hx-partial hx-target="#{}" hx-swap="innerHTML"><p>{}</p>'
    english = region.format("announcer", f"Goal: {match.home} 0, {match.away} 1, 7th minute")
    spanish = region.format("announcer-es", f"Gol: {match.home} 0, {match.away} 1, minuto 7")
    assert english in push and spanish in push
