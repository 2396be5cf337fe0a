"""Turning matches into the HTML the page and every push share.

One partial (`_match_row.html`) renders a row wherever a row appears, and one
(`_match_timeline.html`) a match's timeline; pushes wrap them in an `<hx-partial>` so htmx
swaps them out of band, whatever else the same message carries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from jinja2 import Environment, Template
from markupsafe import escape

from .matches import Match, Side, clock_label

Role = Literal["viewer", "scorer"]
ROLES: tuple[Role, ...] = ("viewer", "scorer")


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
            role: (await self._timeline.render_async(match=match, scorer=role == "scorer")).strip() for role in ROLES
        }
        pushes = {role: partial(timeline_id(match.id), html[role]) for role in ROLES}
        return RenderedTimeline(match, html, pushes)

    async def render(self, match: Match, changed: Side | None = None, now: datetime | None = None) -> RenderedRow:
        now = now or datetime.now(UTC)
        rows = {role: await self.row(match, role, None, now) for role in ROLES}
        if changed is None:
            pushes = {role: partial(row_id(match.id), rows[role]) for role in ROLES}
        else:
            pushes = {role: partial(row_id(match.id), await self.row(match, role, changed, now)) for role in ROLES}
        return RenderedRow(match, rows, pushes)


def board_snapshot(rows: Iterable[RenderedRow], role: Role) -> str:
    """The whole board as one swap, so a reconnecting page also learns of added matches."""
    return partial("board", "".join(row.rows[role] for row in rows), swap="innerHTML")
