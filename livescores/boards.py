"""The calendar's pages: today's board, any day, the competitions, a competition's round, a
team's season, and their embeds. Each renders the same board partial its socket's snapshot
uses, from the rows the hub keeps, so a page and its pushes cannot drift."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from quart import Blueprint, abort, render_template, request
from quart.typing import ResponseReturnValue

from .auth import current_role, current_scorer
from .calendar import Competition, day_bounds, local_day, parse_day
from .follows import followed, follows
from .i18n import gettext as _
from .matches import Match
from .pages import TODAY, Clock, Page, by_competition, by_day, current_round, day_label, day_title, rounds
from .render import Role
from .services import services
from .tables import competition_tables

blueprint = Blueprint("boards", __name__)

STRIP_DAYS = 3  # either side of the day shown


@dataclass(frozen=True)
class StripDay:
    date: date
    href: str
    label: str
    has_matches: bool = False
    is_today: bool = False
    current: bool = False


@dataclass(frozen=True)
class DayStrip:
    days: tuple[StripDay, ...]
    previous: StripDay
    next: StripDay


def day_href(day: date, today: date) -> str:
    return "/" if day == today else f"/day/{day.isoformat()}"


def day_strip(shown: date, today: date, marked: set[date]) -> DayStrip:
    def strip_day(day: date) -> StripDay:
        return StripDay(day, day_href(day, today), day_label(day, today), day in marked, day == today, day == shown)

    days = tuple(strip_day(shown + timedelta(days=offset)) for offset in range(-STRIP_DAYS, STRIP_DAYS + 1))
    return DayStrip(days, strip_day(shown - timedelta(days=1)), strip_day(shown + timedelta(days=1)))


@dataclass(frozen=True)
class Heading:
    title: str
    slug: str | None
    mine: bool = False  # the followed teams' matches, first on a day's board


def rendered_groups(groups: list[tuple[str, str | None, list[Match]]], role: Role) -> list[tuple[Heading, list[str]]]:
    hub = services().hub
    return [(Heading(title, slug), [hub.row_html(match, role) for match in matches]) for title, slug, matches in groups]


async def _page_matches(page: Page) -> list[Match]:
    return await services().scoreboard.window.page_matches(page)


def _clock() -> Clock:
    return services().hub.clock


@blueprint.get("/")
async def today_board() -> ResponseReturnValue:
    return await _day_page(TODAY)


@blueprint.get("/day/<day_text>")
async def day_board(day_text: str) -> ResponseReturnValue:
    day = parse_day(day_text)
    if day is None:
        return await _not_found(
            _(
                "“%(text)s” is not a date. Days look like %(example)s.",
                text=day_text,
                example=_clock().today.isoformat(),
            )
        )
    return await _day_page(Page("day", day.isoformat()))


async def _day_page(page: Page, template: str = "day.html") -> ResponseReturnValue:
    clock = _clock()
    day = page.day(clock)
    assert day is not None
    matches = await _page_matches(page)
    window = services().scoreboard.window
    first, last = day - timedelta(days=STRIP_DAYS), day + timedelta(days=STRIP_DAYS)
    marked = await window.days_with_matches(first, last)
    nearest: dict[str, date | None] = {"before": None, "after": None}
    if not matches:
        start, end = day_bounds(day, clock.zone)
        before, after = await window.nearest_kickoffs(start, end)
        nearest = {
            "before": local_day(before, clock.zone) if before else None,
            "after": local_day(after, clock.zone) if after else None,
        }
    role = current_role() if template == "day.html" else "viewer"
    teams = followed() if template == "day.html" else ()
    mine = [m for m in matches if follows(m, teams)]
    rest = [m for m in matches if not follows(m, teams)]
    groups = [(g.title, g.slug, list(g.matches)) for g in by_competition(rest)]
    rendered = rendered_groups(groups, role)
    if mine:
        rendered.insert(0, (Heading(_("My teams"), None, mine=True), rendered_groups([("", None, mine)], role)[0][1]))
    return await render_template(
        template,
        title=day_title(day, clock.today),
        groups=rendered,
        heading="competition",
        empty=_("No matches on this day."),
        strip=day_strip(day, clock.today, marked),
        nearest=nearest,
        socket_query=page.query,
        scorer=current_scorer(),
        match=None,
        today=clock.today,
    )


@blueprint.get("/competitions")
async def competitions() -> str:
    listed = await services().scoreboard.window.competitions()
    return await render_template("competitions.html", competitions=listed, scorer=current_scorer())


@blueprint.get("/competitions/<slug>")
async def competition_page(slug: str) -> ResponseReturnValue:
    return await _competition_page(slug, "competition.html")


async def _competition_page(slug: str, template: str) -> ResponseReturnValue:
    window = services().scoreboard.window
    competition = await window.competition(slug)
    if competition is None:
        return await _not_found(_("There is no such competition."), link=("/competitions", _("All competitions")))
    matches = await _page_matches(Page("competition", slug))
    names = rounds(matches)
    asked = request.args.get("round")
    if asked is not None and asked not in names:
        return await _not_found(
            _("%(competition)s has no round called “%(round)s”.", competition=competition.title, round=asked[:80])
        )
    shown = asked or current_round(matches, datetime.now(UTC))
    page = Page("competition", slug, shown)
    in_round = [m for m in matches if shown is None or m.round == shown]
    index = names.index(shown) if shown in names else -1
    role = current_role() if template == "competition.html" else "viewer"
    tables = services().hub.tables.renderer.tables(competition_tables(competition, matches))
    return await render_template(
        template,
        competition=competition,
        tables_html=tables,
        rounds=names,
        round=shown,
        previous_round=names[index - 1] if index > 0 else None,
        next_round=names[index + 1] if 0 <= index < len(names) - 1 else None,
        groups=rendered_groups(_day_groups(in_round), role),
        heading="day",
        empty=_("No matches in this round."),
        socket_query=page.query,
        scorer=current_scorer(),
        match=None,
        today=_clock().today,
    )


def _day_groups(matches: list[Match]) -> list[tuple[str, str | None, list[Match]]]:
    return [(g.title, None, list(g.matches)) for g in by_day(matches, _clock())]


@blueprint.get("/teams/<slug>")
async def team_page(slug: str) -> ResponseReturnValue:
    window = services().scoreboard.window
    team = await window.team(slug)
    if team is None:
        return await _not_found(_("There is no such team."))
    page = Page("team", slug)
    matches = await _page_matches(page)
    played_in = await _competitions_of(matches)
    return await render_template(
        "team.html",
        team=team,
        competitions=played_in,
        groups=rendered_groups(_day_groups(matches), current_role()),
        heading="day",
        empty=_("No matches yet."),
        socket_query=page.query,
        scorer=current_scorer(),
        today=_clock().today,
    )


async def _competitions_of(matches: list[Match]) -> list[Competition]:
    window = services().scoreboard.window
    found: list[Competition] = []
    for slug in dict.fromkeys(m.competition_slug for m in matches if m.competition_slug):
        competition = await window.competition(slug)
        if competition is not None:
            found.append(competition)
    return found


# -- embeds: the same boards as compact widgets, always a viewer's rows ---------------------


@blueprint.get("/embed")
async def embed_today() -> ResponseReturnValue:
    return await _day_page(TODAY, "embed_board.html")


@blueprint.get("/embed/day/<day_text>")
async def embed_day(day_text: str) -> ResponseReturnValue:
    day = parse_day(day_text)
    if day is None:
        abort(404)
    return await _day_page(Page("day", day.isoformat()), "embed_board.html")


@blueprint.get("/embed/competitions/<slug>")
async def embed_competition(slug: str) -> ResponseReturnValue:
    return await _competition_page(slug, "embed_board.html")


async def _not_found(message: str, link: tuple[str, str] | None = None) -> ResponseReturnValue:
    link = link or ("/", _("Today's matches"))
    html = await render_template("not_found.html", message=message, link=link, scorer=current_scorer())
    return html, 404
