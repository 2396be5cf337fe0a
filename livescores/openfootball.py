"""openfootball's JSON files read into plain data, and a past result told as a match's events.

Two shapes, told apart by content: `{"name", "rounds": [{"name", "matches": [...]}]}` and
`{"name", "matches": [{"round", ...}]}`; the World Cup files add scorers (`goals1`, `goals2`),
groups and grounds. A file is read whole or not at all: every problem found is reported with
its JSON path, and nothing partial is returned.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from livescores.calendar import (
    FIFA_GROUP_ORDER,
    LEAGUE_ORDER,
    Competition,
    Format,
    TableRules,
    Team,
    TieBreaker,
    new_competition,
    new_team,
    split_season,
)
from livescores.matches import HALF_MINUTES, MAX_ADDED_MINUTES, Minute, Side

DATA = Path(__file__).parent / "data" / "openfootball"
# The zone of each shipped file's times written without an offset (Brazil's all carry one).
SHIPPED: dict[str, str] = {
    "football.json/2013-14/en.1.json": "Europe/London",
    "football.json/2013-14/en.2.json": "Europe/London",
    "football.json/2013-14/uefa.cl.json": "Europe/Paris",
    "worldcup.json/2014/worldcup.json": "America/Sao_Paulo",
    "worldcup.json/2022/worldcup.json": "Asia/Qatar",
}
# UEFA's group stage ranks by the matches between the teams level on points before goal
# difference overall. Its next criterion, away goals between them, is not a calendar tie-breaker
# yet, so two teams level on everything else fall to overall goal difference here.
UEFA_GROUP_ORDER: tuple[TieBreaker, ...] = (
    "points",
    "head_to_head_points",
    "head_to_head_goal_difference",
    "head_to_head_goals_for",
    "goal_difference",
    "goals_for",
)
UNTIMED_KICKOFF = time(15, 0)  # the traditional Saturday kick-off, for a date without a time
FULL_MINUTES = 2 * HALF_MINUTES
LAST_MINUTE = FULL_MINUTES + 30  # the end of extra time
AWAY_GOALS_ABOLISHED = 2021  # UEFA's first season without away goals deciding a tie

Score = tuple[int, int]
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?:\s*UTC\s*([+-])(\d{1,2})(?::?(\d{2}))?)?")
_GROUP = re.compile(r"(?:group\s*)?([a-z0-9]{1,2})", re.IGNORECASE)
_COUNTRY = re.compile(r"\s*\([A-Z]{3}\)$")  # "Real Madrid (ESP)" in the Champions League


class OpenFootballError(ValueError):
    """A file that cannot be read as a whole; `problems` name each JSON path at fault."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


@dataclass(frozen=True)
class Goal:
    scorer: str
    minute: Minute
    side: Side  # the side the goal counts for; an own goal's scorer plays for the other
    penalty: bool = False
    own_goal: bool = False

    @property
    def in_extra_time(self) -> bool:
        return self.minute.base > FULL_MINUTES


@dataclass(frozen=True)
class Result:
    full_time: Score  # after 90 minutes
    half_time: Score | None = None  # as the file writes it, even where its goal minutes disagree
    extra_time: Score | None = None  # after 120 minutes, the first 90 included
    penalties: Score | None = None  # the shoot-out, whose kicks are not goals
    goals: tuple[Goal, ...] | None = None  # in match order; None when the file names no scorers

    @property
    def final(self) -> Score:
        return self.extra_time or self.full_time


@dataclass(frozen=True)
class Fixture:
    number: int  # 1-based, in the file's order
    path: str  # where the file has it, e.g. "rounds[3].matches[2]"
    round: str
    kickoff: datetime  # aware
    home: str  # as the file writes it
    away: str
    group: str | None = None  # "Group A"
    leg: int | None = None  # 1 or 2 in a two-legged tie
    venue: str | None = None
    result: Result | None = None


@dataclass(frozen=True)
class Season:
    """One file: the competition, its fixtures in the file's order and its teams."""

    competition: Competition
    fixtures: tuple[Fixture, ...]
    teams: tuple[Team, ...]  # by name; a file's spelling is the name or one of the aliases

    def team(self, written: str) -> Team:
        """The team a name in the file stands for; KeyError for a name the file never uses."""
        for team in self.teams:
            if written == team.name or written in team.aliases:
                return team
        raise KeyError(written)


# -- reading ------------------------------------------------------------------------------


def load(path: str | Path, zone: ZoneInfo) -> Season:
    """Read one file; `zone` is the local time of kick-offs written without an offset."""
    source = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise OpenFootballError(source, [f"(file): {error}"]) from error
    return parse(data, zone, source)


def load_shipped(relative: str) -> Season:
    """A file shipped in `livescores/data/openfootball`, read in its own local time."""
    return load(DATA / relative, ZoneInfo(SHIPPED[relative]))


def parse(data: object, zone: ZoneInfo, source: str = "<data>") -> Season:
    """Kick-offs: a time with an offset ("16:00 UTC-3") is at that offset, one without is in
    `zone`, and a date without a time is at 15:00 in `zone`."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise OpenFootballError(source, ["(file): not a JSON object"])
    name = _text(data, "name", "name", problems)
    raw_matches: list[tuple[str, str | None, object]] = []
    if isinstance(data.get("rounds"), list):
        for r, raw_round in enumerate(data["rounds"]):
            where = f"rounds[{r}]"
            if not isinstance(raw_round, dict):
                problems.append(f"{where}: not an object")
                continue
            round_name = _text(raw_round, "name", f"{where}.name", problems)
            matches = raw_round.get("matches")
            if not isinstance(matches, list):
                problems.append(f"{where}.matches: missing or not a list")
                continue
            raw_matches += [(f"{where}.matches[{m}]", round_name, raw) for m, raw in enumerate(matches)]
    elif isinstance(data.get("matches"), list):
        raw_matches = [(f"matches[{m}]", None, raw) for m, raw in enumerate(data["matches"])]
    else:
        problems.append("(file): neither a list of rounds nor a list of matches")
    fixtures = [
        _fixture(n, path, round_name, raw, zone, problems) for n, (path, round_name, raw) in enumerate(raw_matches, 1)
    ]
    if problems or name is None:
        raise OpenFootballError(source, problems)
    complete = _with_legs([fixture for fixture in fixtures if fixture is not None])
    return Season(_competition(name, complete), complete, _teams(complete))


def _fixture(
    number: int, path: str, round_name: str | None, raw: object, zone: ZoneInfo, problems: list[str]
) -> Fixture | None:
    if not isinstance(raw, dict):
        problems.append(f"{path}: not an object")
        return None
    before = len(problems)
    if round_name is None:
        round_name = _text(raw, "round", f"{path}.round", problems)
    home = _team_name(raw, "team1", path, problems)
    away = _team_name(raw, "team2", path, problems)
    kickoff = _kickoff(raw, path, zone, problems)
    group = None
    if raw.get("group") is not None:
        written = _text(raw, "group", f"{path}.group", problems)
        group = _group_name(written) if written else None
    elif round_name and re.fullmatch(r"group\s+\S+", round_name.strip(), re.IGNORECASE):
        group = _group_name(round_name)
    venue = _text(raw, "ground", f"{path}.ground", problems) if raw.get("ground") is not None else None
    result = _result(raw, path, problems)
    if len(problems) > before or round_name is None or home is None or away is None or kickoff is None:
        return None
    return Fixture(number, path, round_name, kickoff, home, away, group, None, venue, result)


def _text(raw: dict[str, Any], key: str, path: str, problems: list[str]) -> str | None:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{path}: missing or not text")
        return None
    return " ".join(value.split())


def _team_name(raw: dict[str, Any], key: str, path: str, problems: list[str]) -> str | None:
    # Older files write a team as an object with its name.
    value = raw.get(key)
    if isinstance(value, dict):
        return _text(value, "name", f"{path}.{key}.name", problems)
    return _text(raw, key, f"{path}.{key}", problems)


def _group_name(written: str) -> str:
    found = _GROUP.fullmatch(written.strip())
    return f"Group {found.group(1).upper()}" if found else written


def _kickoff(raw: dict[str, Any], path: str, zone: ZoneInfo, problems: list[str]) -> datetime | None:
    day_text = raw.get("date")
    day: date | None = None
    if isinstance(day_text, str) and _DATE.fullmatch(day_text):
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            day = None
    if day is None:
        problems.append(f"{path}.date: missing or not a date (YYYY-MM-DD)")
        return None
    time_text = raw.get("time")
    if time_text is None:
        return datetime.combine(day, UNTIMED_KICKOFF, zone)
    found = _TIME.fullmatch(time_text.strip()) if isinstance(time_text, str) else None
    if found is None or int(found.group(1)) > 23 or int(found.group(2)) > 59:
        problems.append(f"{path}.time: not a time (HH:MM, optionally with UTC±H)")
        return None
    at = time(int(found.group(1)), int(found.group(2)))
    if found.group(3) is None:
        return datetime.combine(day, at, zone)
    offset = timedelta(hours=int(found.group(4)), minutes=int(found.group(5) or 0))
    if offset > timedelta(hours=14):
        problems.append(f"{path}.time: the offset is beyond UTC±14")
        return None
    return datetime.combine(day, at, timezone(-offset if found.group(3) == "-" else offset))


def _pair(value: object, path: str, problems: list[str]) -> Score | None:
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(goals, int) and not isinstance(goals, bool) and goals >= 0 for goals in value)
    ):
        return (value[0], value[1])
    problems.append(f"{path}: not a pair of goal counts")
    return None


def _scores(raw: dict[str, Any], path: str, problems: list[str]) -> dict[str, Score | None] | None:
    """The scores by kind ("ft", "ht", "et", "p"), from a `score` object or older files'
    `score1`/`score2` (with `i`, `et` and `p` suffixes); None for a match not yet played."""
    score = raw.get("score")
    if isinstance(score, dict):
        if not score:
            return None
        if "ft" not in score:
            problems.append(f"{path}.score.ft: missing")
            return {}
        return {
            kind: _pair(score[kind], f"{path}.score.{kind}", problems)
            for kind in ("ft", "ht", "et", "p")
            if kind in score
        }
    if score is not None:
        problems.append(f"{path}.score: not an object")
        return {}
    found: dict[str, Score | None] = {}
    for kind, suffix in (("ft", ""), ("ht", "i"), ("et", "et"), ("p", "p")):
        one, two = raw.get(f"score1{suffix}"), raw.get(f"score2{suffix}")
        if one is not None or two is not None:
            found[kind] = _pair([one, two], f"{path}.score1{suffix}", problems)
    if found and "ft" not in found:
        problems.append(f"{path}.score1: missing")
    return found or None


def _result(raw: dict[str, Any], path: str, problems: list[str]) -> Result | None:
    scores = _scores(raw, path, problems)
    if not scores or scores.get("ft") is None:
        return None
    full_time = scores["ft"]
    assert full_time is not None
    extra_time = scores.get("et")
    final = extra_time or full_time
    goals: tuple[Goal, ...] | None = None
    if "goals1" in raw or "goals2" in raw:
        late = extra_time is not None
        listed = [
            *_goals(raw, "goals1", "home", late, path, problems),
            *_goals(raw, "goals2", "away", late, path, problems),
        ]
        for side, key, index in (("home", "goals1", 0), ("away", "goals2", 1)):
            ninety = sum(1 for goal in listed if goal.side == side and not goal.in_extra_time)
            total = sum(1 for goal in listed if goal.side == side)
            if ninety != full_time[index] or total != final[index]:
                problems.append(
                    f"{path}.{key}: {total} goals ({ninety} in 90 minutes) for a score of "
                    f"{final[index]} ({full_time[index]} in 90 minutes)"
                )
        # Match order; two goals in one minute keep the home side's first, as the file can't say.
        goals = tuple(sorted(listed, key=lambda goal: (goal.minute.order, goal.side != "home")))
    elif final == (0, 0):
        goals = ()
    return Result(full_time, scores.get("ht"), extra_time, scores.get("p"), goals)


def _goals(raw: dict[str, Any], key: str, side: Side, extra_time: bool, path: str, problems: list[str]) -> list[Goal]:
    listed = raw.get(key, [])
    if not isinstance(listed, list):
        problems.append(f"{path}.{key}: not a list")
        return []
    goals = []
    for g, goal in enumerate(listed):
        where = f"{path}.{key}[{g}]"
        if not isinstance(goal, dict):
            problems.append(f"{where}: not an object")
            continue
        scorer = _text(goal, "name", f"{where}.name", problems)
        minute, added = goal.get("minute"), goal.get("offset", 0)
        if (
            not isinstance(minute, int)
            or isinstance(minute, bool)
            or not 1 <= minute <= LAST_MINUTE + MAX_ADDED_MINUTES
        ):
            problems.append(f"{where}.minute: not a minute from 1 to {LAST_MINUTE + MAX_ADDED_MINUTES}")
            continue
        if not isinstance(added, int) or isinstance(added, bool) or not 0 <= added <= MAX_ADDED_MINUTES:
            problems.append(f"{where}.offset: not added minutes from 0 to {MAX_ADDED_MINUTES}")
            continue
        flags = {flag: goal.get(flag, False) for flag in ("penalty", "owngoal")}
        for flag, value in flags.items():
            if not isinstance(value, bool):
                problems.append(f"{where}.{flag}: not true or false")
        if scorer is not None and all(isinstance(value, bool) for value in flags.values()):
            # The files list an own goal with the team it counts for.
            goals.append(Goal(scorer, _minute(minute, added, extra_time), side, flags["penalty"], flags["owngoal"]))
    return goals


def _minute(written: int, added: int, extra_time: bool) -> Minute:
    """Files sometimes count added time on: 121 is 120+1, and 92 without extra time is 90+2."""
    end = LAST_MINUTE if extra_time or written > LAST_MINUTE else FULL_MINUTES
    return Minute(end, added + written - end) if written > end else Minute(written, added)


def _with_legs(fixtures: list[Fixture]) -> tuple[Fixture, ...]:
    """Two meetings of the same teams in one knockout round, home and away, are a tie's legs."""
    meetings: dict[tuple[str, frozenset[str]], list[Fixture]] = defaultdict(list)
    for fixture in fixtures:
        if fixture.group is None:
            meetings[(fixture.round, frozenset((fixture.home, fixture.away)))].append(fixture)
    legs: dict[int, int] = {}
    for pair in meetings.values():
        if len(pair) == 2 and pair[0].home == pair[1].away:
            first, second = sorted(pair, key=lambda fixture: fixture.kickoff)
            legs[first.number], legs[second.number] = 1, 2
    return tuple(replace(fixture, leg=legs.get(fixture.number)) for fixture in fixtures)


def _competition(title: str, fixtures: tuple[Fixture, ...]) -> Competition:
    name, season = split_season(title)
    format = _format(fixtures)
    uefa = "uefa" in name.casefold()
    order = LEAGUE_ORDER if format == "league" else UEFA_GROUP_ORDER if uefa else FIFA_GROUP_ORDER
    competition = new_competition(name, season, format, TableRules(tie_breakers=order))
    first_year = int(season[:4]) if season else AWAY_GOALS_ABOLISHED
    two_legged = any(fixture.leg for fixture in fixtures)
    return replace(competition, away_goals=uefa and two_legged and first_year < AWAY_GOALS_ABOLISHED)


def _format(fixtures: tuple[Fixture, ...]) -> Format:
    """Groups then knockout when some matches are in groups; a league when every team met every
    other and nothing went past 90 minutes; otherwise a cup."""
    if any(fixture.group for fixture in fixtures):
        return "groups_then_knockout"
    teams = {name for fixture in fixtures for name in (fixture.home, fixture.away)}
    met = {frozenset((fixture.home, fixture.away)) for fixture in fixtures}
    decided_late = any(f.result and (f.result.extra_time or f.result.penalties) for f in fixtures)
    if len(teams) > 2 and len(met) == len(teams) * (len(teams) - 1) // 2 and not decided_late:
        return "league"
    return "cup"


def _teams(fixtures: tuple[Fixture, ...]) -> tuple[Team, ...]:
    spellings: dict[str, list[str]] = defaultdict(list)
    for fixture in fixtures:
        for written in (fixture.home, fixture.away):
            name = _COUNTRY.sub("", written)
            if written not in spellings[name]:
                spellings[name].append(written)
    return tuple(
        new_team(name, [written for written in spellings[name] if written != name]) for name in sorted(spellings)
    )
