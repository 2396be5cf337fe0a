"""The reference server's content, rendered by the app's own templates so both servers send
the same bytes: the board snapshot, per match the pushed row after each home goal, and a static
copy of the board page (`GET /`) at the start."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from livescores import create_app
from livescores.boards import day_strip
from livescores.config import Config
from livescores.fixtures import demo_draw
from livescores.matches import Incident, Match, Minute
from livescores.pages import by_competition, day_title
from livescores.render import Renderer, day_heading, partial

# The row shows the last three goals, so from the fourth on only the numbers change.
EXACT_ROWS = 4
SCORE_SLOT = "{{HOME}}"
VERSION_SLOT = "{{VERSION}}"


def _after_goals(match: Match, goals: int) -> Match:
    incidents = tuple(Incident("goal", "home", None, Minute(10 + i, 0)) for i in range(goals))
    return replace(match, home_score=goals, version=1 + goals, incidents=incidents)


async def reference_board() -> dict[str, object]:
    app = create_app(Config(secret_key="bench"))
    renderer = Renderer(app.jinja_env)
    started = datetime.now(UTC) - timedelta(minutes=20)
    matches = [replace(m, status="first_half", period_started_at=started, version=1) for m in demo_draw()]
    rendered = {m.id: renderer.render(m) for m in matches}
    today = datetime.now(UTC).date()
    groups = [(g, [rendered[m.id].rows["viewer"] for m in g.matches]) for g in by_competition(matches)]
    board = renderer.board(groups, "competition", "No matches on this day.", today)
    snapshot = partial("board", board, swap="innerHTML") + day_heading(today, today)
    # The page's template directly, with what the app's context processors give every page but
    # the ones that need the running services (the number watching, given here).
    async with app.test_request_context("/"):
        context: dict[str, Any] = {}
        for processor in app.template_context_processors[None]:
            with contextlib.suppress(Exception):
                context.update(await app.ensure_async(processor)())  # type: ignore[arg-type]
        context.update(
            title=day_title(today, today),
            groups=groups,
            heading="competition",
            empty="No matches on this day.",
            strip=day_strip(today, today, {today}),
            nearest={"before": None, "after": None},
            socket_query="",
            scorer=None,
            watching=0,
            today=today,
        )
        page = await app.jinja_env.get_template("day.html").render_async(**context)
    rows: dict[str, dict[str, object]] = {}
    for match in matches:
        exact = [renderer.render(_after_goals(match, n), "home").pushes["viewer"] for n in range(EXACT_ROWS)]
        marked = _after_goals(match, EXACT_ROWS)
        marked = replace(marked, home_score=987654, version=876543)
        template = renderer.render(marked, "home").pushes["viewer"]
        template = template.replace("987654", SCORE_SLOT).replace("876543", VERSION_SLOT)
        rows[match.id] = {"exact": exact, "template": template}
    return {"snapshot": snapshot, "rows": rows, "page": page}
