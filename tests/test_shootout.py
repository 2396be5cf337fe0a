"""The penalty shoot-out kick by kick: the order, the moment it is decided, and refusals."""

from __future__ import annotations

import pytest

from livescores.matches import RuleViolation, allowed_actions, apply, clock_label, replay, score_line
from livescores.shootout import shootout_winner
from tests.rules_support import CUP, PENALTIES, at, event, kick, play


def shootout(*outcomes: str, first: str = "home") -> list:  # type: ignore[type-arg]
    """Kicks in turn from `first`, with these outcomes."""
    other = "away" if first == "home" else "home"
    return [kick(first if n % 2 == 0 else other, outcome) for n, outcome in enumerate(outcomes)]


def test_a_shoot_out_is_decided_after_three_kicks_each_at_three_nil() -> None:
    kicks = shootout("scored", "missed", "scored", "saved", "scored")
    assert play(CUP, [*PENALTIES, *kicks]).status == "penalties"  # away could still draw level
    done = play(CUP, [*PENALTIES, *kicks, kick("away", "missed")])
    assert (done.status, done.decided_by, done.penalty_score, done.winner) == ("full_time", "penalties", (3, 0), "home")
    assert clock_label(done, at(300)) == "Pens"
    assert score_line(done) == "0–0, 3–0 pens"


def test_a_shoot_out_ends_the_moment_one_side_cannot_be_caught() -> None:
    # 3-1 after four kicks each would be decided: the side kicking second leads after its fourth.
    kicks = shootout("missed", "scored", "scored", "scored", "saved", "scored", "scored")
    assert play(CUP, [*PENALTIES, *kicks]).status == "penalties"
    done = play(CUP, [*PENALTIES, *kicks, kick("away", "scored")])
    assert (done.status, done.penalty_score, done.winner) == ("full_time", (2, 4), "away")


def test_a_shoot_out_goes_to_five_each_then_sudden_death() -> None:
    five_each = shootout(*["scored"] * 10)
    level = play(CUP, [*PENALTIES, *five_each])
    assert (level.status, level.penalty_score, level.next_kicker) == ("penalties", (5, 5), "home")
    # Sudden death: a miss by the first kicker is not the end, the reply decides.
    sixth = shootout("missed", "missed", "scored")
    assert play(CUP, [*PENALTIES, *five_each, *sixth]).status == "penalties"
    done = play(CUP, [*PENALTIES, *five_each, *sixth, kick("away", "saved")])
    assert (done.status, done.penalty_score, done.winner) == ("full_time", (6, 5), "home")


def test_after_five_each_a_difference_decides_at_once() -> None:
    kicks = shootout(*["scored"] * 9, "missed")
    done = play(CUP, [*PENALTIES, *kicks])
    assert (done.status, done.penalty_score, done.winner) == ("full_time", (5, 4), "home")


def test_a_kick_out_of_turn_is_refused_and_changes_nothing() -> None:
    started = play(CUP, [*PENALTIES, kick("home", "scored")])
    with pytest.raises(RuleViolation, match="It is Chelsea's turn to kick"):
        apply(started, kick("home", "scored"))
    with pytest.raises(RuleViolation, match="It is Arsenal's turn to kick"):
        play(CUP, [*PENALTIES, kick("away", "scored")])


def test_a_kick_after_the_end_is_refused() -> None:
    done = play(CUP, [*PENALTIES, *shootout("scored", "missed", "scored", "missed", "scored", "missed")])
    assert done.status == "full_time"
    with pytest.raises(RuleViolation, match="The shoot-out is over"):
        apply(done, kick("home", "scored"))
    assert "shootout_kick" not in allowed_actions(done)


def test_a_kick_needs_an_outcome_and_a_player_still_on_the_pitch() -> None:
    started = play(CUP, PENALTIES)
    with pytest.raises(RuleViolation, match="scored, saved or missed"):
        apply(started, kick("home", "hit the bar"))
    sent_off = play(CUP, [*PENALTIES[:-1], event("red_card", 140, side="home", player="Saka"), PENALTIES[-1]])
    with pytest.raises(RuleViolation, match="Saka has already been sent off"):
        apply(sent_off, kick("home", "scored", player="saka"))


def test_a_shoot_out_needs_a_first_kicker() -> None:
    with pytest.raises(RuleViolation, match="which side kicks first"):
        play(CUP, [*PENALTIES[:-1], event("penalties", 147)])


def test_kicks_are_never_goals_and_undo_takes_one_back() -> None:
    log = [*PENALTIES, *shootout("scored", "missed", "scored", "saved", "scored", "missed")]
    done = play(CUP, log)
    assert (done.home_score, done.away_score, done.goals("home"), done.goals("away")) == (0, 0, (), ())
    reopened = replay(CUP, [*log, event("undo", 200)])
    assert (reopened.status, reopened.decided_by, reopened.penalty_score, reopened.next_kicker) == (
        "penalties",
        None,
        (3, 0),
        "away",
    )
    # Undo of the shoot-out's start goes back to the second half of extra time.
    assert replay(CUP, [*PENALTIES, event("undo", 200)]).status == "extra_time_second_half"


def test_the_winner_of_a_sequence_of_kicks() -> None:
    assert shootout_winner([]) is None
    assert shootout_winner([("home", True), ("away", False)] * 2 + [("home", True)]) is None
    assert shootout_winner([("home", True), ("away", False)] * 3) == "home"
    assert shootout_winner([("home", True), ("away", True)] * 6 + [("home", True), ("away", False)]) == "home"
