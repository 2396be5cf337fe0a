"""What a snapshot costs to encode, plain and compressed, on boards of 10 to 100 matches:
the bytes each (re)connect is sent, and the CPU to make them, once per page and role
(`livescores.transport.Encoded`) however many sockets it then goes to.

    .venv/bin/python -m bench.snapshots [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from livescores import create_app
from livescores.config import Config
from livescores.fixtures import demo_draw
from livescores.matches import Match
from livescores.openfootball import load_shipped
from livescores.pages import by_competition
from livescores.render import Renderer, day_heading, partial
from livescores.transport import Encoded, text_frame

SIZES = (10, 50, 100)
REPEATS = 200


def fixtures(count: int) -> list[Match]:
    """`count` real fixtures in play (the demo's ten, then the shipped 2013/14 leagues' and the
    Champions League's, in turn): distinct teams and competitions, as on a busy day."""
    started = datetime.now(UTC) - timedelta(minutes=20)
    found = list(demo_draw())
    seasons = [load_shipped(f"football.json/2013-14/{name}.json") for name in ("en.1", "en.2", "uefa.cl")]
    for number in range(max(len(s.fixtures) for s in seasons)):
        for season in seasons:
            if number < len(season.fixtures) and len(found) < count:
                fixture = season.fixtures[number]
                home, away = season.team(fixture.home), season.team(fixture.away)
                found.append(
                    Match(
                        f"{season.competition.slug}-{number}",
                        home.name,
                        away.name,
                        fixture.kickoff,
                        season.competition.name,
                        home_score=number % 3,
                        away_score=number % 2,
                    )
                )
    return [replace(m, status="first_half", period_started_at=started, version=1) for m in found[:count]]


def board(renderer: Renderer, count: int) -> str:
    """Today's board of `count` matches in play, by competition, as a viewer gets it."""
    matches = fixtures(count)
    rows = {m.id: renderer.render(m).rows["viewer"] for m in matches}
    groups = [(g, [rows[m.id] for m in g.matches]) for g in by_competition(matches)]
    today = datetime.now(UTC).date()
    html = renderer.board(groups, "competition", "No matches on this day.", today)
    return partial("board", html, swap="innerHTML") + day_heading(today, today)


def timed(make: object, repeats: int = REPEATS) -> float:
    """The median time of one call, in microseconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        make()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1e6, 1)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.snapshots", description=__doc__)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    renderer = Renderer(create_app(Config(secret_key="bench")).jinja_env)
    results = []
    for count in SIZES:
        html = board(renderer, count)
        encoded = Encoded(html)
        results.append(
            {
                "matches": count,
                "plain_frame_bytes": len(encoded.frame),
                "deflated_frame_bytes": len(encoded.deflated()),
                "ratio": round(len(encoded.frame) / len(encoded.deflated()), 2),
                "plain_encode_us": timed(lambda html=html: text_frame(html)),
                "deflate_encode_us": timed(lambda html=html: Encoded(html).deflated()),
            }
        )
        print(json.dumps(results[-1]))
    if args.json:
        args.json.write_text(json.dumps({"snapshots": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
