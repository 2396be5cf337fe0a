"""Reading the HTML the app sends, the way a browser would see it, for assertions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

SCORE = re.compile(r'class="score (?P<side>home|away)[^"]*">(?P<goals>\d*)<')


@dataclass(frozen=True)
class Row:
    id: str
    home: str
    away: str
    home_score: int | None  # None: not kicked off, no score shown
    away_score: int | None
    version: int
    html: str


class _TextOf(HTMLParser):
    def __init__(self, css_class: str) -> None:
        super().__init__()
        self.css_class = css_class
        self.depth = 0
        self.parts: list[str] = []
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if self.depth:
            self.depth += 1
        elif set(self.css_class.split()) <= set(classes):
            self.depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1
            if not self.depth:
                self.found.append("".join(self.parts))
                self.parts = []

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def texts(html: str, css_class: str) -> list[str]:
    parser = _TextOf(css_class)
    parser.feed(html)
    return parser.found


def rows(html: str) -> dict[str, Row]:
    found = {}
    for li in re.finditer(r'<li class="match[^"]*"[^>]*data-match-id="([^"]+)"[^>]*data-version="(\d+)"', html):
        match_id, version = li.group(1), int(li.group(2))
        end = html.find("</li>\n</hx-partial>", li.start())
        end = html.find('<li class="match', li.end()) if end == -1 else end
        body = html[li.start() : end if end != -1 else len(html)]
        scores = {m.group("side"): int(m.group("goals")) if m.group("goals") else None for m in SCORE.finditer(body)}
        home = texts(body, "team home")[0]
        away = texts(body, "team away")[0]
        found[match_id] = Row(
            match_id, home.split(" – ")[0], away.split(" – ")[0], scores["home"], scores["away"], version, body
        )
    return found


def feedback(html: str) -> str | None:
    found = re.search(r'hx-target="#feedback" hx-swap="innerHTML"><span class="(\w+)"[^>]*>(.*?)</span>', html, re.S)
    return f"{found.group(1)}: {found.group(2)}" if found else None
