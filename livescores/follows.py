"""Following teams without an account: the list lives in a cookie the server sets from a plain
form post, so every page renders the right way (stars, "My teams" first) before any script runs,
and the list survives reloads and restarts. Pushed rows are the same for everyone, so nothing
personal is ever put in a row: only the page around them knows who follows what."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta

from quart import Blueprint, Response, redirect, render_template, request
from quart.typing import ResponseReturnValue

from .auth import current_role, current_scorer, same_origin_post
from .matches import Match
from .pages import Page
from .services import services

blueprint = Blueprint("follows", __name__)

COOKIE = "followed"
MAX_TEAMS = 40  # a cookie stays well under the 4 KiB browsers keep
SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?")
KEEP_FOR = timedelta(days=400)  # the longest a browser keeps a cookie (Chrome's cap)
NEXT_PATH = re.compile(r"/(?![/\\])[^\s]{0,300}")


def followed_in(raw: str | None) -> tuple[str, ...]:
    """The valid, distinct slugs of a cookie's value, in the order followed; anything else dropped."""
    found = [slug for slug in (raw or "").split(".") if SLUG.fullmatch(slug)]
    return tuple(dict.fromkeys(found))[:MAX_TEAMS]


def followed() -> tuple[str, ...]:
    return followed_in(request.cookies.get(COOKIE))


def follows(match: Match, teams: Iterable[str]) -> bool:
    return bool({match.home_slug, match.away_slug} & set(teams))


@blueprint.app_context_processor
async def followed_teams() -> dict[str, tuple[str, ...]]:
    return {"followed": followed()}


def refused(message: str, status: int) -> Response:
    return Response(message + "\n", status=status, content_type="text/plain; charset=utf-8")


@blueprint.post("/follow")
async def follow() -> ResponseReturnValue:
    """Follow or unfollow one team, then back to the page the star was on."""
    form = await request.form
    if not same_origin_post():
        return refused("That form did not come from this site.", 403)
    slug = form.get("team", "")
    if not SLUG.fullmatch(slug) or await services().scoreboard.window.team(slug) is None:
        return refused("There is no such team.", 404)
    wanted = form.get("follow")
    if wanted not in ("1", "0"):
        return refused("Say whether to follow (1) or unfollow (0).", 400)
    teams = [team for team in followed() if team != slug]
    if wanted == "1":
        if len(teams) >= MAX_TEAMS:
            return refused(f"You can follow at most {MAX_TEAMS} teams.", 400)
        teams.append(slug)
    back = form.get("next", "")
    response = redirect(back if NEXT_PATH.fullmatch(back) else "/my-teams", 303)
    response.set_cookie(
        COOKIE,
        ".".join(teams),
        max_age=int(KEEP_FOR.total_seconds()),
        path="/",
        httponly=True,
        samesite="Lax",
        secure=request.scheme == "https",
    )
    return response


@blueprint.get("/my-teams")
async def my_teams() -> ResponseReturnValue:
    """The teams this browser follows, each with its latest result and next fixtures."""
    window = services().scoreboard.window
    role = current_role()
    hub = services().hub
    teams = []
    for slug in followed():
        team = await window.team(slug)
        if team is None:
            continue
        matches = await window.page_matches(Page("team", slug))
        played = [m for m in matches if m.status != "scheduled"]
        coming = [m for m in matches if m.status == "scheduled"]
        shown = played[-1:] + coming[:2]  # the team page's order: by kick-off
        teams.append((team, [hub.row_html(m, role) for m in shown]))
    return await render_template("my_teams.html", teams=teams, scorer=current_scorer())
