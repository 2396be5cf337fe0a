"""The page people keep open: accessibility audit, screenshots, goal announcements and the connection badge."""

from __future__ import annotations

import http.server
import json
import os
import re
import signal
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, expect
from websockets.sync.client import connect

from .browser import browser, open_live, serious_violations, server, sign_in, watch_console
from .pages import feedback, rows
from .servers import ROOT, Server, free_port, running_server, scorer_cookie, start_server
from .support import SCORER_TOKEN

# A page's first socket now and then fails to show up within the wait on a loaded machine;
# a browser test is tried again (twice at most) before it counts as failed.
pytestmark = [pytest.mark.slow, pytest.mark.flaky(reruns=2, reruns_delay=1)]

# `make screenshots` sets this to docs/screenshots to refresh the README's copies; otherwise the
# screenshots go to the test's temporary folder, and a test run leaves the tree as it was.
SCREENSHOTS_VARIABLE = "LIVESCORES_SCREENSHOTS"
DEVICES = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 760}}


def record(server: Server, *commands: dict[str, object]) -> None:
    """Record events as a scorer through the real socket, waiting for each acknowledgement."""
    with connect(server.ws_url, additional_headers={"Cookie": scorer_cookie(server.url), "Origin": server.url}) as ws:
        ws.recv(timeout=5)
        for command in commands:
            ws.send(json.dumps(command))
            while (note := feedback(str(ws.recv(timeout=5)))) is None:
                pass
            assert note.startswith("ok: "), note


def test_pages_pass_the_audit_in_both_themes_and_screenshots_are_written(
    browser: Browser, server: Server, tmp_path: Path
) -> None:
    screenshots = ROOT / os.environ[SCREENSHOTS_VARIABLE] if os.environ.get(SCREENSHOTS_VARIABLE) else tmp_path
    board = rows(urlopen_text(server.url))
    first, second, third = list(board)[:3]
    record(
        server,
        {"action": "goal", "match": first, "side": "home", "player": "Bukayo Saka"},
        {"action": "goal", "match": second, "side": "away"},
        {"action": "red_card", "match": third, "side": "home", "player": "Reece James"},
        {"action": "half_time", "match": list(board)[3]},
    )
    screenshots.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    found: dict[str, list[str]] = {}
    for scheme in ("light", "dark"):
        for device, viewport in DEVICES.items():
            context = browser.new_context(
                color_scheme=scheme, viewport=viewport, bypass_csp=True, reduced_motion="reduce"
            )
            page = context.new_page()
            problems = watch_console(page)
            open_live(page, server.url)
            expect(page.locator("#connection")).to_contain_text("Live")
            expect(page.locator(f"#match-{first} .score.home")).to_have_text("1")
            found[f"board {scheme} {device}"] = serious_violations(page)
            written.append(screenshots / f"board-{scheme}-{device}.png")
            page.screenshot(path=str(written[-1]))
            assert_incidents_beside_their_team(page.locator(f"#match-{first}"), device)
            assert_incidents_beside_their_team(page.locator(f"#match-{third}"), device)
            if device == "desktop":
                sign_in(page, server.url, SCORER_TOKEN)
                found[f"scorer board {scheme}"] = serious_violations(page)
                open_live(page, f"{server.url}/matches/{first}")
                found[f"scorer match page {scheme}"] = serious_violations(page)
                page.goto(f"{server.url}/signin")
                found[f"sign-in {scheme}"] = serious_violations(page)
                open_live(page, f"{server.url}/embed")
                found[f"embed {scheme}"] = serious_violations(page)
            assert problems == []
            context.close()
    assert {where: what for where, what in found.items() if what} == {}
    assert len(written) == 4
    for path in written:
        assert path.read_bytes().startswith(b"\x89PNG") and path.stat().st_size < 400_000, path


def assert_incidents_beside_their_team(row: Locator, device: str) -> None:
    """A goal or card is read as its team's: on a phone it sits between its own team's line
    and the next, on a desktop under its own team's half of the row."""
    incidents = row.locator(".incidents.home")
    home, away, shown = (box(row.locator(".team.home")), box(row.locator(".team.away")), box(incidents))
    assert home["y"] + home["height"] <= shown["y"], device
    if device == "phone":
        assert shown["y"] + shown["height"] <= away["y"], device
    else:
        assert shown["x"] + shown["width"] <= away["x"], device
    team = row.locator(".team.home bdi").inner_text()
    said = incidents.aria_snapshot()
    assert f"Goal, {team}: Bukayo Saka 1'" in said or f"Red card, {team}: Reece James 1'" in said, said


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None
    return dict(found)


def test_scorer_controls_work_from_the_keyboard_with_visible_focus(browser: Browser, server: Server) -> None:
    page = browser.new_context().new_page()
    sign_in(page, server.url, SCORER_TOKEN)
    row = page.locator("#board li.match").first
    button = row.locator("button.team.home")
    for _ in range(20):
        page.keyboard.press("Tab")
        if button.evaluate("element => element === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the first team's button")
    outline = button.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("Enter")
    expect(row.locator(".score.home")).to_have_text("1", timeout=2000)


def test_a_goal_is_announced_once_in_the_one_live_region(browser: Browser, server: Server) -> None:
    viewer = browser.new_context().new_page()
    problems = watch_console(viewer)
    open_live(viewer, server.url)
    assert viewer.locator("[role=status], [aria-live]").count() == 1
    announcer = viewer.locator("#announcer")
    expect(announcer).to_have_attribute("aria-live", "polite")
    expect(announcer).to_have_text("")

    first = viewer.locator("#board li.match").first
    match_id = first.get_attribute("data-match-id")
    home, away = first.locator(".team.home bdi").inner_text(), first.locator(".team.away bdi").inner_text()
    record(server, {"action": "goal", "match": match_id, "side": "away", "minute": "23"})
    expect(announcer).to_have_text(f"Goal: {home} 0, {away} 1, 23rd minute", timeout=2000)
    expect(viewer.locator(f"#match-{match_id}.scored .score.away.changed")).to_have_count(1)

    record(server, {"action": "red_card", "match": match_id, "side": "home", "player": "Reece James"})
    expect(viewer.locator(f"#match-{match_id} .incidents.home .red-card.fresh")).to_contain_text(
        "Reece James", timeout=2000
    )
    # Each event is announced in its own push: the card replaces the goal's sentence.
    expect(announcer).to_have_text(f"Red card, {home}: Reece James, 1st minute")

    open_live(viewer, server.url)  # a fresh page and snapshot: nothing to announce
    expect(announcer).to_have_text("")
    expect(viewer.locator(f"#match-{match_id} .score.away")).to_have_text("1")
    expect(viewer.locator(".scored, .changed, .fresh")).to_have_count(0)
    assert problems == []


def test_the_badge_follows_the_server_going_away_and_coming_back(browser: Browser, tmp_path: Path) -> None:
    server = start_server(tmp_path)
    try:
        page = browser.new_context().new_page()
        badge = page.locator("#connection")
        open_live(page, server.url)
        expect(badge).to_have_attribute("data-state", "live")
        expect(badge.locator(".state")).to_have_text("Live")
        expect(badge.locator(".updated time")).to_have_text(re.compile(r"\d"))
        first_update = badge.locator(".updated time").get_attribute("datetime")

        kill_with_workers(server)
        expect(badge.locator(".state")).to_have_text("Reconnecting…", timeout=5000)
        expect(badge.locator(".state")).to_have_text(re.compile(r"^Offline, last updated \d\d:\d\d"), timeout=15000)
        port = int(server.url.rsplit(":", 1)[1])
        server = start_server(tmp_path, port=port)
        expect(badge.locator(".state")).to_have_text("Live", timeout=40000)
        expect(badge.locator(".updated time")).not_to_have_attribute("datetime", first_update or "")
    finally:
        server.stop()


# A proxy that refuses WebSockets, as the browser sees it: every socket the page opens fails to connect.
REFUSE_WEBSOCKETS = """(() => {
  const Real = window.WebSocket;
  window.WebSocket = class extends Real {
    constructor(url, protocols) { super(String(url).replace(/^wss?:\\/\\/[^/]+/, "ws://127.0.0.1:9"), protocols); }
  };
})();"""


def test_without_a_websocket_the_page_turns_to_server_sent_events(browser: Browser, server: Server) -> None:
    """After two failed attempts the page asks `/sse` for the same fragments (with the match's
    id on a match page), stops trying the WebSocket, and stays live."""
    context = browser.new_context(bypass_csp=True)  # the redirect above would break the CSP
    context.add_init_script(REFUSE_WEBSOCKETS)
    page = context.new_page()
    match_id = next(iter(rows(urlopen_text(server.url))))
    with page.expect_request(re.compile(r"/sse$"), timeout=15000) as asked:
        page.goto(server.url)
    assert "text/event-stream" in (asked.value.headers.get("accept") or "")
    expect(page.locator("#live")).to_have_attribute("hx-sse:connect", "/sse")
    attempts: list[str] = []
    page.on("websocket", lambda ws: attempts.append(ws.url))
    expect(page.locator("#connection .state")).to_have_text("Live (fallback)", timeout=5000)
    # The page stays live through the stream: a goal recorded elsewhere shows within 2 s.
    record(server, {"action": "goal", "match": match_id, "side": "away"})
    expect(page.locator(f"#match-{match_id} .score.away")).to_have_text("1", timeout=2000)
    assert attempts == []
    with page.expect_request(re.compile(rf"/sse\?match={match_id}$"), timeout=15000):
        page.goto(f"{server.url}/matches/{match_id}")
    expect(page.locator(f"#timeline-{match_id}")).to_contain_text("Goal", timeout=5000)
    record(server, {"action": "goal", "match": match_id, "side": "home"})
    expect(page.locator(f"#match-{match_id} .score.home")).to_have_text("1", timeout=2000)


def kill_with_workers(server: Server) -> None:
    """SIGKILL the server and its worker process: the machine went away, no close frame sent."""
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for child in children:
        os.kill(int(child), signal.SIGKILL)
    server.kill()


def urlopen_text(url: str) -> str:
    with urllib.request.urlopen(url) as response:
        return str(response.read().decode())


@contextmanager
def other_site(tmp_path: Path, html: str, port: int) -> Iterator[str]:
    """A page on another origin (`localhost`, another port) to embed the widget in."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(html)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_embed_updates_live_inside_an_iframe_on_another_site(browser: Browser, tmp_path: Path) -> None:
    port = free_port()
    host = f"http://localhost:{port}"
    with running_server(tmp_path, LIVESCORES_FRAME_ANCESTORS=host) as server:
        match_id = next(iter(rows(urlopen_text(server.url))))
        page_html = (
            f'<!doctype html><link rel=icon href="data:,"><title>Club news</title><h1>Club news</h1>'
            f'<iframe title="Live scores" src="{server.url}/embed" width="420" height="600"></iframe>'
            f'<iframe title="One match" src="{server.url}/embed/{match_id}" width="420" height="140"></iframe>'
        )
        with other_site(tmp_path, page_html, port) as site:
            page = browser.new_context().new_page()
            problems = watch_console(page)
            page.goto(site)
            board = page.frame_locator("iframe[title='Live scores']")
            single = page.frame_locator("iframe[title='One match']")
            expect(board.locator("#connection .state")).to_have_text("Live", timeout=10000)
            expect(single.locator("#connection .state")).to_have_text("Live", timeout=10000)
            expect(board.locator("button.team")).to_have_count(0)

            scorer = browser.new_context().new_page()
            sign_in(scorer, server.url, SCORER_TOKEN)
            scorer.locator(f"#match-{match_id} button.team.away").click()
            expect(board.locator(f"#match-{match_id} .score.away")).to_have_text("1", timeout=2000)
            expect(single.locator(f"#match-{match_id} .score.away")).to_have_text("1", timeout=2000)
            assert problems == []


def test_the_number_watching_goes_up_and_down_and_the_feeds_match_the_board(browser: Browser, tmp_path: Path) -> None:
    with running_server(tmp_path, LIVESCORES_VIEWER_COUNT_INTERVAL="0.3") as server:
        first = browser.new_context().new_page()
        open_live(first, server.url)
        expect(first.locator("#viewers")).to_have_text("1 watching", timeout=5000)
        second = browser.new_context().new_page()
        open_live(second, server.url)
        expect(first.locator("#viewers")).to_have_text("2 watching", timeout=5000)
        expect(second.locator("#viewers")).to_have_text("2 watching", timeout=5000)
        second.close()
        expect(first.locator("#viewers")).to_have_text("1 watching", timeout=5000)

        # What the JSON feed says is what the page shows, row by row.
        feed = json.loads(urlopen_text(server.url + "/api/matches"))["matches"]
        shown = first.locator("#board li.match")
        assert shown.count() == len(feed)
        for index, match in enumerate(feed):
            row = shown.nth(index)
            assert row.get_attribute("data-match-id") == match["id"]
            assert row.locator(".score.home").inner_text() == str(match["home_score"])
            assert row.locator(".score.away").inner_text() == str(match["away_score"])
