"""Fans on phones, in a real browser: follow a team, be notified of its goal in a background tab,
and see the last scores offline."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from .browser import browser, open_live, server, set_hidden, sign_in, watch_console
from .servers import Server
from .support import SCORER_TOKEN

pytestmark = [pytest.mark.slow, pytest.mark.flaky(reruns=2, reruns_delay=1)]

# Records every notification the page shows, then shows it as the browser would.
NOTIFICATION_HOOK = """
window.shownNotifications = [];
if ("Notification" in window) {
  const Shown = window.Notification;
  window.Notification = class extends Shown {
    constructor(title, options) { super(title, options); window.shownNotifications.push(title); }
  };
}
"""


def test_a_followed_team_comes_first_and_its_goal_is_notified_in_a_background_tab(
    browser: Browser, server: Server
) -> None:
    context = browser.new_context()
    fan = context.new_page()
    fan.add_init_script(NOTIFICATION_HOOK)
    problems = watch_console(fan)
    open_live(fan, server.url)
    last = fan.locator("#board li.match").last
    match_id = last.get_attribute("data-match-id")
    team_link = last.locator(".team.away a")
    slug = (team_link.get_attribute("href") or "").removeprefix("/teams/")
    assert slug

    open_live(fan, f"{server.url}/teams/{slug}")
    fan.locator("form.follow button.star").first.click()
    expect(fan.locator("form.follow button.star").first).to_have_attribute("aria-pressed", "true")

    open_live(fan, server.url)
    first_group = fan.locator("#board .group").first
    expect(first_group).to_have_class("group mine")
    expect(first_group.locator("li.match").first).to_have_id(f"match-{match_id}")
    fan.reload()
    open_live(fan, server.url)  # after the socket's snapshot too
    expect(fan.locator("#board .group").first.locator("li.match").first).to_have_id(f"match-{match_id}")
    assert fan.locator(f"#match-{match_id}").count() == 1

    expect(fan.locator("#notify-state")).to_be_hidden()
    context.grant_permissions(["notifications"], origin=server.url)  # the fan says yes
    fan.locator("#notify-button").click()
    expect(fan.locator("#notify-state")).to_be_visible()
    set_hidden(fan, True)  # the tab goes to the background; its socket stays open
    fan.wait_for_timeout(300)

    scorer = browser.new_context().new_page()
    sign_in(scorer, server.url, SCORER_TOKEN)
    scorer.locator(f"#match-{match_id} button.team.away").click()
    expect(scorer.locator(f"#match-{match_id} .score.away")).to_have_text("1", timeout=3000)
    fan.wait_for_function("window.shownNotifications.length > 0", timeout=5000)
    shown = fan.evaluate("window.shownNotifications")
    away = fan.locator(f"#match-{match_id} .team.away").inner_text()
    assert shown[0].startswith("Goal! ") and shown[0].endswith(f" 0–1 {away}")
    assert problems == []


def test_offline_the_last_board_seen_opens_with_its_age(browser: Browser, server: Server) -> None:
    context = browser.new_context()
    page = context.new_page()
    open_live(page, server.url)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    open_live(page, server.url)  # now through the service worker, which keeps the page
    rows = page.locator("#board li.match").count()
    assert rows > 0
    rendered = page.locator("#connection").get_attribute("data-rendered")
    assert rendered

    context.set_offline(True)
    page.reload()
    badge = page.locator("#connection .state")
    expect(badge).to_have_text(re.compile(r"^Offline, last updated \d\d:\d\d"), timeout=5000)
    expect(page.locator("#board li.match")).to_have_count(rows)
    context.set_offline(False)
    expect(badge).to_have_text("Live", timeout=15000)
