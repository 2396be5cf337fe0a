"""League and group tables from matches: pure functions, no I/O.

A finished match counts; with `live=True` a match underway counts too, at its current score,
and its teams' rows are flagged live. Every team in the matches given has a row, even before
it has played. Ties: the competition's tie-breakers in order; a run of head-to-head breakers
is counted only in the matches between the teams still level, and again among any that it
leaves level (FIFA's and UEFA's rule). Teams that nothing separates are ordered by name and
flagged `tied`; each row still has its own position, as printed tables number them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from livescores.calendar import TableRules, name_key, slugify
from livescores.matches import Match

Outcome = Literal["W", "D", "L"]
FORM_LENGTH = 5
HEAD_TO_HEAD = "head_to_head_"
_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    position: int
    team: str  # the team's slug
    name: str
    played: int
    won: int
    drawn: int
    lost: int
    goals_for: int
    goals_against: int
    goal_difference: int
    points: int
    form: tuple[Outcome, ...]  # the last five finished matches, most recent last
    live: bool = False  # playing now, and the table counts that match's current score
    tied: bool = False  # level with a neighbour on every tie-breaker


@dataclass(frozen=True)
class GroupTable:
    group: str
    rows: tuple[Row, ...]


@dataclass
class _Tally:
    played: int = 0
    won: int = 0
    drawn: int = 0
    lost: int = 0
    goals_for: int = 0
    goals_against: int = 0
    away_goals: int = 0

    def add(self, scored: int, conceded: int, away: bool) -> None:
        self.played += 1
        self.won += scored > conceded
        self.drawn += scored == conceded
        self.lost += scored < conceded
        self.goals_for += scored
        self.goals_against += conceded
        self.away_goals += scored if away else 0


@dataclass(frozen=True)
class _Score:
    home: str
    away: str
    home_goals: int
    away_goals: int


# What each tie-breaker compares, higher first; the head-to-head ones are these same
# measures counted in the matches between the teams level.
_MEASURES: dict[str, Callable[[_Tally, TableRules], int]] = {
    "points": lambda t, rules: t.won * rules.points_for_win + t.drawn * rules.points_for_draw,
    "goal_difference": lambda t, _: t.goals_for - t.goals_against,
    "goals_for": lambda t, _: t.goals_for,
    "wins": lambda t, _: t.won,
    "away_goals": lambda t, _: t.away_goals,
}


def _measure(breaker: str) -> Callable[[_Tally, TableRules], int]:
    measure = _MEASURES.get(breaker.removeprefix(HEAD_TO_HEAD))
    if measure is None:
        raise ValueError(f"Unknown tie-breaker {breaker!r}.")
    return measure


def _slug(match: Match, home: bool) -> str:
    if home:
        return match.home_slug or slugify(match.home)
    return match.away_slug or slugify(match.away)


def _counts(match: Match, live: bool) -> bool:
    return match.status == "full_time" or (live and match.underway)


def _tally(scores: Iterable[_Score]) -> dict[str, _Tally]:
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    for score in scores:
        tallies[score.home].add(score.home_goals, score.away_goals, away=False)
        tallies[score.away].add(score.away_goals, score.home_goals, away=True)
    return tallies


def _split(block: list[str], key: Callable[[str], tuple[int, ...]]) -> list[list[str]]:
    """The block in order of `key`, highest first, as runs of teams with equal keys."""
    runs: list[list[str]] = []
    for team in sorted(block, key=key, reverse=True):
        if runs and key(runs[-1][0]) == key(team):
            runs[-1].append(team)
        else:
            runs.append([team])
    return runs


def _head_to_head(block: list[str], scores: list[_Score], run: Sequence[str], rules: TableRules) -> list[list[str]]:
    if len(block) < 2:
        return [block]
    members = set(block)
    among = _tally(score for score in scores if score.home in members and score.away in members)
    measures = [_measure(breaker) for breaker in run]
    runs = _split(block, lambda team: tuple(measure(among[team], rules) for measure in measures))
    if len(runs) == 1:
        return runs
    # Teams the mini-table leaves level are compared again among themselves alone.
    return [part for level in runs for part in _head_to_head(level, scores, run, rules)]


def _keyed(
    tallies: dict[str, _Tally], measure: Callable[[_Tally, TableRules], int], rules: TableRules
) -> Callable[[str], tuple[int, ...]]:
    return lambda team: (measure(tallies[team], rules),)


def _rank(teams: list[str], scores: list[_Score], rules: TableRules) -> list[list[str]]:
    overall = _tally(scores)
    blocks = [teams]
    breakers = list(rules.tie_breakers)
    i = 0
    while i < len(breakers):
        if breakers[i].startswith(HEAD_TO_HEAD):
            end = i
            while end < len(breakers) and breakers[end].startswith(HEAD_TO_HEAD):
                end += 1
            run = breakers[i:end]
            blocks = [part for block in blocks for part in _head_to_head(block, scores, run, rules)]
            i = end
        else:
            overall_key = _keyed(overall, _measure(breakers[i]), rules)
            blocks = [part for block in blocks for part in _split(block, overall_key)]
            i += 1
    return blocks


def table(matches: Iterable[Match], rules: TableRules, live: bool = False) -> tuple[Row, ...]:
    """One table of every team in `matches`, ranked by `rules`."""
    games = sorted(matches, key=lambda match: (match.kickoff or _EARLIEST, match.id))
    names: dict[str, str] = {}
    scores: list[_Score] = []
    form: dict[str, list[Outcome]] = defaultdict(list)
    playing: set[str] = set()
    for match in games:
        home, away = _slug(match, True), _slug(match, False)
        names.setdefault(home, match.home)
        names.setdefault(away, match.away)
        if not _counts(match, live):
            continue
        scores.append(_Score(home, away, match.home_score, match.away_score))
        if match.underway:
            playing.update((home, away))
            continue
        for team, scored, conceded in (
            (home, match.home_score, match.away_score),
            (away, match.away_score, match.home_score),
        ):
            form[team].append("W" if scored > conceded else "D" if scored == conceded else "L")
    alphabetical = sorted(names, key=lambda team: (name_key(names[team]), team))
    tallies = _tally(scores)
    points = _measure("points")
    rows: list[Row] = []
    for block in _rank(alphabetical, scores, rules):
        for team in block:
            t = tallies[team]
            rows.append(
                Row(
                    len(rows) + 1,
                    team,
                    names[team],
                    t.played,
                    t.won,
                    t.drawn,
                    t.lost,
                    t.goals_for,
                    t.goals_against,
                    t.goals_for - t.goals_against,
                    points(t, rules),
                    tuple(form[team][-FORM_LENGTH:]),
                    team in playing,
                    len(block) > 1,
                )
            )
    return tuple(rows)


def _natural(text: str) -> tuple[tuple[int, str], ...]:
    """ "Group 2" before "Group 10"."""
    return tuple((int(part), "") if part.isdigit() else (-1, part.casefold()) for part in re.split(r"(\d+)", text))


def group_tables(matches: Iterable[Match], rules: TableRules, live: bool = False) -> tuple[GroupTable, ...]:
    """A table per group, in group order, from the matches that have a group (the group stage)."""
    groups: dict[str, list[Match]] = defaultdict(list)
    for match in matches:
        if match.group is not None:
            groups[match.group].append(match)
    return tuple(GroupTable(group, table(groups[group], rules, live)) for group in sorted(groups, key=_natural))


def table_changes(before: Sequence[Row], after: Sequence[Row]) -> tuple[Row, ...]:
    """The rows of `after` that differ from the same team's row in `before` (or are new), in
    table order: what a page needs to be sent when a score changes."""
    earlier = {row.team: row for row in before}
    return tuple(row for row in after if earlier.get(row.team) != row)
