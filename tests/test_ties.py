"""Knockout rounds and two-legged ties: which matches may go to extra time, the aggregate, the
winner of the tie, away goals as a competition setting."""

from __future__ import annotations

from dataclasses import replace

import pytest

from livescores.matches import Match, RuleViolation, apply, can_go_to_extra_time, is_knockout, refusal, score_line
from tests.rules_support import CUP, ET_SECOND_HALF, SECOND_HALF, T0, event, goal, play

# Leg two: Chelsea won the first leg at home 2-1, so Arsenal (home now) scored 1 and Chelsea 2.
SECOND_LEG = Match(
    "t2", "Arsenal", "Chelsea", T0, "Champions League", round="Round of 16", leg=2,
    competition_format="groups_then_knockout", first_leg_home=1, first_leg_away=2,
)  # fmt: skip


@pytest.mark.parametrize(
    ("round_name", "group", "competition_format", "knockout"),
    [
        ("Round of 16", None, "groups_then_knockout", True),
        ("Quarter-finals", None, None, True),
        ("Semi-final", None, None, True),
        ("Final", None, "groups_then_knockout", True),
        ("Third place play-off", None, None, True),
        ("Play-offs", None, None, True),
        ("Third round", None, "cup", True),
        ("Matchday 12", None, None, False),
        ("Group C", "Group C", "groups_then_knockout", False),
        ("Final", None, "league", False),
        (None, None, None, False),
        ("Round 5", None, "cup", False),
    ],
)
def test_knockout_is_read_from_the_round_and_the_competition_format(
    round_name: str | None, group: str | None, competition_format: str | None, knockout: bool
) -> None:
    match = replace(CUP, round=round_name, group=group, competition_format=competition_format)  # type: ignore[arg-type]
    assert is_knockout(match) is knockout
    assert can_go_to_extra_time(match) is knockout


def test_a_second_leg_shows_the_aggregate_and_its_winner() -> None:
    won = play(SECOND_LEG, [*SECOND_HALF, goal("home", 60), goal("home", 70), event("full_time", 110)])
    assert (won.aggregate, score_line(won), won.winner, won.decided_by) == (
        (3, 2),
        "2–0, agg 3–2",
        "home",
        "normal_time",
    )
    # Winning the match is not winning the tie.
    lost_tie = play(SECOND_LEG, [*SECOND_HALF, goal("home", 60), goal("home", 70), goal("away", 80),
                                 goal("away", 85), event("full_time", 110)])  # fmt: skip
    assert (score_line(lost_tie), lost_tie.winner) == ("2–2, agg 3–4", "away")
    assert CUP.aggregate is None and replace(SECOND_LEG, leg=1).aggregate is None


def test_a_second_leg_goes_to_extra_time_only_when_the_tie_is_level() -> None:
    level = play(SECOND_LEG, [*SECOND_HALF, goal("home", 60)])  # 1-0 today, 2-2 on aggregate
    assert refusal(level, "full_time") == (
        "The tie is level on aggregate: play extra time, or go to penalties after it."
    )
    assert refusal(level, "extra_time") is None
    drawn = play(SECOND_LEG, SECOND_HALF)  # 0-0 today: Chelsea through 2-1
    assert refusal(drawn, "extra_time") == "Extra time is played only when the tie is level on aggregate."
    assert refusal(drawn, "full_time") is None
    after_et = play(SECOND_LEG, [*SECOND_HALF, goal("home", 60), *ET_SECOND_HALF[3:]])
    assert refusal(after_et, "full_time") == "The tie is level after extra time: go to penalties."
    shootout = apply(after_et, event("penalties", 150, side="home"))
    assert score_line(shootout) == "1–0, agg 2–2, 0–0 pens"


def test_away_goals_decide_a_level_tie_when_the_competition_counts_them() -> None:
    with_away_goals = replace(SECOND_LEG, first_leg_home=2, first_leg_away=3, away_goals=True)
    # 1-0 today: 3-3 on aggregate; Arsenal scored 2 away, Chelsea none: Arsenal through.
    settled = play(with_away_goals, [*SECOND_HALF, goal("home", 60)])
    assert refusal(settled, "extra_time") == "The tie is decided on away goals: extra time is not played."
    done = apply(settled, event("full_time", 110))
    assert (done.winner, score_line(done)) == ("home", "1–0, agg 3–3")
    # Off by default: the same tie goes to extra time.
    assert refusal(play(replace(with_away_goals, away_goals=False), [*SECOND_HALF, goal("home", 60)]),
                   "extra_time") is None  # fmt: skip


def test_a_second_leg_without_the_first_result_leaves_extra_time_to_the_scorer() -> None:
    unknown = play(replace(SECOND_LEG, first_leg_home=None, first_leg_away=None), SECOND_HALF)
    assert refusal(unknown, "extra_time") is None and refusal(unknown, "full_time") is None
    assert unknown.aggregate is None


def test_a_first_leg_ends_level_without_extra_time() -> None:
    first_leg = play(replace(SECOND_LEG, leg=1), SECOND_HALF)
    with pytest.raises(RuleViolation, match="A first leg cannot go to extra time"):
        apply(first_leg, event("extra_time", 110))
    assert apply(first_leg, event("full_time", 110)).status == "full_time"
