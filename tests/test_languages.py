"""English and Spanish: chosen from Accept-Language or the switch's cookie; pages, dates and the
screen-reader sentences in the fan's language; English stays the default."""

from __future__ import annotations

import asyncio
import json
import pickle
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from quart.testing.connections import TestWebsocketConnection as WebSocket
from quart.typing import TestClientProtocol as Client

from livescores.announcements import event_sentence
from livescores.i18n import COOKIE, DEFAULT, LANGUAGES, TRANSLATIONS, chosen_language, said_in, speaking
from livescores.matches import Event, Minute
from livescores.messages import SCORER_ACTIONS
from livescores.pages import TODAY
from livescores.render import clock_text, said_refusal, viewers_fragment
from livescores.services import Services
from livescores.transitions import refusal
from livescores.words import recorded, say

from .pages import feedback
from .rules_support import CUP, FIRST_HALF, PENALTIES, SECOND_HALF, event, kick, play
from .servers import ROOT
from .support import ORIGIN, goal, receive_until, socket
from .test_hypercorn_socket import app_config, serving

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
    assert re.search(r"<h1 id=\"day-title-es\">Hoy, [a-záéíóúñ]+, \d+ de [a-z]+ de \d{4}</h1>", html), "the day heading"
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


async def test_each_language_s_socket_hears_a_goal_in_its_own_language_and_region(
    scorer_client: Client, client: Client, live: Services
) -> None:
    match = live.hub.matches[0]
    async with socket(scorer_client) as scorer, socket(client) as english, spanish_socket(client) as spanish:
        await english.receive()
        await spanish.receive()
        await scorer.receive()
        await goal(scorer, match.id, "away", minute="7")
        english_push = await receive_until(english, lambda m: match.id in m)
        spanish_push = await receive_until(spanish, lambda m: match.id in m)
    region = '<hx-partial hx-target="#{}" hx-swap="innerHTML"><p>{}</p>'
    english_sentence = region.format("announcer", f"Goal: {match.home} 0, {match.away} 1, 7th minute")
    spanish_sentence = region.format("announcer-es", f"Gol: {match.home} 0, {match.away} 1, minuto 7")
    assert english_sentence in english_push and "announcer-es" not in english_push
    assert spanish_sentence in spanish_push and '"#announcer"' not in spanish_push


async def test_a_spanish_scorer_is_acknowledged_and_refused_in_spanish_an_english_one_as_before(
    scorer_client: Client, live: Services
) -> None:
    """Through the socket layer: the acknowledgement, a rule's refusal (with its status words) and
    a malformed message's refusal each in the scorer's language; English word for word as before."""
    match = live.hub.matches[0]  # kicked off: in the first half
    second_half = json.dumps({"action": "second_half", "match": match.id})
    async with socket(scorer_client) as english, spanish_socket(scorer_client) as spanish:
        await english.receive()
        await spanish.receive()
        await goal(english, match.id, "home")
        assert await _feedback(english) == f"ok: Recorded goal: {match.home} 1–0 {match.away}"
        await goal(spanish, match.id, "away")
        assert await _feedback(spanish) == f"ok: Gol registrado: {match.home} 1–1 {match.away}"
        await spanish.send(json.dumps({"action": "undo", "match": match.id}))
        assert await _feedback(spanish) == f"ok: Se deshizo el último evento: {match.home} 1–0 {match.away}"
        await english.send(second_half)
        assert await _feedback(english) == ("error: Cannot record second half while the match is in the first half.")
        await spanish.send(second_half)
        assert await _feedback(spanish) == (
            "error: No se puede registrar «segunda parte» mientras el partido está en la primera parte."
        )
        await english.send("{not json")
        assert await _feedback(english) == "error: The message is not valid JSON."
        await spanish.send("{not json")
        assert await _feedback(spanish) == "error: El mensaje no es JSON válido."
        await spanish.send(json.dumps({"action": "goal", "match": match.id, "side": "middle"}))
        assert await _feedback(spanish) == "error: El equipo debe ser local o visitante."
    now = next(found for found in live.hub.matches if found.id == match.id)
    assert (now.home_score, now.away_score) == (1, 0)  # the refusals changed nothing


async def _feedback(ws: WebSocket) -> str:
    """The scorer's own feedback line for the command just sent, as "level: text"."""
    return str(feedback(await receive_until(ws, lambda m: feedback(m) is not None)))


def test_the_rules_words_in_spanish_and_in_english_as_before() -> None:
    """A refusal, with the status words inside it, and an incident's summary: English as the rules
    wrote it, Spanish from the catalogue; an acknowledgement's English is the kind's own name."""
    level = play(CUP, SECOND_HALF)
    refused = refusal(level, "full_time")
    assert refused == "The score is level in a knockout match: play extra time, or go to penalties after it."
    assert say(refused, "es") == (
        "El marcador está igualado en un partido eliminatorio: se juega la prórroga y, tras ella, los penaltis."
    )
    assert say(refused, "en") is refused
    early = refusal(play(CUP, []), "half_time")
    assert early == "Cannot record half-time while the match is not started."
    assert say(early, "es") == "No se puede registrar «descanso» mientras el partido está sin empezar."
    copied = pickle.loads(pickle.dumps(early))  # as an exception's text travels
    assert copied == early and say(copied, "es") == say(early, "es")
    with speaking("es"):
        assert said_refusal(level, "full_time") == say(refused, "es") and said_refusal(level, "goal") is None
    scored = play(CUP, [*FIRST_HALF, event("goal", 12, side="home", player="Saka", penalty=True, minute=Minute(12))])
    line = scored.summary(scored.incidents[-1])
    assert line == "Goal, Arsenal: Saka 12' (pen)" and say(line, "es") == "Gol, Arsenal: Saka 12' (pen.)"
    started = play(CUP, FIRST_HALF)
    assert (
        started.summary(started.incidents[-1]) == "Kick-off"
        and say(started.summary(started.incidents[-1]), "es") == "Inicio"
    )
    for kind in SCORER_ACTIONS:
        if kind != "undo":
            assert recorded(kind) == f"Recorded {kind.replace('_', ' ')}", "the acknowledgement's English as it was"
    with speaking("es"):
        assert recorded("red_card") == "Tarjeta roja registrada" and recorded("undo") == "Se deshizo el último evento"


async def test_a_spanish_scorer_s_undo_button_names_the_last_event_in_spanish(
    scorer_client: Client, live: Services
) -> None:
    match = live.hub.matches[0]  # kicked off
    spanish = await (await scorer_client.get(f"/matches/{match.id}", headers=SPANISH)).get_data(as_text=True)
    assert "Deshacer: <bdi>Inicio</bdi>" in spanish
    english = await (await scorer_client.get(f"/matches/{match.id}")).get_data(as_text=True)
    assert "Undo: <bdi>Kick-off</bdi>" in english


@asynccontextmanager
async def spanish_socket(client: Client, path: str = "/ws") -> AsyncIterator[WebSocket]:
    async with client.websocket(path, headers={"Origin": ORIGIN, **SPANISH}) as ws:
        yield ws  # type: ignore[misc]


# -- the catalogue is complete ------------------------------------------------------------------


def test_every_text_in_the_source_is_translated_into_every_language(tmp_path: Path) -> None:
    """What `make messages` extracts (babel.cfg: Python and templates), through Babel itself: every
    entry must be in each language's catalogue, translated, not fuzzy, with the same placeholders."""
    template = tmp_path / "messages.pot"
    config = str(ROOT / "babel.cfg")
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", config, "-o", str(template), str(ROOT)])
    with template.open("rb") as source:
        extracted = read_po(source)
    wanted = [message.id for message in extracted if message.id]
    assert len(wanted) > 250, "the extraction found the app's texts"
    assert "Half-time" in wanted and "Timeline" in wanted and "Substitution, %(team)s: %(on)s on, %(off)s off" in wanted
    others = [language for language in LANGUAGES if language != DEFAULT]
    assert "es" in others
    for language in others:
        with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as source:
            catalogue = read_po(source, locale=language)
        missing = [m for m in wanted if catalogue.get(m) is None]
        untranslated = [m for m in wanted if m not in missing and (not catalogue[m].string or catalogue[m].fuzzy)]
        assert not missing, f"not in {language}/messages.po (run `make messages`): {missing}"
        assert not untranslated, f"untranslated or fuzzy in {language}/messages.po: {untranslated}"
        problems = [(message.id, errors) for message, errors in catalogue.check()]
        assert not problems, f"{language}: placeholders unlike the English: {problems}"


# -- every page kind in Spanish ----------------------------------------------------------------


class _Words(HTMLParser):
    """A page's visible words, and those of the attributes a reader meets (titles, labels)."""

    SAID: ClassVar = {"title", "aria-label", "placeholder", "alt", "content", "data-live", "data-offline"}

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        self.words += [value for name, value in attrs if name in self.SAID and value]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.words.append(data.strip())


def said(html: str) -> str:
    parser = _Words()
    parser.feed(html)
    return " | ".join(parser.words)


def english_left(text: str, words: list[str]) -> list[str]:
    return [word for word in words if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text)]


EVERY_PAGE = ["Live scores", "Scorer sign-in", "Connecting…", "Previous day", "Timeline", "watching"]


async def test_every_page_kind_in_spanish_has_no_english_left(
    scorer_client: Client, client: Client, live: Services
) -> None:
    match = live.hub.matches[0]
    assert match.competition_slug and match.home_slug, "the demo's matches have a competition and teams"
    async with socket(scorer_client) as scorer:
        await scorer.receive()
        await goal(scorer, match.id, "home", minute="9", player="Walcott", penalty=True)
        await receive_until(scorer, lambda m: "Walcott" in m)
        await scorer.send(json.dumps({"action": "red_card", "match": match.id, "side": "away", "player": "Terry"}))
        await receive_until(scorer, lambda m: "Terry" in m)
    pages = {
        "/": ["Goal", "Red card", "(pen)", "Other matches", "No matches on this day.", "My teams", "All competitions"],
        f"/competitions/{match.competition_slug}": [
            "Competitions",
            "Add fixtures to your calendar",
            "Rounds",
            "Round",
            "Show",
            "Team",
            "Position",
            "Played",
            "Won",
            "Drawn",
            "Lost",
            "Points",
            "Goal difference",
            "Form",
            "Live table",
            "live",
            "Goal",
        ],
        f"/teams/{match.home_slug}": ["Add fixtures to your calendar", "Fixtures and results", "Follow", "Goal"],
        f"/matches/{match.id}": [
            "Today's matches",
            "Kick-off",
            "Goal",
            "Red card",
            "(pen)",
            "Score",
            "Follow",
            "Nothing has happened yet.",
        ],
        "/signin": ["Your name", "Password", "Sign in", "With your account", "Scorer token", "Back to the scoreboard"],
        "/competitions": ["Competitions", "Every competition with live scores"],
        "/teams/nobody": ["Not found", "There is no such team.", "Today's matches"],
    }
    for path, words in pages.items():
        response = await client.get(path, headers=SPANISH)
        text = said(await response.get_data(as_text=True))
        assert english_left(text, EVERY_PAGE + words) == [], f"English left on {path}: {text}"
        english = said(await (await client.get(path)).get_data(as_text=True))
        assert english_left(english, words), f"the same page in English says some of them: {path}"
    controls = ["Goal for", "Card for", "Scorer", "Player", "Minute", "optional", "Half-time", "Substitution", "Undo:"]
    scoring = said(await (await scorer_client.get(f"/matches/{match.id}", headers=SPANISH)).get_data(as_text=True))
    assert english_left(scoring, controls) == [], f"English left in the scorer's controls: {scoring}"
    assert "Gol de" in scoring and "Descanso" in scoring and "Deshacer:" in scoring
    timeline = said(await (await client.get(f"/matches/{match.id}", headers=SPANISH)).get_data(as_text=True))
    assert "Cronología" in timeline and "Gol" in timeline and "Tarjeta roja" in timeline and "(pen.)" in timeline


# -- a real server: one socket per language on the same page ------------------------------------


async def test_spanish_and_english_viewers_of_one_page_each_get_their_own_language(tmp_path: Path) -> None:
    async for served in serving(app_config(tmp_path)):
        cookie = await served.scorer_cookie()
        hub = served.live.hub
        match = hub.matches[0]
        async with (
            served.connect() as english,
            served.connect(additional_headers=SPANISH) as spanish,
            served.connect(additional_headers={"Cookie": f"{COOKIE}=es"}) as by_cookie,
            served.connect(additional_headers={"Cookie": cookie}) as scorer,
        ):
            snapshots = [str(await asyncio.wait_for(ws.recv(), 5)) for ws in (english, spanish, by_cookie, scorer)]
            assert ">Timeline<" in snapshots[0] and "Cronología" not in snapshots[0]
            for seen in snapshots[1:3]:
                assert ">Cronología<" in seen and ">Timeline<" not in seen
            assert snapshots[1] == snapshots[2]
            # Rendered once per role and language present, never per socket.
            assert set(hub._views[TODAY].snapshots) == {("viewer", "en"), ("viewer", "es"), ("scorer", "en")}

            await scorer.send(json.dumps({"action": "goal", "match": match.id, "side": "away", "minute": "7"}))
            pushes = [str(await asyncio.wait_for(ws.recv(), 5)) for ws in (english, spanish, by_cookie)]
            assert f"Goal: {match.home} 0, {match.away} 1, 7th minute" in pushes[0] and ">Timeline<" in pushes[0]
            for pushed in pushes[1:]:
                assert f"Gol: {match.home} 0, {match.away} 1, minuto 7" in pushed and ">Cronología<" in pushed
                assert "Goal" not in pushed

            await scorer.send(json.dumps({"action": "red_card", "match": match.id, "side": "home", "player": "Terry"}))
            pushes = [str(await asyncio.wait_for(ws.recv(), 5)) for ws in (english, spanish)]
            assert f"Red card, {match.home}: Terry" in pushes[0]
            assert f"Tarjeta roja, {match.home}: Terry" in pushes[1] and "Red card" not in pushes[1]
        break


# -- the rules' words in Spanish -----------------------------------------------------------------


def _said(events: list[Event]) -> str | None:
    """The sentence the last of `events` makes, in Spanish."""
    before, after = play(CUP, events[:-1]), play(CUP, events)
    with speaking("es"):
        return event_sentence(after, before)


def test_the_rarer_announcements_are_spanish() -> None:
    goal_20 = event("goal", 20, side="home", minute=Minute(20), player="Saka")
    assert _said([*FIRST_HALF, event("half_time", 47)]) == "Descanso: Arsenal 0, Chelsea 0"
    assert _said([*FIRST_HALF, event("substitution", 30, side="away", player="Mount", player_on="Havertz")]) == (
        "Cambio, Chelsea: entra Havertz, sale Mount, minuto 31"
    )
    assert _said(
        [*FIRST_HALF, goal_20, event("var", 21, side="home", decision="goal_disallowed", reason="offside")]
    ) == ("Gol anulado tras revisión, fuera de juego, Arsenal: Saka, minuto 20. Arsenal 0, Chelsea 0")
    assert _said([*FIRST_HALF, event("red_card", 30, side="away", player="Terry", minute=Minute(30))]) == (
        "Tarjeta roja, Chelsea: Terry, minuto 30"
    )
    assert _said([event("postpone", 0)]) == "Aplazado: Arsenal - Chelsea"
    assert _said([*FIRST_HALF, event("suspend", 30)]) == "Suspendido: Arsenal 0, Chelsea 0"
    assert _said([*FIRST_HALF, event("abandon", 30)]) == "Abandonado: Arsenal 0, Chelsea 0"
    assert _said([*SECOND_HALF, event("extra_time", 112)]) == "Prórroga: Arsenal 0, Chelsea 0"
    assert _said(PENALTIES) == "Tanda de penaltis: Arsenal lanza primero"
    assert _said([*PENALTIES, kick("home", "saved", "Saka")]) == (
        "Tanda de penaltis, Arsenal: Saka, parado. Penaltis: Arsenal 0, Chelsea 0"
    )
    assert _said([*FIRST_HALF, event("added_time", 44, minutes=4)]) == "4 minutos de descuento"


def test_a_row_s_labels_and_the_watching_count_in_spanish(live: Services) -> None:
    match = replace(live.hub.matches[0], status="half_time", period_started_at=None)
    row = live.hub.renderer.render(match).rows["viewer"]
    assert 'class="minute">HT<' in row and ">Timeline<" in row and "record a goal" not in row
    spanish = said_in(row, "es")
    assert 'class="minute">Desc.<' in spanish and ">Cronología<" in spanish and "Timeline" not in spanish
    assert said_in(row, "es") is spanish, "rendered once per language, then kept"
    watching = viewers_fragment(12040)
    assert ">12,040 watching<" in watching and ">12.040 siguiendo<" in said_in(watching, "es")
    assert ">1.204 siguiendo<" in said_in(viewers_fragment(1204), "es")
    with speaking("es"):
        assert clock_text("FT") == "Final" and clock_text("P–P") == "Aplaz." and clock_text("37'") == "37'"
