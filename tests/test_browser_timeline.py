"""A match's detail page in a real browser: a scorer's goal, card and undo reach another page live."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from .browser import browser, open_live, server, sign_in, watch_console
from .servers import Server
from .support import SCORER_TOKEN

# On a loaded machine a wait of 2 s can run out now and then;
# a browser test is tried again (twice at most) before it counts as failed.
pytestmark = [pytest.mark.slow, pytest.mark.flaky(reruns=2, reruns_delay=1)]


def test_goal_card_and_undo_from_one_page_show_in_another(browser: Browser, server: Server) -> None:
    scorer = browser.new_context().new_page()
    viewer = browser.new_context().new_page()
    problems = watch_console(scorer) + watch_console(viewer)
    sign_in(scorer, server.url, SCORER_TOKEN)
    first = scorer.locator("#board li.match").first
    match_id = first.get_attribute("data-match-id")
    home, away = first.locator(".team.home bdi").inner_text(), first.locator(".team.away bdi").inner_text()
    with scorer.expect_navigation():
        first.locator("a.details").click()
    assert scorer.url == f"{server.url}/matches/{match_id}"
    open_live(scorer, scorer.url)
    open_live(viewer, f"{server.url}/matches/{match_id}")  # the shared URL
    row, timeline = viewer.locator(f"#match-{match_id}"), viewer.locator(f"#timeline-{match_id}")
    expect(timeline.locator("li.event")).to_have_text(["Kick-off"])

    cards = scorer.locator("form.record.card")
    cards.locator("input[name=player]").fill("Reece James")
    cards.locator("input[name=minute]").fill("12")
    cards.locator("select[name=action]").select_option("red_card")
    cards.get_by_role("button", name=f"Card for {away}").click()
    expect(row.locator(".incidents.away .red-card")).to_contain_text("Reece James 12'", timeout=2000)
    expect(timeline.locator("li.event.red_card")).to_contain_text("Reece James", timeout=2000)

    goals = scorer.locator("form.record.goal")  # a fresh form: the push replaced the old one
    goals.locator("input[name=player]").fill("Bukayo Saka")
    goals.locator("input[name=minute]").fill("45+2")
    goals.get_by_role("button", name=f"Goal for {home}").click()
    expect(row.locator(".score.home")).to_have_text("1", timeout=2000)
    expect(row.locator(".incidents.home .goal")).to_have_text("Bukayo Saka 45+2'", timeout=2000)
    expect(timeline.locator("li.event.goal")).to_contain_text("45+2' Goal 1–0", timeout=2000)
    expect(scorer.locator("#feedback")).to_contain_text("Recorded goal")

    scorer.get_by_role("button", name="Undo: Goal").click()
    expect(row.locator(".score.home")).to_have_text("0", timeout=2000)
    expect(row.locator(".incidents.home .goal")).to_have_count(0)
    expect(timeline.locator("li.event.goal")).to_have_count(0)
    expect(timeline.locator("li.event")).to_have_count(2)  # the kick-off and the red card stand
    expect(scorer.locator(f"#timeline-{match_id} li.event.goal")).to_have_count(0)

    scorer.get_by_role("button", name="Half-time").click()
    expect(row.locator(".clock")).to_have_text("HT", timeout=2000)
    assert problems == []
