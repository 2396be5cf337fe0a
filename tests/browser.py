"""Debian's Chromium driven by Playwright, as the browser tests use it."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, WebSocket, sync_playwright

from .servers import Server, running_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE_DIR = Path(__file__).resolve().parent.parent / ".cache" / "axe"
AXE_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, for a module of browser tests (import it into the module)."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A real `hypercorn livescores:app` on a free port and a fresh SQLite file."""
    with running_server(tmp_path) as started:
        yield started


def watch_console(page: Page) -> list[str]:
    """Errors the page logs (failed scripts, CSP violations, htmx errors)."""
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def open_live(page: Page, url: str) -> None:
    """Load the board and wait until its socket has delivered the first snapshot."""
    until_first_frame(page, lambda: page.goto(url))


def sign_in(page: Page, base_url: str, token: str, name: str = "Alex") -> None:
    page.goto(base_url + "/signin")
    form = page.locator("form:has(input[name=token])")  # quick mode's form, beside the accounts' one
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=token]").fill(token)
    until_first_frame(page, lambda: form.locator("button[type=submit]").click())


def until_first_frame(page: Page, action: Callable[[], object], timeout: float = 10) -> None:
    """Do `action`, then wait until a socket it opened has delivered its first frame and is
    still open. Every socket that opens meanwhile is listened to from the moment it exists (the
    frame may come with the handshake): the socket of a page being left can open during the
    action too, and close with nothing received."""
    frames: dict[WebSocket, int] = {}

    def listen(ws: WebSocket) -> None:
        frames[ws] = 0
        ws.on("framereceived", lambda _payload: frames.__setitem__(ws, frames[ws] + 1))

    page.on("websocket", listen)
    try:
        action()
        deadline = time.monotonic() + timeout
        while not any(count and not ws.is_closed() for ws, count in frames.items()):
            assert time.monotonic() < deadline, "the socket delivered no snapshot"
            page.wait_for_timeout(20)
    finally:
        page.remove_listener("websocket", listen)


def set_hidden(page: Page, hidden: bool) -> None:
    """What the browser does when the tab goes to the background and comes back."""
    page.evaluate(
        """hidden => {
            Object.defineProperty(document, 'hidden', {value: hidden, configurable: true});
            const state = hidden ? 'hidden' : 'visible';
            Object.defineProperty(document, 'visibilityState', {value: state, configurable: true});
            document.dispatchEvent(new Event('visibilitychange'));
        }""",
        hidden,
    )


def axe_core() -> Path:
    """axe-core 4 from the npm registry, installed once into the project's `.cache/`."""
    if not AXE_SCRIPT.exists():
        npm = shutil.which("npm")
        assert npm, "the accessibility audit needs npm (Debian: apt-get install npm)"
        subprocess.run([npm, "install", "--silent", "--no-save", "--prefix", str(AXE_DIR), "axe-core@4"], check=True)
    return AXE_SCRIPT


def serious_violations(page: Page) -> list[str]:
    """Run axe on the page as it is now; its serious and critical findings, one line each."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(axe_core()))
    results: dict[str, Any] = page.evaluate(
        "async () => { const r = await axe.run(document); return {violations: r.violations, passes: r.passes.length}; }"
    )
    assert results["passes"] > 0, "axe ran no checks"
    violations: list[dict[str, Any]] = results["violations"]
    return [
        f"{v['impact']} {v['id']}: {v['help']} at {[node['target'] for node in v['nodes']]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
