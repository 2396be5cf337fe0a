"""Turning matches into the HTML the page and every push share.

One partial (`_match_row.html`) renders a row wherever a row appears, and one
(`_match_timeline.html`) a match's timeline; pushes wrap them in an `<hx-partial>` so htmx
swaps them out of band, whatever else the same message carries.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from jinja2 import Environment, Template
from markupsafe import escape

from . import i18n
from .announcements import event_sentence, goal_sentence
from .announcements import ordinal as ordinal
from .announcements import spoken_minute as spoken_minute
from .codec import match_json
from .matches import SIDES, Match, Side, added_time_label, allowed_actions, clock_label, refusal, score_extras
from .pages import day_title
from .roles import PAGE_ROLES as PAGE_ROLES
from .roles import Role as Role
from .statuses import PERIODS


def row_id(match_id: str) -> str:
    return f"match-{match_id}"


def timeline_id(match_id: str) -> str:
    return f"timeline-{match_id}"


def utc_text(when: datetime, style: str = "long") -> str:
    """The server's rendering of a kick-off time, in UTC; a page script shows it in the viewer's zone."""
    when = when.astimezone(UTC)
    return when.strftime("%a %H:%M UTC" if style == "short" else "%a %d %b %Y, %H:%M UTC")


ANNOUNCER_ID = "announcer"
BADGE_COLOURS = 12  # `.badge.c0` … `.badge.c11` in style.css: a class, since the CSP forbids inline styles
NAME_FILLER = {"fc", "afc", "cf", "sc", "the", "de", "of"}


def team_initials(name: str) -> str:
    """Two or three letters for a team's badge: "Manchester United" → "MU", "Arsenal" → "ARS"."""
    words = [w for w in name.replace("-", " ").split() if w.casefold() not in NAME_FILLER] or name.split()
    if not words:
        return "?"
    if len(words) == 1:
        return words[0][:3].upper()
    return "".join(word[0] for word in words[:2]).upper()


def team_colour(name: str) -> str:
    """The badge colour class for a team, the same on every page and every server."""
    return f"c{zlib.crc32(name.casefold().encode()) % BADGE_COLOURS}"


def announcer_id(language: str) -> str:
    return i18n.region_id(ANNOUNCER_ID, language)


def day_heading(day: date, today: date) -> str:
    """The day page's heading in every language, each to its own language's heading."""
    headings = []
    for language in i18n.LANGUAGES:
        with i18n.speaking(language):
            headings.append(partial(i18n.region_id("day-title", language), day_title(day, today), swap="innerHTML"))
    return "".join(headings)


def announcement(sentences: Mapping[str, str]) -> str:
    """A sentence for the page's one polite live region, in every language; it rides along with
    a push only. A page has the region of its own language; htmx skips the others' targets."""
    return "".join(
        partial(announcer_id(language), f"<p>{escape(sentence)}</p>", swap="innerHTML")
        for language, sentence in sentences.items()
    )


def spoken(match: Match, changed: Side | None, previous: Match | None) -> dict[str, str]:
    sentences = {}
    for language in i18n.LANGUAGES:
        with i18n.speaking(language):
            sentence = goal_sentence(match, changed) if changed is not None else event_sentence(match, previous)
        if sentence:
            sentences[language] = sentence
    return sentences


def new_red_cards(match: Match, previous: Match | None) -> tuple[Side, ...]:
    """The sides shown a red card since `previous`, so the push can mark it."""
    if previous is None:
        return ()
    return tuple(side for side in SIDES if len(match.red_cards(side)) > len(previous.red_cards(side)))


def partial(target_id: str, html: str, swap: str = "outerHTML") -> str:
    return f'<hx-partial hx-target="#{target_id}" hx-swap="{swap}">{html}</hx-partial>'


def feedback(message: str, level: Literal["ok", "error"] = "error") -> str:
    """A note for one socket's own page, swapped into its feedback area."""
    role = ' role="alert"' if level == "error" else ""
    return partial("feedback", f'<span class="{level}"{role}>{escape(message)}</span>', swap="innerHTML")


class _OnDemand(dict[Role, str]):
    """A role's HTML, made the first time it is asked for and kept."""

    def __init__(self, make: Callable[[Role], str]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, role: Role) -> str:
        made = self[role] = self._make(role)
        return made


class RenderedRow:
    """A match rendered once for every role: plain rows for snapshots, pushes with a highlight.

    Each is made on first use: under a stream of goals most versions of a row are pushed but
    never shown in a snapshot, and the JSON feed is wanted only while a feed is open."""

    __slots__ = ("match", "pushes", "rows")

    def __init__(self, match: Match, row: Callable[[Role], str], push: Callable[[Role], str]) -> None:
        self.match = match
        self.rows: dict[Role, str] = _OnDemand(row)
        self.pushes: dict[Role, str] = _OnDemand(push)


@dataclass(frozen=True)
class RenderedTimeline:
    """A match's timeline (with the scorer's controls for scorers) rendered once per version."""

    match: Match
    html: dict[Role, str]
    pushes: dict[Role, str]


class Renderer:
    def __init__(self, env: Environment) -> None:
        self.env = env
        env.filters["utc_text"] = utc_text
        env.filters["initials"] = team_initials
        env.filters["colour"] = team_colour
        env.filters["day_title"] = day_title
        env.globals["periods"] = PERIODS
        env.globals.update(
            announcer_id=announcer_id,
            score_extras=score_extras,
            added_time_label=added_time_label,
            allowed_actions=allowed_actions,
            refusal=refusal,
        )
        # The partials are rendered synchronously, outside any request: Jinja's async mode
        # (which Quart's pages use) doubles the cost of a row, and rows are rendered per goal.
        partials = env.overlay(enable_async=False)
        self._row: Template = partials.get_template("_match_row.html")
        self._timeline: Template = partials.get_template("_match_timeline.html")
        self._board: Template = partials.get_template("_board.html")

    def row(
        self,
        match: Match,
        role: Role,
        changed: Side | None = None,
        now: datetime | None = None,
        red_cards: tuple[Side, ...] = (),
    ) -> str:
        html = self._row.render(
            match=match,
            scorer=role == "scorer",
            changed=changed,
            red_cards=red_cards,
            clock=clock_label(match, now or datetime.now(UTC)),
        )
        return html.strip()

    def timeline(self, match: Match) -> RenderedTimeline:
        html = {role: self._timeline.render(match=match, scorer=role == "scorer").strip() for role in PAGE_ROLES}
        pushes = {role: partial(timeline_id(match.id), html[role]) for role in PAGE_ROLES}
        return RenderedTimeline(match, html, pushes)

    def render(
        self, match: Match, changed: Side | None = None, now: datetime | None = None, previous: Match | None = None
    ) -> RenderedRow:
        """`changed` is the side that just scored, `previous` the state the pages showed before:
        the push (never the snapshot) highlights the goal, marks a new red card and announces."""
        at = now or datetime.now(UTC)
        red_cards = new_red_cards(match, previous)
        said = announcement(spoken(match, changed, previous))
        highlighted = changed is not None or bool(red_cards)

        def row(role: Role) -> str:
            if role == "feed":
                return json.dumps(match_json(match, at), separators=(",", ":"))
            return self.row(match, role, None, at)

        def push(role: Role) -> str:
            if role == "feed":
                return sse_event(rendered.rows["feed"], "match")
            html = self.row(match, role, changed, at, red_cards) if highlighted else rendered.rows[role]
            return partial(row_id(match.id), html) + said

        rendered = RenderedRow(match, row, push)
        return rendered

    def board(self, groups: Sequence[tuple[Any, Sequence[str]]], heading: str, empty: str, today: date) -> str:
        """A page's matches under their headings: the inside of its `#board`. Shared by every
        socket on the page, so in the default language whichever request happens to ask first."""
        with i18n.speaking(i18n.DEFAULT):
            return self._board.render(groups=groups, heading=heading, empty=empty, today=today).strip()

    @staticmethod
    def feed_snapshot(rows: Iterable[RenderedRow]) -> str:
        return sse_event("[" + ",".join(row.rows["feed"] for row in rows) + "]", "snapshot")


def viewers_fragment(total: int) -> str:
    return partial("viewers", f"{total:,} watching" if total else "", swap="innerHTML")


def sse_event(data: str, event: str | None = None) -> str:
    """One Server-Sent Event; every line of `data` gets its own `data:` field."""
    lines = [f"event: {event}"] if event else []
    lines += [f"data: {line}" for line in data.split("\n")]
    return "\n".join(lines) + "\n\n"
