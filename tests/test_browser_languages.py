"""A Spanish-speaking fan in a real browser: the page, the connection badge, the pushed rows and
the spoken goal and red card in Spanish; the switch back to English sticks across reloads."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from .browser import browser, open_live, server, watch_console
from .servers import Server
from .test_browser_ui import record

pytestmark = [pytest.mark.slow, pytest.mark.flaky(reruns=2, reruns_delay=1)]


def test_a_spanish_browser_reads_and_hears_spanish_and_can_switch(browser: Browser, server: Server) -> None:
    context = browser.new_context(locale="es-ES")  # Chromium then sends Accept-Language: es-ES
    fan = context.new_page()
    problems = watch_console(fan)
    open_live(fan, server.url)
    expect(fan.locator("html")).to_have_attribute("lang", "es")
    expect(fan.locator(".brand")).to_have_text("Resultados en directo")
    expect(fan.locator("#connection .state")).to_have_text("En directo")
    expect(fan.locator("#day-title-es")).to_contain_text("Hoy, ")  # after the snapshot too
    assert fan.locator("[role=status], [aria-live]").count() == 1
    announcer = fan.locator("#announcer-es")

    first = fan.locator("#board li.match").first
    match_id = first.get_attribute("data-match-id")
    home, away = first.locator(".team.home bdi").inner_text(), first.locator(".team.away bdi").inner_text()
    record(server, {"action": "goal", "match": match_id, "side": "away", "minute": "23"})
    expect(announcer).to_have_text(f"Gol: {home} 0, {away} 1, minuto 23", timeout=2000)
    pushed = fan.locator(f"#match-{match_id}")
    expect(pushed.locator(".score.away")).to_have_text("1")
    expect(pushed.locator(".details")).to_contain_text("Cronología")  # the pushed row is Spanish too
    record(server, {"action": "red_card", "match": match_id, "side": "home", "player": "Pepe"})
    expect(announcer).to_contain_text(f"Tarjeta roja, {home}: Pepe, minuto ", timeout=2000)
    expect(pushed.locator(".red-card .visually-hidden")).to_contain_text("Tarjeta roja")

    fan.locator(".language a[lang=en]").click()
    expect(fan.locator("html")).to_have_attribute("lang", "en")
    fan.reload()
    expect(fan.locator(".brand")).to_have_text("Live scores")
    expect(fan.locator("#announcer")).to_have_count(1)
    assert problems == []
