"""The rules of a match, without I/O: every event, every refusal, replay and the clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from livescores.matches import (
    MAX_NAME_LENGTH,
    Event,
    EventKind,
    Match,
    Minute,
    RuleViolation,
    apply,
    clean_name,
    clock_label,
    current_minute,
    fill_minute,
    replay,
)

T0 = datetime(2025, 8, 16, 14, 0, tzinfo=UTC)
FIXTURE = Match("m1", "Arsenal", "Chelsea")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def event(kind: EventKind, minutes: float = 0, **fields: object) -> Event:
    return Event(kind, at(minutes), **fields)  # type: ignore[arg-type]


KICK_OFF = event("kick_off")
FIRST_HALF = [KICK_OFF]
SECOND_HALF = [KICK_OFF, event("half_time", 46.5), event("second_half", 62)]


def play(events: list[Event]) -> Match:
    return replay(FIXTURE, events)


# -- status and clock -----------------------------------------------------------------------


def test_a_whole_match_in_order() -> None:
    match = play([*SECOND_HALF, event("full_time", 109)])
    assert match.status == "full_time"
    assert match.version == 4
    assert [i.kind for i in match.incidents] == ["kick_off", "half_time", "second_half", "full_time"]
    assert match.incidents[1].minute == Minute(45, 2)  # half-time blown at 45+2'
    assert match.incidents[3].minute == Minute(90, 3)  # 48 minutes after the restart


@pytest.mark.parametrize(
    ("log", "kind", "message"),
    [
        ([], "half_time", "half-time while the match is not started"),
        ([], "second_half", "second half while the match is not started"),
        ([], "full_time", "full-time while the match is not started"),
        (FIRST_HALF, "kick_off", "kick-off while the match is in the first half"),
        (FIRST_HALF, "second_half", "second half while the match is in the first half"),
        (FIRST_HALF, "full_time", "full-time while the match is in the first half"),
        (SECOND_HALF[:2], "half_time", "half-time while the match is at half-time"),
        (SECOND_HALF, "kick_off", "kick-off while the match is in the second half"),
        ([*SECOND_HALF, event("full_time", 110)], "kick_off", "kick-off while the match is over"),
    ],
)
def test_status_changes_only_in_order(log: list[Event], kind: EventKind, message: str) -> None:
    before = play(log)
    with pytest.raises(RuleViolation, match=message):
        apply(before, event(kind, 120))


def test_the_clock_runs_only_while_a_half_is_played() -> None:
    assert clock_label(FIXTURE, at(0)) == ""
    first = play(FIRST_HALF)
    assert clock_label(first, at(0)) == "1'"
    assert clock_label(first, at(36.5)) == "37'"
    assert clock_label(first, at(44.99)) == "45'"
    assert clock_label(first, at(46.2)) == "45+2'"
    assert clock_label(play(SECOND_HALF[:2]), at(50)) == "HT"
    second = play(SECOND_HALF)
    assert clock_label(second, at(62)) == "46'"
    assert clock_label(second, at(62 + 47.5)) == "90+3'"
    assert clock_label(play([*SECOND_HALF, event("full_time", 110)]), at(200)) == "FT"


def test_the_clock_stops_at_the_most_added_time_allowed() -> None:
    first = play(FIRST_HALF)
    assert current_minute(first, at(60 * 24)) == Minute(45, 30)
    assert apply(first, event("goal", 60 * 24, side="home")).incidents[-1].minute == Minute(45, 30)


def test_minutes_show_added_time_as_football_does() -> None:
    assert str(Minute(37)) == "37'"
    assert str(Minute(45, 2)) == "45+2'"
    assert str(Minute(90, 0)) == "90'"


# -- goals and cards ------------------------------------------------------------------------


def test_a_goal_with_scorer_minute_and_flags() -> None:
    match = play(
        [*FIRST_HALF, event("goal", 20, side="away", player="  Cole  Palmer ", minute=Minute(12), penalty=True)]
    )
    assert (match.home_score, match.away_score) == (0, 1)
    goal = match.goals("away")[0]
    assert (goal.player, goal.minute, goal.penalty, goal.own_goal) == ("Cole Palmer", Minute(12), True, False)
    assert match.summary(goal) == "Goal, Chelsea: Cole Palmer 12' (pen)"


def test_a_goal_without_a_minute_takes_the_match_clock() -> None:
    match = play([*SECOND_HALF, event("goal", 62 + 30.2, side="home")])
    assert match.goals("home")[0].minute == Minute(76)
    assert match.goals("home")[0].player is None


def test_fill_minute_fixes_the_clock_minute_into_the_event() -> None:
    first = play(FIRST_HALF)
    assert fill_minute(first, event("red_card", 9.5, side="home")).minute == Minute(10)
    assert fill_minute(first, event("goal", 9.5, side="home", minute=Minute(3))).minute == Minute(3)
    assert fill_minute(first, event("half_time", 50)).minute is None


def test_cards_are_kept_and_red_cards_listed() -> None:
    match = play(
        [
            *FIRST_HALF,
            event("yellow_card", 5, side="home", player="Rice"),
            event("red_card", 30, side="away", player="James", minute=Minute(29)),
        ]
    )
    assert [i.kind for i in match.incidents] == ["kick_off", "yellow_card", "red_card"]
    assert match.red_cards("away")[0].player == "James"
    assert match.red_cards("home") == ()
    assert match.home_score == match.away_score == 0


@pytest.mark.parametrize("kind", ["goal", "yellow_card", "red_card"])
@pytest.mark.parametrize(
    ("log", "state"),
    [([], "not started"), (SECOND_HALF[:2], "at half-time"), ([*SECOND_HALF, event("full_time", 110)], "over")],
)
def test_goals_and_cards_only_while_the_ball_is_in_play(log: list[Event], state: str, kind: EventKind) -> None:
    with pytest.raises(RuleViolation, match=f"The match is {state}: goals and cards need the ball in play"):
        apply(play(log), event(kind, 120, side="home"))


@pytest.mark.parametrize(
    ("log", "minute", "message"),
    [
        (FIRST_HALF, Minute(46), "between 1 and 45 in this half"),
        (FIRST_HALF, Minute(0), "between 1 and 45 in this half"),
        (FIRST_HALF, Minute(30, 2), "Added time only follows the 45th minute"),
        (FIRST_HALF, Minute(45, 31), "Added time must be between 0 and 30"),
        (SECOND_HALF, Minute(45), "between 46 and 90 in this half"),
        (SECOND_HALF, Minute(45, 2), "between 46 and 90 in this half"),
        (SECOND_HALF, Minute(91), "between 46 and 90 in this half"),
        (SECOND_HALF, Minute(89, 1), "Added time only follows the 90th minute"),
    ],
)
def test_the_minute_must_be_within_the_half(log: list[Event], minute: Minute, message: str) -> None:
    before = play(log)
    for kind in ("goal", "red_card"):
        with pytest.raises(RuleViolation, match=message):
            apply(before, event(kind, 70, side="home", minute=minute))  # type: ignore[arg-type]
    ended = "half_time" if before.status == "first_half" else "full_time"
    with pytest.raises(RuleViolation, match=message):
        apply(before, event(ended, 70, minute=minute))  # type: ignore[arg-type]


def test_the_minute_bounds_themselves_are_accepted() -> None:
    first = play(FIRST_HALF)
    for minute in (Minute(1), Minute(45), Minute(45, 30)):
        assert apply(first, event("goal", 3, side="home", minute=minute)).incidents[-1].minute == minute
    second = play(SECOND_HALF)
    for minute in (Minute(46), Minute(90), Minute(90, 7)):
        assert apply(second, event("goal", 70, side="away", minute=minute)).incidents[-1].minute == minute


def test_the_side_must_be_home_or_away() -> None:
    with pytest.raises(RuleViolation, match="home or away"):
        apply(play(FIRST_HALF), event("goal", 3, side="middle"))
    with pytest.raises(RuleViolation, match="home or away"):
        apply(play(FIRST_HALF), event("yellow_card", 3))


def test_flags_belong_to_goals_and_exclude_each_other() -> None:
    first = play(FIRST_HALF)
    with pytest.raises(RuleViolation, match="both a penalty and an own goal"):
        apply(first, event("goal", 3, side="home", penalty=True, own_goal=True))
    with pytest.raises(RuleViolation, match="Only a goal can be a penalty"):
        apply(first, event("red_card", 3, side="home", penalty=True))


def test_a_player_sent_off_takes_no_further_part() -> None:
    after_red = play([*FIRST_HALF, event("red_card", 10, side="home", player="Saka")])
    for kind in ("goal", "yellow_card", "red_card"):
        with pytest.raises(RuleViolation, match="Saka has already been sent off"):
            apply(after_red, event(kind, 12, side="home", player=" saka "))  # type: ignore[arg-type]
    # The other side's player of the same name, and unnamed events, are unaffected.
    assert apply(after_red, event("goal", 12, side="away", player="Saka")).away_score == 1
    assert apply(after_red, event("goal", 12, side="home")).home_score == 1


def test_an_own_goal_is_scored_by_a_player_of_the_other_side() -> None:
    after_red = play([*FIRST_HALF, event("red_card", 10, side="away", player="Terry")])
    # Counts for home, scored by Chelsea's Terry, who is off the pitch.
    with pytest.raises(RuleViolation, match="Terry has already been sent off"):
        apply(after_red, event("goal", 12, side="home", player="Terry", own_goal=True))
    # Arsenal's own Terry may still put one in his own net, for Chelsea.
    assert apply(after_red, event("goal", 12, side="away", player="Terry", own_goal=True)).away_score == 1


def test_a_half_ends_no_earlier_than_its_latest_recorded_minute() -> None:
    # A scorer enters the referee's minutes, which can run ahead of the server's clock.
    late = play([*FIRST_HALF, event("goal", 10, side="home", minute=Minute(45, 3)), event("half_time", 12)])
    assert late.incidents[-1].minute == Minute(45, 3)
    on_time = play([*FIRST_HALF, event("goal", 10, side="home", minute=Minute(30)), event("half_time", 46.5)])
    assert on_time.incidents[-1].minute == Minute(45, 2)
    second = play([*SECOND_HALF, event("goal", 63, side="away", minute=Minute(88)), event("full_time", 64)])
    assert second.incidents[-1].minute == Minute(88)


def test_the_timeline_is_in_match_order_whatever_order_events_were_entered() -> None:
    log = [
        *FIRST_HALF,
        event("goal", 30, side="home", minute=Minute(29)),
        event("goal", 31, side="away", minute=Minute(12)),  # entered late
        event("yellow_card", 32, side="home", minute=Minute(12)),
        event("half_time", 46.5, minute=Minute(40)),  # the half's end stays last in it
        event("second_half", 62),
        event("goal", 63, side="away", minute=Minute(46)),
    ]
    match = play(log)
    assert [(i.kind, i.minute) for i in match.timeline] == [
        ("kick_off", None),
        ("goal", Minute(12)),
        ("yellow_card", Minute(12)),
        ("goal", Minute(29)),
        ("half_time", Minute(40)),
        ("second_half", None),
        ("goal", Minute(46)),
    ]
    assert match.last_incident == match.incidents[-1]  # undo still takes back the latest entered


def test_a_second_yellow_card_is_a_sending_off() -> None:
    log = [
        *FIRST_HALF,
        event("yellow_card", 5, side="home", player="Rice"),
        event("yellow_card", 8, side="away", player="Rice"),  # the other side's Rice: a first
        event("yellow_card", 20, side="home", player=" rice "),
    ]
    match = play(log)
    booked, other, second = match.incidents[1:]
    assert (booked.kind, other.kind) == ("yellow_card", "yellow_card")
    assert (second.kind, second.second_yellow, second.player, second.minute) == ("red_card", True, "rice", Minute(21))
    assert match.red_cards("home") == (second,)
    assert match.summary(second) == "Red card (second yellow), Arsenal: rice 21'"
    with pytest.raises(RuleViolation, match="rice has already been sent off"):
        apply(match, event("goal", 25, side="home", player="Rice"))
    # Undo takes the sending-off back with the card; an unnamed yellow is never a second one.
    undone = play([*log, event("undo", 22)])
    assert undone.red_cards("home") == () and undone.incidents == match.incidents[:3]
    unnamed = play([*FIRST_HALF, event("yellow_card", 5, side="home"), event("yellow_card", 6, side="home")])
    assert [i.kind for i in unnamed.incidents[1:]] == ["yellow_card", "yellow_card"]


def test_an_unknown_event_is_refused() -> None:
    with pytest.raises(RuleViolation, match="Unknown event"):
        apply(play(FIRST_HALF), event("corner", 3, side="home"))  # type: ignore[arg-type]


def test_a_refused_event_changes_nothing() -> None:
    before = play(FIRST_HALF)
    snapshot = replace(before)
    with pytest.raises(RuleViolation):
        apply(before, event("goal", 3, side="home", minute=Minute(80)))
    assert before == snapshot
    with pytest.raises(RuleViolation):
        replay(FIXTURE, [*FIRST_HALF, event("goal", 3, side="home", minute=Minute(80))])


# -- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("  Bukayo   Saka ", "Bukayo Saka"),
        ("Søren\tKierkegaard", "Søren Kierkegaard"),
    ],
)
def test_names_are_trimmed_and_blank_means_not_given(raw: str | None, cleaned: str | None) -> None:
    assert clean_name(raw) == cleaned


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("x" * (MAX_NAME_LENGTH + 1), f"longer than {MAX_NAME_LENGTH} characters"),
        ("Saka\x00", "control characters"),
        ("Sa\x1bka", "control characters"),
        (42, "must be text"),
        (["Saka"], "must be text"),
        ("\ud800", "not valid text"),
        ("Saka\udfff", "not valid text"),
        ("\u200b\u200d", "no visible characters"),
        ("\u200e \u2066\u0301", "no visible characters"),
    ],
)
def test_bad_names_are_refused(raw: object, message: str) -> None:
    with pytest.raises(RuleViolation, match=message):
        clean_name(raw)
    with pytest.raises(RuleViolation, match=message):
        apply(play(FIRST_HALF), event("goal", 3, side="home", player=raw))


def test_names_with_joiners_and_accents_are_kept() -> None:
    assert clean_name("Zoë\u200dAnn") == "Zoë\u200dAnn"
    assert clean_name("\u05d9\u05d5\u05e1\u05d9") == "\u05d9\u05d5\u05e1\u05d9"


def test_a_name_of_exactly_the_limit_is_kept_and_markup_is_just_text() -> None:
    assert clean_name("x" * MAX_NAME_LENGTH) == "x" * MAX_NAME_LENGTH
    assert clean_name("<b>Saka</b>") == "<b>Saka</b>"  # escaped where shown, not here
    assert clean_name("y" * 60, "team", limit=80) == "y" * 60


# -- corrections -----------------------------------------------------------------------------


def test_undo_cancels_the_latest_standing_event_and_keeps_the_count() -> None:
    goal = event("goal", 20, side="home", player="Saka")
    match = play([*FIRST_HALF, goal, event("undo", 21)])
    assert match.home_score == 0
    assert match.version == 3  # the log keeps both; only the state forgets the goal
    assert [i.kind for i in match.incidents] == ["kick_off"]


def test_undos_walk_back_one_event_at_a_time() -> None:
    log = [*FIRST_HALF, event("goal", 5, side="home"), event("red_card", 6, side="away", player="James")]
    once = play([*log, event("undo", 7)])
    assert (once.home_score, once.red_cards("away")) == (1, ())
    twice = play([*log, event("undo", 7), event("undo", 8)])
    assert twice.home_score == 0 and twice.status == "first_half"
    thrice = play([*log, event("undo", 7), event("undo", 8), event("undo", 9)])
    assert thrice.status == "scheduled" and thrice.period_started_at is None


def test_undo_of_a_status_change_reopens_the_half() -> None:
    match = play([*SECOND_HALF[:2], event("undo", 48)])
    assert match.status == "first_half"
    assert apply(match, event("goal", 49, side="away")).away_score == 1


def test_undo_with_nothing_to_undo_is_refused() -> None:
    with pytest.raises(RuleViolation, match="nothing to undo"):
        play([event("undo")])
    with pytest.raises(RuleViolation, match="nothing to undo"):
        play([KICK_OFF, event("undo", 1), event("undo", 2)])


def test_undo_is_not_applied_directly() -> None:
    with pytest.raises(RuleViolation, match="resolved by replay"):
        apply(play(FIRST_HALF), event("undo", 1))


def test_last_incident_and_next_status_change_drive_the_controls() -> None:
    assert FIXTURE.last_incident is None
    assert FIXTURE.next_status_change == "kick_off"
    assert play(FIRST_HALF).next_status_change == "half_time"
    assert play(SECOND_HALF[:2]).next_status_change == "second_half"
    assert play(SECOND_HALF).next_status_change == "full_time"
    done = play([*SECOND_HALF, event("full_time", 110)])
    assert done.next_status_change is None
    assert done.last_incident is not None and done.summary(done.last_incident) == "Full-time"
