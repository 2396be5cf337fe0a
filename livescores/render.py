"""Turning matches into the HTML the page and every push share.

One partial (`_match_row.html`) renders a row wherever a row appears, and one
(`_match_timeline.html`) a match's timeline; pushes wrap them in an `<hx-partial>` so htmx
swaps them out of band, whatever else the same message carries.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from babel.dates import format_datetime
from jinja2 import Environment, Template
from markupsafe import escape

from . import i18n
from .announcements import event_sentence, goal_sentence
from .announcements import ordinal as ordinal
from .announcements import spoken_minute as spoken_minute
from .codec import match_json
from .i18n import Spoken
from .i18n import gettext as _
from .matches import (
    SIDES,
    EventKind,
    Match,
    Side,
    added_time_label,
    allowed_actions,
    clock_label,
    refusal,
    score_extras,
)
from .pages import day_title
from .roles import PAGE_ROLES as PAGE_ROLES
from .roles import Role as Role
from .statuses import PERIODS
from .ties import aggregate
from .words import outcome_word, reason_word, say, status_word, var_word


def row_id(match_id: str) -> str:
    return f"match-{match_id}"


def timeline_id(match_id: str) -> str:
    return f"timeline-{match_id}"


def utc_text(when: datetime, style: str = "long") -> str:
    """The server's rendering of a kick-off time, in UTC; a page script shows it in the viewer's zone."""
    when = when.astimezone(UTC)
    if i18n.language() != i18n.DEFAULT:
        pattern = "EEE HH:mm 'UTC'" if style == "short" else "EEE d MMM y, HH:mm 'UTC'"
        return format_datetime(when, pattern, tzinfo=UTC, locale=i18n.language())
    return when.strftime("%a %H:%M UTC" if style == "short" else "%a %d %b %Y, %H:%M UTC")


def clock_text(label: str) -> str:
    """The row's clock in the fan's language: a running minute as it is, a state's short label
    (HT, FT, P–P...) translated."""  # noqa: RUF002
    if not label or label[0].isdigit():
        return label
    words = {
        "HT": _("HT"),
        "ET HT": _("ET HT"),
        "FT": _("FT"),
        "AET": _("AET"),
        "Pens": _("Pens"),
        "P–P": _("P–P"),
        "Susp": _("Susp"),
        "Aban": _("Aban"),
        "Awd": _("Awd"),
        "Canc": _("Canc"),
    }
    return words.get(label, label)


_ROW_WORDS: dict[str, dict[str, str]] = {}


def row_words() -> dict[str, str]:
    """The row's own words in the language being rendered, looked up once per language: a row
    is rendered for every goal, and each lookup in the template would cost it time."""
    language = i18n.language()
    found = _ROW_WORDS.get(language)
    if found is None:
        found = _ROW_WORDS[language] = {
            "record_goal": _("record a goal"),
            "winner": _("(winner)"),
            "goal": _("Goal"),
            "pen": _("(pen)"),
            "og": _("(og)"),
            "red_card": _("Red card"),
            "added_time": _("Added time announced"),
            "timeline": _("Timeline"),
            "v": _("v"),
        }
    return found


def shown_extras(match: Match) -> list[tuple[str, str]]:
    """What the row shows beside the score, with its class: a second leg's aggregate and a
    shoot-out's score, in the fan's language."""
    extras = []
    total = aggregate(match)
    if total is not None:
        extras.append(("agg", _("agg %(home)s–%(away)s", home=total[0], away=total[1])))
    pens = match.penalty_score
    if pens is not None:
        extras.append(("pens", _("%(home)s–%(away)s pens", home=pens[0], away=pens[1])))
    return extras


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
    """The day page's heading, in the language being rendered, to that language's heading."""
    return partial(i18n.region_id("day-title", i18n.language()), day_title(day, today), swap="innerHTML")


def announcement(sentence: str | None) -> str:
    """A sentence for the page's one polite live region, in the language being rendered; it
    rides along with a push only, to the region of that language's page."""
    if not sentence:
        return ""
    return partial(announcer_id(i18n.language()), f"<p>{escape(sentence)}</p>", swap="innerHTML")


def spoken(match: Match, changed: Side | None, previous: Match | None) -> str | None:
    """The sentence for what made this version, in the language being rendered."""
    return goal_sentence(match, changed) if changed is not None else event_sentence(match, previous)


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


def said_refusal(match: Match, kind: EventKind) -> str | None:
    """Why the rules refuse an action now, in the language being rendered (for the controls)."""
    reason = refusal(match, kind)
    return None if reason is None else said(reason)


def said(text: str) -> str:
    """What the rules said (an incident's summary, a refusal) in the language being rendered."""
    return say(text, i18n.language())


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
    never shown in a snapshot, and the JSON feed is wanted only while a feed is open. A page
    row or push is `Spoken`: English, and any other language once a socket or page asks
    (`i18n.said_in`)."""

    __slots__ = ("match", "pushes", "rows")

    def __init__(self, match: Match, row: Callable[[Role], str], push: Callable[[Role], str]) -> None:
        self.match = match
        self.rows: dict[Role, str] = _OnDemand(row)
        self.pushes: dict[Role, str] = _OnDemand(push)


@dataclass(frozen=True)
class RenderedTimeline:
    """A match's timeline (with the scorer's controls for scorers) rendered once per version,
    and once per language asked for (`Spoken`)."""

    match: Match
    html: dict[Role, str]
    pushes: dict[Role, str]


class Renderer:
    def __init__(self, env: Environment) -> None:
        self.env = env
        i18n.install_in(env)  # a command-line process's own environment too
        env.filters["utc_text"] = utc_text
        env.filters["initials"] = team_initials
        env.filters["colour"] = team_colour
        env.filters["day_title"] = day_title
        env.globals["periods"] = PERIODS
        env.filters["said"] = said
        env.globals.update(
            status_word=status_word,
            var_word=var_word,
            reason_word=reason_word,
            outcome_word=outcome_word,
            clock_text=clock_text,
            shown_extras=shown_extras,
            announcer_id=announcer_id,
            score_extras=score_extras,
            added_time_label=added_time_label,
            allowed_actions=allowed_actions,
            refusal=said_refusal,
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
            words=row_words(),
            match=match,
            scorer=role == "scorer",
            changed=changed,
            red_cards=red_cards,
            clock=clock_label(match, now or datetime.now(UTC)),
        )
        return html.strip()

    def timeline(self, match: Match) -> RenderedTimeline:
        def html(role: Role) -> str:
            return self._timeline.render(match=match, scorer=role == "scorer").strip()

        def push(role: Role) -> str:
            return partial(timeline_id(match.id), html(role))

        return RenderedTimeline(
            match,
            {role: Spoken(partial_call(html, role)) for role in PAGE_ROLES},
            {role: Spoken(partial_call(push, role)) for role in PAGE_ROLES},
        )

    def render(
        self, match: Match, changed: Side | None = None, now: datetime | None = None, previous: Match | None = None
    ) -> RenderedRow:
        """`changed` is the side that just scored, `previous` the state the pages showed before:
        the push (never the snapshot) highlights the goal, marks a new red card and announces."""
        at = now or datetime.now(UTC)
        red_cards = new_red_cards(match, previous)
        highlighted = changed is not None or bool(red_cards)
        said: dict[str, str] = {}  # the announcement, per language, shared by the roles

        def row(role: Role) -> str:
            if role == "feed":
                return json.dumps(match_json(match, at), separators=(",", ":"))
            return Spoken(lambda: self.row(match, role, None, at))

        def push(role: Role) -> str:
            if role == "feed":
                return sse_event(rendered.rows["feed"], "match")

            def made() -> str:
                language = i18n.language()
                html = (
                    self.row(match, role, changed, at, red_cards)
                    if highlighted
                    else i18n.said_in(rendered.rows[role], language)
                )
                if language not in said:
                    said[language] = announcement(spoken(match, changed, previous))
                return partial(row_id(match.id), html) + said[language]

            return Spoken(made)

        rendered = RenderedRow(match, row, push)
        return rendered

    def board(self, groups: Sequence[tuple[Any, Sequence[str]]], heading: str, empty: str, today: date) -> str:
        """A page's matches under their headings: the inside of its `#board`, in the language
        being rendered (the hub renders a page's snapshot once per language its sockets speak)."""
        return self._board.render(groups=groups, heading=heading, empty=empty, today=today).strip()

    @staticmethod
    def feed_snapshot(rows: Iterable[RenderedRow]) -> str:
        return sse_event("[" + ",".join(row.rows["feed"] for row in rows) + "]", "snapshot")


def viewers_fragment(total: int) -> str:
    """The number watching, for every page: "1,204 watching", "1204 viendo"."""
    if not total:
        return partial("viewers", "", swap="innerHTML")
    return Spoken(lambda: partial("viewers", _("%(count)s watching", count=i18n.number(total)), swap="innerHTML"))


def partial_call(make: Callable[[Role], str], role: Role) -> Callable[[], str]:
    return lambda: make(role)


def sse_event(data: str, event: str | None = None) -> str:
    """One Server-Sent Event; every line of `data` gets its own `data:` field."""
    lines = [f"event: {event}"] if event else []
    lines += [f"data: {line}" for line in data.split("\n")]
    return "\n".join(lines) + "\n\n"
