"""Every status change the rules allow and refuse, the controls they offer, and the clock's
labels: extra time, postponed, suspended, abandoned, cancelled and awarded matches."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from livescores.matches import (
    Event,
    EventKind,
    Match,
    Minute,
    RuleViolation,
    added_time_label,
    allowed_actions,
    apply,
    clock_label,
    current_minute,
    refusal,
    replay,
    score_line,
)
from tests.rules_support import (
    CUP,
    ET_SECOND_HALF,
    EXTRA_TIME,
    FIRST_HALF,
    LEAGUE,
    SECOND_HALF,
    T0,
    at,
    event,
    goal,
    play,
)


@pytest.mark.parametrize(
    ("log", "allowed"),
    [
        ([], ("kick_off", "lineup", "postpone", "cancel", "award")),
        (FIRST_HALF, ("half_time", "goal", "yellow_card", "red_card", "penalty_missed", "var", "added_time",
                      "substitution", "lineup", "suspend", "abandon", "undo")),
        (SECOND_HALF[:2], ("second_half", "substitution", "lineup", "suspend", "abandon", "undo")),
        (SECOND_HALF, ("extra_time", "goal", "yellow_card", "red_card", "penalty_missed", "var", "added_time",
                       "substitution", "lineup", "suspend", "abandon", "undo")),
        ([*EXTRA_TIME, event("suspend", 113)],
         ("lineup", "resume", "abandon", "award", "undo")),
        (ET_SECOND_HALF[:-1], ("extra_time_second_half", "substitution", "lineup", "suspend", "abandon", "undo")),
        (ET_SECOND_HALF, ("penalties", "goal", "yellow_card", "red_card", "penalty_missed", "var", "added_time",
                          "substitution", "lineup", "suspend", "abandon", "undo")),
    ],
)  # fmt: skip
def test_the_controls_offer_only_what_the_rules_allow_next(log: list[Event], allowed: tuple[str, ...]) -> None:
    match = play(CUP, log)
    assert allowed_actions(match) == allowed
    for kind in ("kick_off", "half_time", "second_half", "extra_time", "extra_time_half_time",
                 "extra_time_second_half", "penalties", "full_time", "postpone", "suspend", "resume", "abandon",
                 "cancel", "award"):  # fmt: skip
        reason = refusal(match, kind)  # type: ignore[arg-type]
        assert (reason is None) == (kind in allowed), kind
        if reason is not None:
            with pytest.raises(RuleViolation) as refused:
                apply(match, event(kind, 200, side="home", home_score=3, away_score=0))  # type: ignore[arg-type]
            assert str(refused.value) == reason


def test_a_knockout_match_level_after_ninety_minutes_goes_to_extra_time() -> None:
    level = play(CUP, SECOND_HALF)
    assert refusal(level, "full_time") == (
        "The score is level in a knockout match: play extra time, or go to penalties after it."
    )
    assert level.next_status_change == "extra_time"
    extra = play(CUP, [*EXTRA_TIME])
    assert (extra.status, extra.incidents[-1].minute) == ("extra_time_first_half", Minute(90, 6))
    assert clock_label(extra, at(112)) == "91'"
    assert clock_label(extra, at(112 + 14.5)) == "105'"
    assert clock_label(extra, at(112 + 16.5)) == "105+2'"
    brk = play(CUP, ET_SECOND_HALF[:-1])
    assert (brk.status, clock_label(brk, at(129))) == ("extra_time_break", "ET HT")
    second = play(CUP, ET_SECOND_HALF)
    assert clock_label(second, at(130)) == "106'"
    assert clock_label(second, at(130 + 17.5)) == "120+3'"
    assert current_minute(second, at(130 + 600)) == Minute(120, 30)


def test_a_knockout_match_won_in_extra_time_ends_after_extra_time() -> None:
    won = play(CUP, [*ET_SECOND_HALF, goal("away", 112), event("full_time", 145.5)])
    assert (won.status, won.decided_by, won.winner, clock_label(won, at(300))) == (
        "full_time", "extra_time", "away", "AET",
    )  # fmt: skip
    assert won.incidents[-1].minute == Minute(120, 1)
    assert refusal(play(CUP, ET_SECOND_HALF), "penalties") is None
    assert refusal(play(CUP, [*ET_SECOND_HALF, goal("away", 112)]), "penalties") == (
        "A penalty shoot-out is played only when the score is level."
    )


def test_a_knockout_match_won_in_ninety_minutes_needs_no_extra_time() -> None:
    won = play(CUP, [*SECOND_HALF, goal("home", 70), event("full_time", 110)])
    assert (won.decided_by, won.winner, clock_label(won, at(200))) == ("normal_time", "home", "FT")
    with pytest.raises(RuleViolation, match="Extra time is played only when the score is level"):
        play(CUP, [*SECOND_HALF, goal("home", 70), event("extra_time", 110)])


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        (LEAGUE, "A league match cannot go to extra time"),
        (replace(CUP, round="Group C", group="Group C", competition_format="groups_then_knockout"),
         "A group-stage match cannot go to extra time"),
        (replace(CUP, round="Matchday 3", competition_format=None), "A league match cannot go to extra time"),
        (replace(CUP, leg=1), "A first leg cannot go to extra time"),
        (Match("x", "A", "B"), "Only a knockout match can go to extra time"),
    ],
)  # fmt: skip
def test_a_match_that_may_end_level_cannot_go_to_extra_time(fixture: Match, message: str) -> None:
    level = play(fixture, SECOND_HALF)
    with pytest.raises(RuleViolation, match=message):
        apply(level, event("extra_time", 110))
    ended = apply(level, event("full_time", 110))
    assert (ended.status, ended.decided_by, ended.winner) == ("full_time", "normal_time", None)


def test_the_announced_added_time_shows_while_its_half_runs() -> None:
    first = play(CUP, [*FIRST_HALF, event("added_time", 44, minutes=3)])
    assert (added_time_label(first), first.incidents[-1].minute) == ("+3", Minute(45))
    corrected = apply(first, event("added_time", 46, minutes=4))
    assert added_time_label(corrected) == "+4"
    assert (
        added_time_label(play(CUP, [*FIRST_HALF, event("added_time", 44, minutes=3), event("half_time", 48)])) is None
    )
    second = play(CUP, [*FIRST_HALF, event("added_time", 44, minutes=3), *SECOND_HALF[1:]])
    assert added_time_label(second) is None  # announced for the first half only
    for minutes in (0, 31, None):
        with pytest.raises(RuleViolation, match="between 1 and 30"):
            apply(first, event("added_time", 45, minutes=minutes))
    with pytest.raises(RuleViolation, match="at half-time: added time is announced while a half is played"):
        play(CUP, [*SECOND_HALF[:2], event("added_time", 48, minutes=2)])


def test_a_postponed_match_without_a_new_date_stays_on_its_day() -> None:
    postponed = play(LEAGUE, [event("postpone", -60)])
    assert (postponed.status, postponed.kickoff, postponed.postponed_from) == ("postponed", T0, None)
    assert clock_label(postponed, at(0)) == "P–P"
    assert refusal(postponed, "kick_off") == "The match is postponed: give it a new kick-off time first."
    cancelled = apply(postponed, event("cancel", 10))
    assert (cancelled.status, clock_label(cancelled, at(10))) == ("cancelled", "Canc")


def test_a_postponed_match_with_a_new_kick_off_is_scheduled_then() -> None:
    later = T0 + timedelta(days=3, hours=5)
    moved = play(LEAGUE, [event("postpone", -60, kickoff=later)])
    assert (moved.status, moved.kickoff, moved.postponed_from) == ("scheduled", later, T0)
    assert moved.fixture.kickoff == T0  # a replay starts again from the kick-off first planned
    assert replay(moved, [event("postpone", -60, kickoff=later)]) == moved
    # Moved twice: postponed_from keeps the first.
    again = apply(moved, event("postpone", -30, kickoff=later + timedelta(days=7)))
    assert (again.kickoff, again.postponed_from) == (later + timedelta(days=7), T0)
    # Undo brings the original kick-off back.
    assert replay(LEAGUE, [event("postpone", -60, kickoff=later), event("undo", -59)]).kickoff == T0
    with pytest.raises(RuleViolation, match="already planned"):
        apply(moved, event("postpone", -30, kickoff=later))
    with pytest.raises(RuleViolation, match="carry a timezone"):
        apply(moved, event("postpone", -30, kickoff=later.replace(tzinfo=None)))
    with pytest.raises(RuleViolation, match="Only a match that has not kicked off can be postponed"):
        play(LEAGUE, [*FIRST_HALF, event("postpone", 10, kickoff=later)])


def test_a_suspended_match_resumes_with_its_clock_where_it_stopped() -> None:
    suspended = play(LEAGUE, [*SECOND_HALF, goal("home", 60), event("suspend", 62 + 20)])  # in the 66th minute
    assert (suspended.status, suspended.incidents[-1].minute, clock_label(suspended, at(90))) == (
        "suspended", Minute(66), "Susp",
    )  # fmt: skip
    assert suspended.underway and not suspended.in_play
    with pytest.raises(RuleViolation, match="goals and cards need the ball in play"):
        apply(suspended, event("goal", 90, side="home"))
    resumed = apply(suspended, event("resume", 62 + 20 + 30))  # half an hour later
    assert resumed.status == "second_half"
    assert clock_label(resumed, at(62 + 20 + 30)) == "66'"
    assert replay(LEAGUE, [*SECOND_HALF, goal("home", 60), event("suspend", 82), event("resume", 112)]) == resumed


def test_a_suspended_match_can_be_abandoned_and_then_awarded() -> None:
    log = [*SECOND_HALF, goal("away", 60), event("suspend", 82), event("abandon", 120)]
    abandoned = play(LEAGUE, log)
    assert (abandoned.status, clock_label(abandoned, at(200)), abandoned.underway, abandoned.over) == (
        "abandoned", "Aban", False, True,
    )  # fmt: skip
    assert abandoned.score("away") == 1
    awarded = apply(abandoned, event("award", 2000, home_score=3, away_score=0, note="  Crowd   trouble "))
    assert (awarded.status, awarded.decided_by, awarded.award_note, awarded.winner) == (
        "awarded", "awarded", "Crowd trouble", "home",
    )  # fmt: skip
    assert (score_line(awarded), clock_label(awarded, at(3000))) == ("3–0", "Awd")
    assert awarded.goals("away")[0].minute == Minute(60)  # the goal still happened
    assert awarded.summary(awarded.incidents[-1]) == "Awarded 3–0: Crowd trouble"
    undone = replay(LEAGUE, [*log, event("award", 2000, home_score=3, away_score=0), event("undo", 2001)])
    assert replace(undone, version=abandoned.version) == abandoned


def test_an_award_needs_both_scores_and_not_a_match_in_play() -> None:
    with pytest.raises(RuleViolation, match="both sides a score from 0 to 99"):
        apply(LEAGUE, event("award", 0, home_score=3))
    with pytest.raises(RuleViolation, match="both sides a score from 0 to 99"):
        apply(LEAGUE, event("award", 0, home_score=100, away_score=0))
    with pytest.raises(RuleViolation, match="suspend or abandon it"):
        play(LEAGUE, [*FIRST_HALF, event("award", 10, home_score=3, away_score=0)])
    with pytest.raises(RuleViolation, match="already been awarded"):
        play(LEAGUE, [event("award", 0, home_score=3, away_score=0), event("award", 1, home_score=0, away_score=3)])
    # After full-time the organisers may still change the result.
    full = play(LEAGUE, [*SECOND_HALF, event("full_time", 110)])
    assert apply(full, event("award", 2000, home_score=0, away_score=3)).status == "awarded"


def test_cancelling_is_for_matches_not_started() -> None:
    with pytest.raises(RuleViolation, match="abandoned, not cancelled"):
        play(LEAGUE, [*FIRST_HALF, event("cancel", 10)])
    assert play(LEAGUE, [event("cancel", -10)]).status == "cancelled"


@pytest.mark.parametrize(
    "kind",
    ["extra_time", "extra_time_half_time", "extra_time_second_half", "penalties", "postpone", "suspend", "resume",
     "abandon", "cancel", "award"],
)  # fmt: skip
def test_undo_of_every_status_change_restores_the_match_before_it(kind: EventKind) -> None:
    logs: dict[str, list[Event]] = {
        "extra_time": EXTRA_TIME,
        "extra_time_half_time": ET_SECOND_HALF[:-1],
        "extra_time_second_half": ET_SECOND_HALF,
        "penalties": [*ET_SECOND_HALF, event("penalties", 147, side="away")],
        "postpone": [event("postpone", -60, kickoff=T0 + timedelta(days=1))],
        "suspend": [*FIRST_HALF, event("suspend", 20)],
        "resume": [*FIRST_HALF, event("suspend", 20), event("resume", 30)],
        "abandon": [*FIRST_HALF, event("abandon", 20)],
        "cancel": [event("cancel", -60)],
        "award": [event("award", -60, home_score=0, away_score=3)],
    }
    log = logs[kind]
    assert log[-1].kind == kind
    undone = replay(CUP, [*log, event("undo", 300)])
    assert replace(undone, version=0) == replace(replay(CUP, log[:-1]), version=0)
    assert undone.version == len(log) + 1


def test_a_result_without_details_is_for_a_match_not_yet_played_and_no_scorers_action() -> None:
    from datetime import UTC, datetime

    from livescores.matches import Event, Match, RuleViolation, apply
    from livescores.messages import InvalidMessage, parse_command

    at = datetime(2014, 5, 24, 18, 45, tzinfo=UTC)
    fixture = Match("final", "Real Madrid", "Atlético Madrid", at, round="Final")
    done = apply(fixture, Event("result", at, home_score=4, away_score=1, minutes=120))
    assert (done.status, done.home_score, done.away_score, done.decided_by) == ("full_time", 4, 1, "extra_time")
    with pytest.raises(RuleViolation, match="only recorded for a match not yet played"):
        apply(apply(fixture, Event("kick_off", at)), Event("result", at, home_score=1, away_score=0))
    with pytest.raises(RuleViolation, match="after 90 or 120 minutes"):
        apply(fixture, Event("result", at, home_score=1, away_score=0, minutes=100))
    with pytest.raises(InvalidMessage, match="Unknown action"):
        parse_command('{"action": "result", "match": "final", "home_score": 9, "away_score": 0}', 4096)
