"""The calendar in a real browser against a real server: the day strip, a goal reaching the
pages that show its match and no other, a scheduled row, and a table row moving on goals."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, WebSocket, expect

from .browser import browser, open_live, server, watch_console
from .servers import Server, server_env
from .test_browser_ui import record

pytestmark = [pytest.mark.slow, pytest.mark.flaky(reruns=2, reruns_delay=1)]


def load_fixtures(server: Server, tmp_path: Path, lines: list[str]) -> None:
    """What a league does: `livescores fixtures load` from its own process, into the server's database."""
    fixtures = tmp_path / "fixtures.csv"
    fixtures.write_text("home,away,kickoff,competition\n" + "\n".join(lines) + "\n")
    env = server_env(Path(server.log_path).parent)
    done = subprocess.run(
        [sys.executable, "-m", "livescores.cli", "fixtures", "load", str(fixtures)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_the_strip_moves_between_days_and_a_scheduled_row_shows_its_kick_off(
    browser: Browser, server: Server, tmp_path: Path
) -> None:
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    load_fixtures(
        server, tmp_path, [f"Harrow Borough,Stamford Albion,{tomorrow.isoformat()}T15:00:00+00:00,Test League"]
    )
    page = browser.new_context(timezone_id="UTC").new_page()
    problems = watch_console(page)
    open_live(page, server.url)
    expect(page.locator(".day-strip [aria-current=page]")).to_contain_text("Today")
    with page.expect_navigation():
        page.locator(".day-strip a.step.next").click()
    assert page.url == f"{server.url}/day/{tomorrow.isoformat()}"
    expect(page.locator(".day-strip [aria-current=page]")).to_contain_text("Tomorrow")
    row = page.locator("#board li.match").first
    expect(row).to_have_attribute("data-status", "scheduled")
    # In the viewer's zone and language, with the date beside it: it is not today.
    expect(row.locator(".clock time")).to_contain_text(re.compile(r"15:00|0?3:00\sPM"))
    expect(row.locator(".clock time")).to_contain_text(re.compile(rf"\b{tomorrow.day}\b"))
    expect(row.locator(".score.home")).to_have_text("")
    expect(row.locator(".score.away")).to_have_text("")
    with page.expect_navigation():
        page.locator(".day-strip a", has_text="Today").click()
    assert page.url == f"{server.url}/"
    assert problems == []


def test_a_goal_reaches_the_day_and_team_pages_and_no_frame_goes_to_another_day(
    browser: Browser, server: Server, tmp_path: Path
) -> None:
    load_fixtures(server, tmp_path, ["Harrow Borough,Stamford Albion,2014-03-15T15:00:00+00:00,Test League"])
    day, team, other_day = (browser.new_context().new_page() for _ in range(3))
    frames: list[str] = []

    def count(ws: WebSocket) -> None:
        ws.on("framereceived", lambda payload: frames.append(str(payload)))

    open_live(day, server.url)
    first = day.locator("#board li.match").first
    match_id = first.get_attribute("data-match-id")
    team_link = first.locator(".team.away a").get_attribute("href")
    assert match_id and team_link and team_link.startswith("/teams/")
    open_live(team, server.url + team_link)
    other_day.on("websocket", count)
    open_live(other_day, f"{server.url}/day/2014-03-15")
    expect(other_day.locator("#board li.match")).to_have_count(1)
    snapshot_frames = len(frames)
    assert snapshot_frames >= 1

    record(server, {"action": "goal", "match": match_id, "side": "away", "player": "Someone"})
    for page in (day, team):
        expect(page.locator(f"#match-{match_id} .score.away")).to_have_text("1", timeout=3000)
    other_day.wait_for_timeout(1000)
    # Pings are control frames, not messages; the watching count may change with the new pages.
    assert [frame for frame in frames[snapshot_frames:] if match_id in frame] == []


def test_a_table_row_moves_up_after_goals(browser: Browser, server: Server) -> None:
    page = browser.new_context().new_page()
    open_live(page, server.url)
    slug = page.locator(".group-title a").first.get_attribute("href")
    first = page.locator("#board li.match").first
    match_id = first.get_attribute("data-match-id")
    away = first.locator(".team.away a").get_attribute("href")
    assert slug and match_id and away
    away_slug = away.removeprefix("/teams/")
    open_live(page, server.url + slug)
    row = page.locator(f"table.standings tr[data-team={away_slug}]")
    before = int(row.locator(".pos").inner_text())
    record(server, {"action": "goal", "match": match_id, "side": "away"})
    record(server, {"action": "goal", "match": match_id, "side": "away"})
    expect(row.locator(".pos")).to_have_text("1", timeout=3000)
    expect(row.locator(".pts")).to_have_text("3")
    assert before >= 1


def test_the_page_counts_the_match_clock_itself(browser: Browser, server: Server) -> None:
    page = browser.new_context().new_page()
    page.clock.install()
    open_live(page, server.url)
    clock = page.locator("#board li.match.first_half .clock .minute").first
    before = int(clock.inner_text().split("'")[0].split("+")[0])
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    page.clock.fast_forward("05:00")  # five minutes on the page's clock, none on the server's
    expect(clock).to_have_text(f"{before + 5}'", timeout=3000)
    assert not [frame for frame in frames if "clock" in frame]  # no push carried it
