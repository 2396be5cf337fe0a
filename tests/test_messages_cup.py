"""Parsing the whole match's socket actions: what each carries, and what is refused and why."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from livescores.matches import Minute
from livescores.messages import Command, InvalidMessage, parse_command


def parse(**data: object) -> Command:
    return parse_command(json.dumps({"match": "m1", **data}), 4096)


def test_every_action_of_the_match_is_understood() -> None:
    for action in ("extra_time", "extra_time_half_time", "extra_time_second_half", "suspend", "resume", "abandon",
                   "cancel", "postpone"):  # fmt: skip
        command = parse(action=action, version="4", side="home", player="ignored")
        assert (command.kind, command.side, command.player, command.expected_version) == (action, None, None, 4)


def test_period_ends_may_carry_the_referees_minute() -> None:
    assert parse(action="full_time", minute="90+8").minute == Minute(90, 8)
    assert parse(action="extra_time", minute="90+8").minute == Minute(90, 8)
    assert parse(action="extra_time_half_time", minute="105+1").minute == Minute(105, 1)
    assert parse(action="half_time").minute is None


def test_a_shoot_out_and_its_kicks() -> None:
    assert parse(action="penalties", first="away").side == "away"
    kick = parse(action="shootout_kick", side="home", player=" Gonzalo  Montiel ", outcome="scored")
    assert (kick.side, kick.player, kick.outcome) == ("home", "Gonzalo Montiel", "scored")
    assert parse(action="shootout_kick", side="away", outcome="saved").player is None


def test_a_substitution_a_penalty_missed_and_added_time() -> None:
    sub = parse(action="substitution", side="home", player_off="Di María", player_on="Acuña", minute="64")
    assert (sub.side, sub.player, sub.player_on, sub.minute) == ("home", "Di María", "Acuña", Minute(64))
    missed = parse(action="penalty_missed", side="away", player="Mbappé", outcome="missed", minute="90+2")
    assert (missed.outcome, missed.minute) == ("missed", Minute(90, 2))
    assert parse(action="added_time", minutes="4").minutes == 4


def test_var_decisions() -> None:
    disallowed = parse(action="var", decision="goal_disallowed", goal_version="12", reason="offside")
    assert (disallowed.decision, disallowed.goal_version, disallowed.reason, disallowed.side) == (
        "goal_disallowed", 12, "offside", None,
    )  # fmt: skip
    latest = parse(action="var", decision="goal_disallowed", side="home", reason="")
    assert (latest.side, latest.goal_version, latest.reason) == ("home", None, None)
    awarded = parse(action="var", decision="goal_awarded", side="away", player="Kane", minute="30", penalty="on")
    assert (awarded.side, awarded.player, awarded.minute, awarded.penalty) == ("away", "Kane", Minute(30), True)
    assert parse(action="var", decision="red_card_rescinded", side="home").player is None


def test_a_line_up_from_a_list_or_a_text_area() -> None:
    eleven = [f"Player {n}" for n in range(1, 12)]
    from_list = parse(action="lineup", side="home", formation=" 4-2-3-1 ", starting=eleven, substitutes=["A", " "],
                      confirmed="on")  # fmt: skip
    assert (from_list.formation, from_list.starting, from_list.substitutes, from_list.confirmed) == (
        "4-2-3-1", tuple(eleven), ("A",), True,
    )  # fmt: skip
    from_text = parse(action="lineup", side="away", starting="\n".join(eleven) + "\n", substitutes="")
    assert (from_text.starting, from_text.substitutes, from_text.formation) == (tuple(eleven), (), None)


def test_postpone_with_or_without_a_new_kick_off() -> None:
    assert parse(action="postpone").kickoff is None
    moved = parse(action="postpone", kickoff="2026-12-18T18:00:00+03:00")
    assert moved.kickoff == datetime(2026, 12, 18, 15, 0, tzinfo=UTC)


def test_an_award() -> None:
    award = parse(action="award", home="3", away=0, note=" Ineligible  player ")
    assert (award.home_score, award.away_score, award.note) == (3, 0, "Ineligible player")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "penalties"}, "which side kicks first"),
        ({"action": "penalties", "first": "both"}, "which side kicks first"),
        ({"action": "shootout_kick", "side": "home", "outcome": "goal"}, "outcome must be one of: scored, saved"),
        ({"action": "shootout_kick", "outcome": "scored"}, "side must be home or away"),
        ({"action": "added_time"}, "how many minutes"),
        ({"action": "added_time", "minutes": "31"}, "minutes must be a whole number from 1 to 30"),
        ({"action": "added_time", "minutes": 0}, "from 1 to 30"),
        ({"action": "substitution", "side": "home", "player_on": "X"}, "player going off and the player coming on"),
        ({"action": "substitution", "side": "home", "player_off": "X", "player_on": "y" * 41}, "longer than 40"),
        ({"action": "lineup", "side": "home", "formation": "4-4-3"}, "add up to 10"),
        ({"action": "lineup", "side": "home", "formation": "WM"}, "look like 4-3-3"),
        ({"action": "lineup", "side": "home", "formation": 433}, "must be text"),
        ({"action": "lineup", "side": "home", "starting": [f"P{n}" for n in range(12)]}, "at most 11"),
        ({"action": "lineup", "side": "home", "starting": ["Saka", " saka "]}, "saka is named twice"),
        ({"action": "lineup", "side": "home", "starting": [7]}, "must be text"),
        ({"action": "lineup", "side": "home", "starting": {"a": 1}}, "must be a list of names"),
        ({"action": "lineup", "side": "home", "substitutes": [f"S{n}" for n in range(16)]}, "at most 15"),
        ({"action": "lineup", "side": "home", "starting": ["A"], "confirmed": True}, "names all 11"),
        ({"action": "var", "decision": "dive", "side": "home"}, "decision must be one of"),
        ({"action": "var", "decision": "goal_disallowed"}, "side must be home or away"),
        ({"action": "var", "decision": "goal_disallowed", "side": "home", "reason": "dive"}, "reason must be one"),
        ({"action": "var", "decision": "goal_disallowed", "goal_version": "0"}, "goal_version must be a whole"),
        ({"action": "var", "decision": "penalty_given"}, "side must be home or away"),
        ({"action": "penalty_missed", "side": "home", "outcome": "scored"}, "outcome must be one of: saved, missed"),
        ({"action": "postpone", "kickoff": "2026-12-18T15:00:00"}, "must carry a timezone"),
        ({"action": "postpone", "kickoff": "next week"}, "ISO 8601"),
        ({"action": "postpone", "kickoff": 1766070000}, "ISO 8601"),
        ({"action": "postpone", "kickoff": "1066-10-14T09:00:00Z"}, "between 1900 and 2200"),
        ({"action": "award", "home": 3}, "gives both sides a score"),
        ({"action": "award", "home": 3, "away": 100}, "from 0 to 99"),
        ({"action": "award", "home": 3, "away": 0, "note": "x" * 201}, "longer than 200"),
        ({"action": "goal", "side": "home", "minute": "60+2"}, "only follows the 45th, 90th, 105th or 120th"),
        ({"action": "goal", "side": "home", "minute": "121"}, "from 1 to 120"),
    ],
)
def test_bad_actions_are_refused_with_a_reason(data: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidMessage, match=message):
        parse(**data)


def test_added_time_of_every_period_end_is_accepted() -> None:
    for minute in ("45+1", "90+8", "105+2", "120+3"):
        assert parse(action="goal", side="home", minute=minute).minute is not None
