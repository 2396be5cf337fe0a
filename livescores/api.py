"""The calendar's JSON API: a day's matches, the competitions, a competition's matches and
rounds, a team's season. Described in the OpenAPI document beside the match endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from quart import Blueprint, abort

from .calendar import Competition, Team, parse_day
from .codec import match_json
from .matches import Match
from .pages import TODAY, Page, current_round, match_order, rounds
from .services import services
from .tables import competition_tables, tables_json

blueprint = Blueprint("api", __name__)


def competition_json(competition: Competition) -> dict[str, Any]:
    rules = competition.rules
    return {
        "slug": competition.slug,
        "name": competition.name,
        "short_name": competition.short_name,
        "season": competition.season,
        "format": competition.format,
        "rules": {
            "points_for_win": rules.points_for_win,
            "points_for_draw": rules.points_for_draw,
            "tie_breakers": list(rules.tie_breakers),
        },
        "away_goals": competition.away_goals,
    }


def team_json(team: Team) -> dict[str, Any]:
    return {
        "slug": team.slug,
        "name": team.name,
        "short_name": team.short_name,
        "code": team.code,
        "aliases": list(team.aliases),
    }


def matches_json(matches: list[Match]) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [match_json(match, now) for match in sorted(matches, key=match_order)]


@blueprint.get("/api/matches")
async def api_today() -> dict[str, Any]:
    """Today's matches in the home time zone (and yesterday's still being played)."""
    clock = services().hub.clock
    matches = await services().scoreboard.window.page_matches(TODAY)
    return {"date": clock.today.isoformat(), "timezone": clock.zone.key, "matches": matches_json(matches)}


@blueprint.get("/api/days/<day_text>")
async def api_day(day_text: str) -> dict[str, Any]:
    day = parse_day(day_text)
    if day is None:
        abort(404)
    clock = services().hub.clock
    matches = await services().scoreboard.window.page_matches(Page("day", day.isoformat()))
    return {"date": day.isoformat(), "timezone": clock.zone.key, "matches": matches_json(matches)}


@blueprint.get("/api/competitions")
async def api_competitions() -> dict[str, Any]:
    listed = await services().scoreboard.window.competitions()
    return {"competitions": [competition_json(competition) for competition in listed]}


@blueprint.get("/api/competitions/<slug>")
async def api_competition(slug: str) -> dict[str, Any]:
    window = services().scoreboard.window
    competition = await window.competition(slug)
    if competition is None:
        abort(404)
    matches = await window.page_matches(Page("competition", slug))
    return {
        "competition": competition_json(competition),
        "rounds": rounds(matches),
        "current_round": current_round(matches, datetime.now(UTC)),
        "matches": matches_json(matches),
        "tables": tables_json(competition_tables(competition, matches)),
    }


@blueprint.get("/api/teams/<slug>")
async def api_team(slug: str) -> dict[str, Any]:
    window = services().scoreboard.window
    team = await window.team(slug)
    if team is None:
        abort(404)
    matches = await window.page_matches(Page("team", slug))
    return {"team": team_json(team), "matches": matches_json(matches)}
