"""The match clock as football shows it, and the score with what it needs beside it."""

from __future__ import annotations

from datetime import datetime

from .model import Event, Match, Minute
from .said import N_
from .statuses import PERIOD_STARTS, PERIODS, RuleViolation, Status
from .ties import aggregate

MAX_ADDED_MINUTES = 30


def current_minute(match: Match, now: datetime) -> Minute | None:
    """The running clock of a half in play, None when the ball is not rolling. It stops at the
    most added time the rules accept, so a half nobody ends still takes events."""
    if not match.in_play or match.period_started_at is None:
        return None
    offset, length = PERIODS[match.status]
    elapsed = max(0, int((now - match.period_started_at).total_seconds() // 60))
    minute = offset + elapsed + 1
    end = offset + length
    return Minute(end, min(minute - end, MAX_ADDED_MINUTES)) if minute > end else Minute(minute)


def half_ends_at(match: Match, now: datetime) -> Minute | None:
    """The clock's minute, or the latest minute recorded in this half if that is later: a
    scorer's minutes follow the referee's watch, which the server's clock only approximates."""
    clock = current_minute(match, now)
    starts = [i for i, incident in enumerate(match.incidents) if incident.kind in PERIOD_STARTS]
    in_this_half = match.incidents[starts[-1] + 1 :] if starts else match.incidents
    recorded = [incident.minute for incident in in_this_half if incident.minute is not None and incident.kind != "var"]
    latest = max(recorded, key=lambda minute: minute.order, default=None)
    if clock is None or (latest is not None and latest.order > clock.order):
        return latest
    return clock


def clock_label(match: Match, now: datetime) -> str:
    """The row's clock as football shows it: 37', 105+2', HT, ET HT, Pens, FT, AET, P–P..."""  # noqa: RUF002
    minute = current_minute(match, now)
    if minute is not None:
        return str(minute)
    if match.status == "full_time":
        return {"penalties": "Pens", "extra_time": "AET"}.get(match.decided_by or "", "FT")
    return {
        "half_time": "HT",
        "extra_time_break": "ET HT",
        "penalties": "Pens",
        "postponed": "P–P",
        "suspended": "Susp",
        "abandoned": "Aban",
        "awarded": "Awd",
        "cancelled": "Canc",
    }.get(match.status, "")


def added_time_label(match: Match) -> str | None:
    """The added time announced for the period being played ("+4"), shown while it runs."""
    return f"+{match.added_time}" if match.in_play and match.added_time else None


def score_extras(match: Match) -> tuple[str, ...]:
    """What a score needs beside it: the aggregate of a second leg, a shoot-out's score."""
    extras: list[str] = []
    total = aggregate(match)
    if total is not None:
        extras.append(f"agg {total[0]}–{total[1]}")
    pens = match.penalty_score
    if pens is not None:
        extras.append(f"{pens[0]}–{pens[1]} pens")
    return tuple(extras)


def score_line(match: Match) -> str:
    """The score as a result reads: "3–3, 4–2 pens", "1–1, agg 3–2"."""  # noqa: RUF002
    return ", ".join((f"{match.home_score}–{match.away_score}", *score_extras(match)))


def check_minute(match: Match, minute: Minute, status: Status | None = None) -> None:
    """A minute that belongs to the period being played (or the one named)."""
    offset, length = PERIODS[status or match.status]
    first, last = offset + 1, offset + length
    if not first <= minute.base <= last:
        raise RuleViolation(
            N_("The minute must be between %(first)s and %(last)s in this half.", first=first, last=last)
        )
    if minute.added and minute.base != last:
        raise RuleViolation(N_("Added time only follows the %(last)sth minute.", last=last))
    if not 0 <= minute.added <= MAX_ADDED_MINUTES:
        raise RuleViolation(N_("Added time must be between 0 and %(most)s minutes.", most=MAX_ADDED_MINUTES))


def event_minute(match: Match, event: Event) -> Minute:
    """The minute an event in play happened, checked against the half being played."""
    minute = event.minute or current_minute(match, event.at)
    if minute is None:  # a rule, not an assertion: it must hold under `python -O` too
        raise RuleViolation(N_("The ball is not in play: give the minute it happened."))
    check_minute(match, minute)
    return minute
