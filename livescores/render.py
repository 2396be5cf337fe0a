"""Turning matches into the HTML the page and every push share.

One partial (`_match_row.html`) renders a row wherever a row appears, and one
(`_match_timeline.html`) a match's timeline; pushes wrap them in an `<hx-partial>` so htmx
swaps them out of band, whatever else the same message carries.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from jinja2 import Environment, Template
from markupsafe import escape

from .matches import Match, Side, clock_label

# "feed" is the JSON change stream for integrations (`/api/stream`), rendered beside the pages.
Role = Literal["viewer", "scorer", "feed"]
PAGE_ROLES: tuple[Role, ...] = ("viewer", "scorer")
ROLES: tuple[Role, ...] = (*PAGE_ROLES, "feed")


def row_id(match_id: str) -> str:
    return f"match-{match_id}"


def timeline_id(match_id: str) -> str:
    return f"timeline-{match_id}"


def utc_text(when: datetime, style: str = "long") -> str:
    """The server's rendering of a kick-off time, in UTC; a page script shows it in the viewer's zone."""
    when = when.astimezone(UTC)
    return when.strftime("%a %H:%M UTC" if style == "short" else "%a %d %b %Y, %H:%M UTC")


def partial(target_id: str, html: str, swap: str = "outerHTML") -> str:
    return f'<hx-partial hx-target="#{target_id}" hx-swap="{swap}">{html}</hx-partial>'


def feedback(message: str, level: Literal["ok", "error"] = "error") -> str:
    """A note for one socket's own page, swapped into its feedback area."""
    return partial("feedback", f'<span class="{level}">{escape(message)}</span>', swap="innerHTML")


@dataclass(frozen=True)
class RenderedRow:
    """A match rendered once for every role: plain rows for snapshots, pushes with a highlight."""

    match: Match
    rows: dict[Role, str]
    pushes: dict[Role, str]


@dataclass(frozen=True)
class RenderedTimeline:
    """A match's timeline (with the scorer's controls for scorers) rendered once per version."""

    match: Match
    html: dict[Role, str]
    pushes: dict[Role, str]


class Renderer:
    def __init__(self, env: Environment) -> None:
        env.filters["utc_text"] = utc_text
        self._row: Template = env.get_template("_match_row.html")
        self._timeline: Template = env.get_template("_match_timeline.html")

    async def row(self, match: Match, role: Role, changed: Side | None = None, now: datetime | None = None) -> str:
        html = await self._row.render_async(
            match=match, scorer=role == "scorer", changed=changed, clock=clock_label(match, now or datetime.now(UTC))
        )
        return html.strip()

    async def timeline(self, match: Match) -> RenderedTimeline:
        html = {
            role: (await self._timeline.render_async(match=match, scorer=role == "scorer")).strip()
            for role in PAGE_ROLES
        }
        pushes = {role: partial(timeline_id(match.id), html[role]) for role in PAGE_ROLES}
        return RenderedTimeline(match, html, pushes)

    async def render(self, match: Match, changed: Side | None = None, now: datetime | None = None) -> RenderedRow:
        now = now or datetime.now(UTC)
        rows = {role: await self.row(match, role, None, now) for role in PAGE_ROLES}
        if changed is None:
            pushes = {role: partial(row_id(match.id), rows[role]) for role in PAGE_ROLES}
        else:
            pushes = {role: partial(row_id(match.id), await self.row(match, role, changed, now)) for role in PAGE_ROLES}
        rows["feed"] = json.dumps(match_json(match, now), separators=(",", ":"))
        pushes["feed"] = sse_event(rows["feed"], "match")
        return RenderedRow(match, rows, pushes)


def board_snapshot(rows: Iterable[RenderedRow], role: Role) -> str:
    """The whole board as one swap, so a reconnecting page also learns of added matches."""
    if role == "feed":
        return sse_event("[" + ",".join(row.rows["feed"] for row in rows) + "]", "snapshot")
    return partial("board", "".join(row.rows[role] for row in rows), swap="innerHTML")


def sse_event(data: str, event: str | None = None) -> str:
    """One Server-Sent Event; every line of `data` gets its own `data:` field."""
    lines = [f"event: {event}"] if event else []
    lines += [f"data: {line}" for line in data.split("\n")]
    return "\n".join(lines) + "\n\n"


def match_json(match: Match, now: datetime) -> dict[str, Any]:
    """A match as the JSON API and the change stream show it (schema: `/api/openapi.json`)."""
    return {
        "id": match.id,
        "home": match.home,
        "away": match.away,
        "competition": match.competition,
        "kickoff": match.kickoff.isoformat() if match.kickoff else None,
        "status": match.status,
        "clock": clock_label(match, now),
        "home_score": match.home_score,
        "away_score": match.away_score,
        "version": match.version,
        "incidents": [
            {
                "kind": incident.kind,
                "side": incident.side,
                "player": incident.player,
                "minute": str(incident.minute) if incident.minute else None,
                "penalty": incident.penalty,
                "own_goal": incident.own_goal,
            }
            for incident in match.incidents
        ],
    }
