"""The 2022 World Cup final, Argentina v France, recorded as scorers would: each action as the
socket receives it, parsed, turned into an event and applied by the rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from livescores.matches import (
    Event,
    Match,
    Minute,
    RuleViolation,
    allowed_actions,
    apply,
    clock_label,
    fill_minute,
    replay,
    score_line,
)
from livescores.messages import parse_command

KICK_OFF = datetime(2022, 12, 18, 15, 0, tzinfo=UTC)
FINAL = Match(
    "wc2022-final",
    "Argentina",
    "France",
    KICK_OFF,
    "World Cup",
    round="Final",
    venue="Lusail Stadium",
    competition_format="groups_then_knockout",
)
ARGENTINA_XI = [
    "Emiliano Martínez", "Nahuel Molina", "Cristian Romero", "Nicolás Otamendi", "Nicolás Tagliafico",
    "Rodrigo De Paul", "Enzo Fernández", "Alexis Mac Allister", "Lionel Messi", "Julián Álvarez", "Ángel Di María",
]  # fmt: skip
ARGENTINA_BENCH = [
    "Franco Armani", "Gerónimo Rulli", "Gonzalo Montiel", "Germán Pezzella", "Marcos Acuña", "Lisandro Martínez",
    "Juan Foyth", "Leandro Paredes", "Exequiel Palacios", "Guido Rodríguez", "Thiago Almada", "Lautaro Martínez",
    "Paulo Dybala", "Ángel Correa", "Alejandro Gómez",
]  # fmt: skip
FRANCE_XI = [
    "Hugo Lloris", "Jules Koundé", "Raphaël Varane", "Dayot Upamecano", "Théo Hernandez", "Aurélien Tchouaméni",
    "Adrien Rabiot", "Ousmane Dembélé", "Antoine Griezmann", "Kylian Mbappé", "Olivier Giroud",
]  # fmt: skip
FRANCE_BENCH = [
    "Steve Mandanda", "Alphonse Areola", "Benjamin Pavard", "Ibrahima Konaté", "William Saliba", "Axel Disasi",
    "Eduardo Camavinga", "Youssouf Fofana", "Jordan Veretout", "Matteo Guendouzi", "Kingsley Coman",
    "Marcus Thuram", "Randal Kolo Muani",
]  # fmt: skip


class Scorer:
    """Sends actions over the socket's message format and keeps the match and its log."""

    def __init__(self, match: Match) -> None:
        self.match = match
        self.log: list[Event] = []

    def send(self, minutes_after_kick_off: float, action: str, **fields: object) -> Match:
        raw = json.dumps({"action": action, "match": self.match.id, "version": self.match.version, **fields})
        command = parse_command(raw, 4096)
        assert command.expected_version == self.match.version
        at = KICK_OFF + timedelta(minutes=minutes_after_kick_off)
        event = fill_minute(self.match, command.event(at, "scorer"))
        self.match = apply(self.match, event)
        self.log.append(event)
        return self.match


def test_the_2022_world_cup_final_through_the_rules() -> None:
    scorer = Scorer(FINAL)
    send = scorer.send
    send(
        -60,
        "lineup",
        side="home",
        formation="4-3-3",
        starting=ARGENTINA_XI,
        substitutes=ARGENTINA_BENCH,
        confirmed=True,
    )
    send(-60, "lineup", side="away", formation="4-2-3-1", starting=FRANCE_XI, substitutes=FRANCE_BENCH,
         confirmed="on")  # fmt: skip
    assert [lineup.formation for lineup in scorer.match.lineups] == ["4-3-3", "4-2-3-1"]

    send(0, "kick_off")
    send(22.5, "goal", side="home", player="Lionel Messi", minute="23", penalty=True)
    send(35.5, "goal", side="home", player="Ángel Di María", minute="36")
    send(40.5, "substitution", side="away", player_off="Ousmane Dembélé", player_on="Randal Kolo Muani", minute=41)
    send(40.6, "substitution", side="away", player_off="Olivier Giroud", player_on="Marcus Thuram", minute="41")
    send(45.2, "added_time", minutes=7)
    assert clock_label(scorer.match, KICK_OFF + timedelta(minutes=46)) == "45+2'"
    send(52.5, "half_time", minute="45+7")
    assert (scorer.match.status, score_line(scorer.match), clock_label(scorer.match, KICK_OFF)) == (
        "half_time", "2–0", "HT",
    )  # fmt: skip

    send(68, "second_half")  # the second half's clock starts here: 46' at 68 minutes in
    send(68 + 18, "substitution", side="home", player_off="Ángel Di María", player_on="Marcos Acuña", minute="64")
    send(68 + 25, "substitution", side="away", player_off="Antoine Griezmann", player_on="Kingsley Coman")
    send(68 + 34, "goal", side="away", player="Kylian Mbappé", minute="80", penalty=True)
    send(68 + 35, "goal", side="away", player="Kylian Mbappé", minute="81")
    assert scorer.match.substitutions("away")[-1].minute == Minute(71)  # the clock's minute at 93 minutes in
    send(68 + 52, "added_time", minutes=8)

    # Level in a final: the scorer is told why full-time is refused, and the controls offer extra time.
    assert "full_time" not in allowed_actions(scorer.match)
    assert "extra_time" in allowed_actions(scorer.match)
    before = scorer.match
    with pytest.raises(RuleViolation) as refused:
        send(68 + 53, "full_time", minute="90+8")
    assert str(refused.value) == "The score is level in a knockout match: play extra time, or go to penalties after it."
    assert scorer.match is before and len(scorer.log) == 15

    send(68 + 53, "extra_time", minute="90+8")  # ended at 90+8, and extra time begins at once
    assert scorer.match.incidents[-1].minute == Minute(90, 8)
    assert clock_label(scorer.match, KICK_OFF + timedelta(minutes=68 + 53 + 10.5)) == "101'"
    send(68 + 53 + 16, "extra_time_half_time", minute="105+1")
    assert clock_label(scorer.match, KICK_OFF) == "ET HT"
    send(68 + 53 + 18, "substitution", side="home", player_off="Rodrigo De Paul", player_on="Leandro Paredes")
    assert scorer.match.substitutions("home")[-1].minute == Minute(106)  # made at the break: the next minute
    send(68 + 53 + 19, "extra_time_second_half")
    et2 = 68 + 53 + 19  # 106' starts here
    send(et2 + 2.5, "goal", side="home", player="Lionel Messi", minute="108")
    send(et2 + 10, "substitution", side="home", player_off="Nahuel Molina", player_on="Gonzalo Montiel")
    send(et2 + 12, "goal", side="away", player="Kylian Mbappé", minute="118", penalty=True)
    send(et2 + 15.5, "substitution", side="home", player_off="Marcos Acuña", player_on="Paulo Dybala")
    assert scorer.match.substitutions("home")[-1].minute == Minute(120, 1)
    assert clock_label(scorer.match, KICK_OFF + timedelta(minutes=et2 + 16.5)) == "120+2'"

    with pytest.raises(RuleViolation, match="level after extra time: go to penalties"):
        send(et2 + 18, "full_time", minute="120+3")
    assert "penalties" in allowed_actions(scorer.match) and "full_time" not in allowed_actions(scorer.match)
    send(et2 + 18, "penalties", first="away", minute="120+3")
    assert (scorer.match.status, clock_label(scorer.match, KICK_OFF), scorer.match.next_kicker) == (
        "penalties", "Pens", "away",
    )  # fmt: skip

    kicks = [
        ("away", "Kylian Mbappé", "scored"),
        ("home", "Lionel Messi", "scored"),
        ("away", "Kingsley Coman", "saved"),
        ("home", "Paulo Dybala", "scored"),
        ("away", "Aurélien Tchouaméni", "missed"),
        ("home", "Leandro Paredes", "scored"),
        ("away", "Randal Kolo Muani", "scored"),
    ]
    for n, (side, player, outcome) in enumerate(kicks):
        send(et2 + 20 + n, "shootout_kick", side=side, player=player, outcome=outcome)
        assert scorer.match.status == "penalties"
    assert scorer.match.penalty_score == (3, 2)
    with pytest.raises(RuleViolation, match="It is Argentina's turn to kick"):
        send(et2 + 28, "shootout_kick", side="away", player="Marcus Thuram", outcome="scored")
    # Montiel's kick decides it: four to two with France's last kick still to come, so the match ends.
    final = send(et2 + 28, "shootout_kick", side="home", player="Gonzalo Montiel", outcome="scored")

    assert final.status == "full_time"
    assert final.decided_by == "penalties"
    assert (final.home_score, final.away_score) == (3, 3)
    assert final.penalty_score == (4, 2)
    assert score_line(final) == "3–3, 4–2 pens"
    assert clock_label(final, KICK_OFF + timedelta(hours=5)) == "Pens"
    assert final.winner == "home"
    # Shoot-out kicks are never goals: the scorers' lists hold only the six from open play and penalties.
    assert [(g.player, str(g.minute), g.penalty) for g in final.goals("home")] == [
        ("Lionel Messi", "23'", True), ("Ángel Di María", "36'", False), ("Lionel Messi", "108'", False),
    ]  # fmt: skip
    assert [str(g.minute) for g in final.goals("away")] == ["80'", "81'", "118'"]
    assert len(final.shootout_kicks) == 8

    with pytest.raises(RuleViolation, match="The shoot-out is over"):
        send(et2 + 29, "shootout_kick", side="away", player="Marcus Thuram", outcome="scored")
    assert allowed_actions(final) == ("award", "undo")

    # The state is the replay of the log, and the timeline reads in match order.
    assert replay(FINAL, scorer.log) == final
    order = [i.kind for i in final.timeline]
    assert order.index("extra_time") < order.index("extra_time_half_time") < order.index("extra_time_second_half")
    assert order[-9:] == ["penalties", *["shootout_kick"] * 8]

    # Undo of the deciding kick reopens the shoot-out, with Argentina to kick.
    reopened = replay(FINAL, [*scorer.log, Event("undo", KICK_OFF + timedelta(hours=4))])
    assert (reopened.status, reopened.decided_by, reopened.next_kicker) == ("penalties", None, "home")
