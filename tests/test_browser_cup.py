"""Cup-final day in a real browser against a real server: a postponed match leaves today's board
and appears on its new day, live; a viewer of the final's page sees the shoot-out kick by kick."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from livescores.matches import Event, Match
from livescores.openfootball import load_shipped
from livescores.store import Store
from livescores.stories import to_match

from .browser import browser, open_live, sign_in, watch_console
from .servers import Server, running_server
from .support import SCORER_TOKEN

pytestmark = [pytest.mark.slow, pytest.mark.flaky(reruns=2, reruns_delay=1)]
__all__ = ["browser"]

WC2022 = "worldcup.json/2022/worldcup.json"


async def prepare(db: Path, now: datetime) -> None:
    """Today: a league match not yet kicked off, and the World Cup final at its shoot-out."""
    store = Store(f"sqlite+aiosqlite:///{db}")
    await store.migrate()
    try:
        season = load_shipped(WC2022)
        (fixture,) = [f for f in season.fixtures if f.round == "Final"]
        final = replace(to_match(season, fixture, "final"), kickoff=now, home_slug=None, away_slug=None)
        later = datetime.combine(now.date(), time(23, 30), UTC)
        derby = Match("derby", "Derby County", "Stoke City", later, "Championship")
        await store.add_fixtures([("final", final), ("derby", derby)], [season.competition])
        steps = [
            ("kick_off", {}),
            *[("goal", {"side": "home"})] * 3,
            ("half_time", {}),
            ("second_half", {}),
            *[("goal", {"side": "away"})] * 3,
            ("extra_time", {}),
            ("extra_time_half_time", {}),
            ("extra_time_second_half", {}),
            ("penalties", {"side": "away"}),
        ]
        for kind, fields in steps:
            await store.record("final", Event(kind, datetime.now(UTC), **fields))  # type: ignore[arg-type]
    finally:
        await store.close()


@pytest.fixture
def cup_server(tmp_path: Path) -> Iterator[Server]:
    # Playwright's own event loop runs in this thread: the store is filled from another.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, prepare(tmp_path / "livescores.db", datetime.now(UTC))).result()
    with running_server(tmp_path) as started:
        yield started


def test_a_postponed_match_moves_to_its_new_day_live(browser: Browser, cup_server: Server) -> None:
    url = cup_server.url
    new_day = datetime.now(UTC).date() + timedelta(days=2)
    scorer = browser.new_context().new_page()
    today, that_day = browser.new_context().new_page(), browser.new_context().new_page()
    problems = watch_console(scorer) + watch_console(today) + watch_console(that_day)
    sign_in(scorer, url, SCORER_TOKEN)
    open_live(scorer, f"{url}/matches/derby")
    open_live(today, url)
    open_live(that_day, f"{url}/day/{new_day.isoformat()}")
    expect(today.locator("#match-derby")).to_have_count(1)
    expect(that_day.locator("#match-derby")).to_have_count(0)

    form = scorer.locator("form.record.postpone")
    form.get_by_label("New kick-off").fill(f"{new_day.isoformat()}T15:00Z")
    form.get_by_role("button", name="Postpone").click()
    expect(today.locator("#match-derby")).to_have_count(0, timeout=3000)
    expect(that_day.locator("#match-derby")).to_have_count(1, timeout=3000)
    expect(that_day.locator("#match-derby .clock time")).to_have_attribute(
        "datetime", f"{new_day.isoformat()}T15:00:00+00:00"
    )
    expect(scorer.locator("#timeline-derby li.event.postpone")).to_contain_text("Postponed")
    # Reloaded, the pages agree: the kick-off column moved with the match.
    today.reload()
    expect(today.locator("#match-derby")).to_have_count(0)
    assert problems == []


def test_a_viewer_sees_the_shoot_out_kick_by_kick(browser: Browser, cup_server: Server) -> None:
    url = cup_server.url
    scorer, viewer = browser.new_context().new_page(), browser.new_context().new_page()
    problems = watch_console(scorer) + watch_console(viewer)
    sign_in(scorer, url, SCORER_TOKEN)
    open_live(scorer, f"{url}/matches/final")
    open_live(viewer, f"{url}/matches/final")
    sequence = viewer.locator("#timeline-final .shootout .sequence")
    expect(sequence).to_have_text(["", ""])

    kicks = ["Scored", "Scored", "Saved", "Scored", "Missed", "Scored", "Scored", "Scored"]
    shown = [("●", ""), ("●", "●"), ("●○", "●"), ("●○", "●●"), ("●○○", "●●"), ("●○○", "●●●"), ("●○○●", "●●●")]
    for outcome, (first, second) in zip(kicks, [*shown, ("●○○●", "●●●●")], strict=True):
        form = scorer.locator("form.record.shootout-kick")
        form.get_by_role("button", name=outcome).click()
        expect(sequence).to_have_text([first, second], timeout=3000)
    row = viewer.locator("#match-final")
    expect(row.locator(".clock")).to_have_text("Pens")
    expect(row.locator(".extras .pens")).to_have_text("4–2 pens")
    expect(viewer.locator("#announcer")).to_contain_text("Argentina win 4–2 on penalties")
    expect(scorer.locator("form.record.shootout-kick")).to_have_count(0)  # the shoot-out ended itself
    assert problems == []
