"""The live board in a real browser against a real `hypercorn livescores:app`."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from .browser import browser, open_live, server, set_hidden, sign_in, watch_console
from .servers import Server
from .support import SCORER_TOKEN

# A page's first socket now and then fails to show up within the wait on a loaded machine;
# a browser test is tried again (twice at most) before it counts as failed.
pytestmark = [pytest.mark.slow, pytest.mark.flaky(reruns=2, reruns_delay=1)]


def test_a_goal_clicked_in_one_page_shows_in_another_without_reload(browser: Browser, server: Server) -> None:
    scorer_page = browser.new_context().new_page()
    viewer_page = browser.new_context().new_page()
    problems = watch_console(scorer_page) + watch_console(viewer_page)
    sign_in(scorer_page, server.url, SCORER_TOKEN)
    open_live(viewer_page, server.url)

    first = scorer_page.locator("#board li.match").first
    match_id = first.get_attribute("data-match-id")
    viewer_row = viewer_page.locator(f"#match-{match_id}")
    expect(viewer_row.locator(".score.home")).to_have_text("0")
    expect(viewer_row.locator("button.team")).to_have_count(0)

    first.locator("button.team.home").click()
    expect(viewer_row.locator(".score.home")).to_have_text("1", timeout=2000)
    expect(scorer_page.locator(f"#match-{match_id} .score.home")).to_have_text("1", timeout=2000)
    expect(viewer_row.locator(".score.home.changed")).to_have_count(1)
    expect(scorer_page.locator("#feedback")).to_contain_text("Recorded goal")

    # The viewer's tab goes to the background: htmx closes its socket, so it misses the next goal...
    set_hidden(viewer_page, True)
    viewer_page.wait_for_timeout(300)
    scorer_page.locator(f"#match-{match_id} button.team.home").click()
    expect(scorer_page.locator(f"#match-{match_id} .score.home")).to_have_text("2", timeout=2000)
    viewer_page.wait_for_timeout(500)
    expect(viewer_row.locator(".score.home")).to_have_text("1")
    # ...and is brought up to date by the snapshot when it comes back.
    with viewer_page.expect_websocket():
        set_hidden(viewer_page, False)
    expect(viewer_page.locator(f"#match-{match_id} .score.home")).to_have_text("2", timeout=2000)
    assert viewer_page.locator("#live[hx-ws\\:connect]").count() == 1
    assert problems == []


def test_the_page_shows_current_scores_with_javascript_disabled(browser: Browser, server: Server) -> None:
    scorer = browser.new_context().new_page()
    sign_in(scorer, server.url, SCORER_TOKEN)
    row = scorer.locator("#board li.match").nth(2)
    row.locator("button.team.away").click()
    expect(row.locator(".score.away")).to_have_text("1", timeout=2000)
    match_id = row.get_attribute("data-match-id")

    no_script = browser.new_context(java_script_enabled=False).new_page()
    no_script.goto(server.url)
    expect(no_script.locator(f"#match-{match_id} .score.away")).to_have_text("1")
    expect(no_script.locator("#board li.match")).to_have_count(10)


def test_chromium_negotiates_deflate_and_renders_the_compressed_snapshot(browser: Browser, server: Server) -> None:
    scorer_page = browser.new_context().new_page()
    viewer_page = browser.new_context().new_page()
    problems = watch_console(scorer_page) + watch_console(viewer_page)
    # What Chromium itself saw of the viewer's sockets: the handshake's headers, and every
    # message as it was inflated.
    session = viewer_page.context.new_cdp_session(viewer_page)
    session.send("Network.enable")
    agreed: list[str] = []
    messages: list[str] = []
    session.on(
        "Network.webSocketHandshakeResponseReceived",
        lambda event: agreed.extend(
            value for name, value in event["response"]["headers"].items() if name.lower() == "sec-websocket-extensions"
        ),
    )
    session.on("Network.webSocketFrameReceived", lambda event: messages.append(event["response"]["payloadData"]))
    sign_in(scorer_page, server.url, SCORER_TOKEN)
    open_live(viewer_page, server.url)
    assert agreed == ["permessage-deflate; server_no_context_takeover"]
    assert messages[0].startswith('<hx-partial hx-target="#board"')

    # A goal while the viewer's tab is hidden reaches it only through the next snapshot, which
    # comes compressed: the score it shows is the one Chromium inflated.
    first = scorer_page.locator("#board li.match").first
    match_id = first.get_attribute("data-match-id")
    set_hidden(viewer_page, True)
    viewer_page.wait_for_timeout(300)
    first.locator("button.team.home").click()
    expect(scorer_page.locator(f"#match-{match_id} .score.home")).to_have_text("1", timeout=2000)
    with viewer_page.expect_websocket():
        set_hidden(viewer_page, False)
    viewer_row = viewer_page.locator(f"#match-{match_id}")
    expect(viewer_row.locator(".score.home")).to_have_text("1", timeout=2000)
    assert agreed == ["permessage-deflate; server_no_context_takeover"] * 2
    assert sum(m.startswith('<hx-partial hx-target="#board"') for m in messages) == 2
    # Then a push of the row, uncompressed, on the same socket; and the scorer's own commands,
    # which Chromium sends compressed, were read (it was acknowledged).
    scorer_page.locator(f"#match-{match_id} button.team.home").click()
    expect(viewer_row.locator(".score.home")).to_have_text("2", timeout=2000)
    expect(scorer_page.locator("#feedback")).to_contain_text("Recorded goal")
    assert problems == []
