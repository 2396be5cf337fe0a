"""VAR decisions, penalties missed in play, substitutions and line-ups; each undone by replay."""

from __future__ import annotations

from dataclasses import replace

import pytest

from livescores.matches import Event, Minute, RuleViolation, apply, fill_minute, replay
from tests.rules_support import FIRST_HALF, LEAGUE, SECOND_HALF, event, goal, play

XI = [f"Home {n}" for n in range(1, 12)]
BENCH = ["Sub A", "Sub B"]


def var(decision: str, when: float = 30, **fields: object) -> Event:
    return event("var", when, decision=decision, **fields)


def undone(log: list[Event]) -> None:
    """Undo of the latest event gives the match as it stood before it."""
    after = replay(LEAGUE, [*log, event("undo", 300)])
    assert replace(after, version=0) == replace(replay(LEAGUE, log[:-1]), version=0)


def test_var_disallows_the_sides_latest_goal_by_default() -> None:
    log = [*FIRST_HALF, goal("home", 10, player="Saka"), goal("away", 12), goal("home", 20, player="Havertz")]
    log.append(var("goal_disallowed", 22, side="home", reason="offside"))
    match = play(LEAGUE, log)
    assert (match.home_score, match.away_score) == (1, 1)
    assert [g.player for g in match.goals("home")] == ["Saka"]
    ruling = match.incidents[-1]
    assert (ruling.kind, ruling.player, ruling.minute, ruling.refers_to) == ("var", "Havertz", Minute(20), 4)
    assert match.summary(ruling) == "Goal disallowed (offside), Arsenal: Havertz 20'"
    undone(log)
    # As the store records it, with blank minutes filled from the clock, the goal keeps its minute.
    before = play(LEAGUE, log[:-1])
    recorded = fill_minute(before, log[-1])
    assert recorded.minute is None and apply(before, recorded).incidents[-1].minute == Minute(20)
    assert fill_minute(before, var("penalty_given", 22, side="home")).minute == Minute(23)


def test_var_disallows_the_goal_named_by_its_version() -> None:
    log = [*FIRST_HALF, goal("home", 10, player="Saka"), goal("home", 20, player="Havertz")]
    match = play(LEAGUE, [*log, var("goal_disallowed", goal_version=2, reason="handball")])
    assert [g.player for g in match.goals("home")] == ["Havertz"] and match.home_score == 1
    # The version is the one the goal's event made in the log, undos included.
    with_undo = [*FIRST_HALF, goal("away", 5), event("undo", 6), goal("home", 10, player="Saka")]
    assert play(LEAGUE, [*with_undo, var("goal_disallowed", goal_version=4)]).home_score == 0
    with pytest.raises(RuleViolation, match="No goal standing was recorded at version 2"):
        play(LEAGUE, [*with_undo, var("goal_disallowed", goal_version=2)])
    with pytest.raises(RuleViolation, match="counted for Arsenal"):
        play(LEAGUE, [*log, var("goal_disallowed", side="away", goal_version=2)])
    # A disallowed goal cannot be disallowed twice.
    twice = [*log, var("goal_disallowed", goal_version=2), var("goal_disallowed", goal_version=2)]
    with pytest.raises(RuleViolation, match="No goal standing"):
        play(LEAGUE, twice)
    with pytest.raises(RuleViolation, match="Chelsea have no goal standing to disallow"):
        play(LEAGUE, [*log, var("goal_disallowed", side="away")])
    with pytest.raises(RuleViolation, match="reason must be one of"):
        play(LEAGUE, [*log, var("goal_disallowed", side="home", reason="dive")])


def test_var_awards_a_goal_which_counts_like_any_other() -> None:
    log = [*FIRST_HALF, var("goal_awarded", side="away", player="Palmer", minute=Minute(30), penalty=True)]
    match = play(LEAGUE, log)
    assert match.away_score == 1 and match.goals("away")[0].player == "Palmer"
    assert match.summary(match.incidents[-1]) == "Goal awarded after review, Chelsea: Palmer 30' (pen)"
    assert play(LEAGUE, [*log, var("goal_disallowed", side="away")]).away_score == 0
    undone(log)


def test_var_penalty_decisions_are_in_the_timeline_and_change_no_score() -> None:
    for decision in ("penalty_given", "penalty_overturned"):
        log = [*FIRST_HALF, var(decision, side="home", minute=Minute(31))]
        match = play(LEAGUE, log)
        assert (match.home_score, match.incidents[-1].decision, match.incidents[-1].minute) == (0, decision, Minute(31))
        undone(log)


def test_var_upgrades_and_rescinds_red_cards() -> None:
    upgraded = [*FIRST_HALF, event("yellow_card", 20, side="away", player="James"), var("red_card_upgraded", 22,
                side="away", player="James")]  # fmt: skip
    match = play(LEAGUE, upgraded)
    assert [c.player for c in match.red_cards("away")] == ["James"]
    with pytest.raises(RuleViolation, match="James has already been sent off"):
        apply(match, event("goal", 25, side="away", player="James"))
    rescinded = [*upgraded, var("red_card_rescinded", 24, side="away")]
    cleared = play(LEAGUE, rescinded)
    assert cleared.red_cards("away") == ()
    assert apply(cleared, event("goal", 25, side="away", player="James")).away_score == 1
    with pytest.raises(RuleViolation, match="Rice of Arsenal has no red card to rescind"):
        play(LEAGUE, [*upgraded, var("red_card_rescinded", 24, side="home", player="Rice")])
    with pytest.raises(RuleViolation, match="Arsenal have no red card to rescind"):
        play(LEAGUE, [*FIRST_HALF, var("red_card_rescinded", 24, side="home")])
    undone(upgraded)
    undone(rescinded)


def test_var_needs_a_decision_and_the_ball_in_play() -> None:
    with pytest.raises(RuleViolation, match="VAR decision must be one of"):
        play(LEAGUE, [*FIRST_HALF, var("offside", side="home")])
    with pytest.raises(RuleViolation, match="at half-time: a VAR decision needs the ball in play"):
        play(LEAGUE, [*SECOND_HALF[:2], var("penalty_given", 50, side="home")])


def test_a_penalty_missed_or_saved_in_play_is_an_event() -> None:
    log = [*FIRST_HALF, event("penalty_missed", 20, side="home", player="Saka", outcome="saved")]
    match = play(LEAGUE, log)
    assert (match.home_score, match.summary(match.incidents[-1])) == (0, "Penalty saved, Arsenal: Saka 21'")
    with pytest.raises(RuleViolation, match="saved or missed"):
        play(LEAGUE, [*FIRST_HALF, event("penalty_missed", 20, side="home", outcome="scored")])
    undone(log)


def test_substitutions_follow_the_line_up() -> None:
    lineup = event("lineup", -30, side="home", formation="4-3-3", starting=tuple(XI), substitutes=tuple(BENCH),
                   confirmed=True)  # fmt: skip
    log = [lineup, *FIRST_HALF, event("substitution", 30, side="home", player="Home 9", player_on="Sub A")]
    match = play(LEAGUE, log)
    sub = match.substitutions("home")[0]
    assert (sub.player, sub.player_on, sub.minute) == ("Home 9", "Sub A", Minute(31))
    assert match.summary(sub) == "Substitution, Arsenal: Sub A for Home 9 31'"
    refusals = [
        ("Home 9", "Sub B", "Home 9 has already been substituted off"),
        ("Home 2", "Home 9", "Home 9 has been substituted off and cannot come back on"),
        ("Home 2", "Sub A", "Sub A is already on the pitch"),
        ("Home 2", "Home 3", "Home 3 is already on the pitch"),
        ("Stranger", "Sub B", "Stranger is not on the pitch for Arsenal"),
        ("Home 2", "Stranger", "Stranger is not among Arsenal's substitutes"),
        ("Home 2", "home 2", "cannot replace himself"),
    ]
    for off, on, message in refusals:
        with pytest.raises(RuleViolation, match=message):
            apply(match, event("substitution", 35, side="home", player=off, player_on=on))
    # The player who came on can himself be replaced.
    assert apply(match, event("substitution", 40, side="home", player="sub a", player_on="Sub B")).version == 4
    undone(log)


def test_a_substitution_at_half_time_takes_the_next_minute_and_none_before_kick_off() -> None:
    at_break = play(LEAGUE, [*SECOND_HALF[:2], event("substitution", 50, side="away", player="A", player_on="B")])
    assert at_break.substitutions("away")[0].minute == Minute(46)
    given = play(LEAGUE, [*SECOND_HALF[:2], event("substitution", 50, side="away", player="A", player_on="B",
                                                 minute=Minute(45, 2))])  # fmt: skip
    assert given.substitutions("away")[0].minute == Minute(45, 2)
    with pytest.raises(RuleViolation, match="not started: substitutions are made during play or at a break"):
        apply(LEAGUE, event("substitution", -5, side="away", player="A", player_on="B"))
    with pytest.raises(RuleViolation, match="names the player going off and the player coming on"):
        play(LEAGUE, [*FIRST_HALF, event("substitution", 10, side="away", player="A")])
    red = [*FIRST_HALF, event("red_card", 10, side="away", player="A")]
    with pytest.raises(RuleViolation, match="A has been sent off"):
        play(LEAGUE, [*red, event("substitution", 12, side="away", player="A", player_on="B")])


def test_line_ups_before_and_during_the_match_replace_the_sides_earlier_one() -> None:
    draft = event("lineup", -90, side="home", formation="4-4-2", starting=tuple(XI[:9]))
    final = event("lineup", -30, side="home", formation="4-2-3-1", starting=tuple(XI), confirmed=True)
    match = play(LEAGUE, [draft, final, event("lineup", -20, side="away", formation="3-5-2")])
    assert [(lineup.side, lineup.formation, lineup.confirmed) for lineup in match.lineups] == [
        ("home", "4-2-3-1", True), ("away", "3-5-2", False),
    ]  # fmt: skip
    assert match.lineup("home") is not None and match.lineup("home").starting == tuple(XI)  # type: ignore[union-attr]
    assert match.summary(match.incidents[1]) == "Line-up, Arsenal: 4-2-3-1 (confirmed)"
    assert play(LEAGUE, [*SECOND_HALF, event("lineup", 70, side="home", formation="5-4-1")]).lineup("home") is not None
    with pytest.raises(RuleViolation, match="over: its line-ups can no longer change"):
        play(LEAGUE, [*SECOND_HALF, event("full_time", 110), event("lineup", 120, side="home")])
    with pytest.raises(RuleViolation, match="A confirmed line-up names all 11"):
        apply(LEAGUE, event("lineup", -5, side="home", starting=tuple(XI[:10]), confirmed=True))
    with pytest.raises(RuleViolation, match="add up to 10 outfield players"):
        apply(LEAGUE, event("lineup", -5, side="home", formation="4-4-3"))
    with pytest.raises(RuleViolation, match="cannot both start and be a substitute"):
        apply(LEAGUE, event("lineup", -5, side="home", starting=("Saka",), substitutes=("SAKA",)))
    undone([draft, final])
