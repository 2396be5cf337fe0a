"""The 2022 World Cup final played through the real /ws socket as its scorers would, watched
from the match page by a viewer; and the same final imported from openfootball's file."""

from __future__ import annotations

import asyncio
import html as html_text
import json
import re
from dataclasses import replace
from typing import Any

from quart.testing.connections import TestWebsocketConnection as WebSocket
from quart.typing import TestClientProtocol as Client

from livescores.matches import Match
from livescores.openfootball import load_shipped
from livescores.services import Services
from livescores.stories import final_match, to_match

from .pages import feedback, rows, texts
from .support import socket
from .test_cup_final import ARGENTINA_BENCH, ARGENTINA_XI, FRANCE_BENCH, FRANCE_XI

WC2022 = "worldcup.json/2022/worldcup.json"
ANNOUNCED = re.compile(r'<hx-partial hx-target="#announcer" hx-swap="innerHTML"><p>(.*?)</p></hx-partial>', re.S)


class Desk:
    """The scorer's socket and a viewer's, both on the match page: every action is sent as the
    page's controls send it, and the viewer's messages are kept up to the version it made."""

    def __init__(self, scorer: WebSocket, viewer: WebSocket, match_id: str) -> None:
        self.scorer, self.viewer, self.match_id = scorer, viewer, match_id
        self.version = 0
        self.seen: list[str] = []
        self.controls = ""  # the scorer's latest timeline, with the controls

    async def send(self, action: str, **fields: Any) -> str:
        data = {"action": action, "match": self.match_id, "version": self.version, **fields}
        await self.scorer.send(json.dumps({**data, "headers": {"HX-Request": "true"}}))
        while True:
            message = await asyncio.wait_for(self.scorer.receive(), 5)
            assert isinstance(message, str)
            if "timeline-" in message:
                self.controls = message
            said = feedback(message)
            if said is not None:
                break
        if said.startswith("ok:"):
            self.version += 1
            await self.watch(self.version)
        return html_text.unescape(said)

    async def play(self, action: str, **fields: Any) -> None:
        said = await self.send(action, **fields)
        assert said.startswith("ok:"), said

    async def watch(self, version: int) -> str:
        while True:
            message = await asyncio.wait_for(self.viewer.receive(), 5)
            assert isinstance(message, str)
            self.seen.append(message)
            if f'data-version="{version}"' in message and "timeline-" in message:
                return message

    @property
    def announcements(self) -> list[str]:
        return [html_text.unescape(text) for message in self.seen for text in ANNOUNCED.findall(message)]


async def test_the_2022_world_cup_final_through_the_socket(
    scorer_client: Client, client: Client, live: Services
) -> None:
    season = load_shipped(WC2022)
    (fixture,) = [f for f in season.fixtures if f.round == "Final"]
    fixture_match = replace(to_match(season, fixture, "wc2022final"), home_slug=None, away_slug=None)
    (stored,) = await live.store.add_fixtures([("wc2022-final", fixture_match)], [season.competition])
    assert stored.competition_format == "groups_then_knockout"
    page = f"/ws?match={stored.id}"
    async with socket(scorer_client, page) as scorer, socket(client, page) as viewer:
        await asyncio.wait_for(scorer.receive(), 5)
        await asyncio.wait_for(viewer.receive(), 5)
        desk = Desk(scorer, viewer, stored.id)
        play = desk.play

        # Line-ups as the form sends them too: one as lists, the other as a text area's names.
        await play("lineup", side="home", formation="4-3-3", starting=ARGENTINA_XI, substitutes=ARGENTINA_BENCH,
                   confirmed=True)  # fmt: skip
        await play("lineup", side="away", formation="4-2-3-1", starting="\n".join(FRANCE_XI),
                   substitutes=", ".join(FRANCE_BENCH), confirmed="on")  # fmt: skip
        await play("kick_off")
        await play("goal", side="home", player="Lionel Messi", minute="23", penalty="on")
        await play("goal", side="home", player="Ángel Di María", minute="36")
        await play("substitution", side="away", player_off="Ousmane Dembélé", player_on="Randal Kolo Muani",
                   minute="41")  # fmt: skip
        await play("half_time", minute="45+7")
        await play("second_half")
        await play("goal", side="away", player="Kylian Mbappé", minute="80", penalty="on")
        await play("goal", side="away", player="Kylian Mbappé", minute="81")
        await play("added_time", minutes="8")
        assert texts(desk.seen[-1], "added")[0] == "+8"  # on the row, while the half runs
        offered = [" ".join(t.split()) for t in texts(desk.controls, "status")]
        assert offered == ["Extra time"]  # and not full-time, which the scorer is told why
        assert "level in a knockout match" in texts(desk.controls, "hint refused-full-time")[0]
        assert await desk.send("full_time", minute="90+8") == (
            "error: The score is level in a knockout match: play extra time, or go to penalties after it."
        )
        await play("extra_time", minute="90+8")
        await play("extra_time_half_time", minute="105+1")
        assert texts(desk.seen[-1], "clock") == ["ET HT"]
        await play("extra_time_second_half")
        await play("goal", side="home", player="Lionel Messi", minute="108")
        await play("goal", side="away", player="Kylian Mbappé", minute="118", penalty="on")
        await play("penalties", first="away", minute="120+3")
        kicks = [
            ("away", "Kylian Mbappé", "scored"),
            ("home", "Lionel Messi", "scored"),
            ("away", "Kingsley Coman", "saved"),
            ("home", "Paulo Dybala", "scored"),
            ("away", "Aurélien Tchouaméni", "missed"),
            ("home", "Leandro Paredes", "scored"),
        ]
        for side, player, outcome in kicks:
            await play("shootout_kick", side=side, player=player, outcome=outcome)
        # The viewer's page shows the sequence so far; the scorer is offered France's kick only.
        assert texts(desk.seen[-1], "sequence") == ["●○○", "●●●"]
        assert "Shoot-out: France to kick" in texts(desk.controls, "record shootout-kick")[0]
        assert "error: It is France's turn to kick" in await desk.send("shootout_kick", side="home", outcome="scored")
        await play("shootout_kick", side="away", player="Randal Kolo Muani", outcome="scored")
        await play("shootout_kick", side="home", player="Gonzalo Montiel", outcome="scored")
        # 4-2 with a French kick still to come: the shoot-out, and the match, end by themselves.
        assert "The shoot-out is over" in await desk.send("shootout_kick", side="away", outcome="scored")

    final = desk.seen[-1]
    row = rows(final)[stored.id]
    assert (row.home_score, row.away_score) == (3, 3)
    assert texts(final, "clock") == ["Pens"] and texts(final, "pens") == ["4–2 pens"]
    assert "(winner)" in row.html and texts(final, "sequence") == ["●○○●", "●●●●"]
    assert desk.announcements == [
        "Line-up confirmed, Argentina: 4-3-3",
        "Line-up confirmed, France: 4-2-3-1",
        "Kick-off: Argentina v France",
        "Goal: Argentina 1, France 0, 23rd minute, scored by Lionel Messi, penalty",
        "Goal: Argentina 2, France 0, 36th minute, scored by Ángel Di María",
        "Substitution, France: Randal Kolo Muani on, Ousmane Dembélé off, 41st minute",
        "Half-time: Argentina 2, France 0",
        "Second half: Argentina 2, France 0",
        "Goal: Argentina 2, France 1, 80th minute, scored by Kylian Mbappé, penalty",
        "Goal: Argentina 2, France 2, 81st minute, scored by Kylian Mbappé",
        "8 minutes of added time",
        "Extra time: Argentina 2, France 2",
        "Extra-time half-time: Argentina 2, France 2",
        "Extra time, second half: Argentina 2, France 2",
        "Goal: Argentina 3, France 2, 108th minute, scored by Lionel Messi",
        "Goal: Argentina 3, France 3, 118th minute, scored by Kylian Mbappé, penalty",
        "Penalty shoot-out: France kick first",
        "Shoot-out, France: Kylian Mbappé scored. Penalties: Argentina 0, France 1",
        "Shoot-out, Argentina: Lionel Messi scored. Penalties: Argentina 1, France 1",
        "Shoot-out, France: Kingsley Coman saved. Penalties: Argentina 1, France 1",
        "Shoot-out, Argentina: Paulo Dybala scored. Penalties: Argentina 2, France 1",
        "Shoot-out, France: Aurélien Tchouaméni missed. Penalties: Argentina 2, France 1",
        "Shoot-out, Argentina: Leandro Paredes scored. Penalties: Argentina 3, France 1",
        "Shoot-out, France: Randal Kolo Muani scored. Penalties: Argentina 3, France 2",
        "Full-time: Argentina 3, France 3. Argentina win 4–2 on penalties",
    ]

    api = await (await client.get(f"/api/matches/{stored.id}")).get_json()
    match = api["match"]
    assert (match["status"], match["decided_by"], match["winner"]) == ("full_time", "penalties", "home")
    assert (match["home_score"], match["away_score"]) == (3, 3)
    assert (match["penalties"]["home"], match["penalties"]["away"], match["penalties"]["first"]) == (4, 2, "away")
    assert [kick["outcome"] for kick in match["penalties"]["kicks"]] == [outcome for _, _, outcome in kicks] + [
        "scored",
        "scored",
    ]
    assert [lineup["formation"] for lineup in match["lineups"]] == ["4-3-3", "4-2-3-1"]
    assert [entry["kind"] for entry in api["log"]][-2:] == ["shootout_kick", "shootout_kick"]

    # The same final from openfootball's file: the same score, scorers and way of deciding it.
    played = await live.store.get_match(stored.id)
    assert played is not None
    imported = final_match(season, fixture)
    assert same_result(imported) == same_result(played)


def same_result(match: Match) -> tuple[object, ...]:
    scorers = tuple(
        (g.side, g.player, str(g.minute), g.penalty) for side in ("home", "away") for g in match.goals(side)
    )
    return match.home_score, match.away_score, match.penalty_score, match.decided_by, match.winner, scorers
