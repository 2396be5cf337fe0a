"""Loading the two 2013/14 English leagues (932 matches, one transaction each file) into a
fresh SQLite database, then the time to render a competition page with its table.

    .venv/bin/python -m bench.tables
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from livescores import create_app
from livescores.config import Config
from livescores.openfootball import DATA
from livescores.seasons import load_season_file
from livescores.services import EXTENSION_KEY, Services
from livescores.tables import competition_tables

FILES = ("football.json/2013-14/en.1.json", "football.json/2013-14/en.2.json")
RENDERS = 50


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        app = create_app(Config(database_url=url, secret_key="bench", create_demo_matches=False))
        async with app.test_app():
            live: Services = app.extensions[EXTENSION_KEY]
            started = time.perf_counter()
            count = 0
            for relative in FILES:
                season = load_season_file(DATA / relative, ZoneInfo("Europe/London"))
                report = await live.scoreboard.load_season(season)
                count += len(report.added)
            loaded = time.perf_counter() - started
            print(f"loaded {count} matches (2 files, parsed, told and stored) in {loaded:.2f} s")
            client = app.test_client()
            slug = "english-premier-league-2013-14"
            await client.get(f"/competitions/{slug}")  # the first read fills the hub
            pages = []
            for _ in range(RENDERS):
                at = time.perf_counter()
                response = await client.get(f"/competitions/{slug}")
                assert response.status_code == 200
                pages.append(time.perf_counter() - at)
            competition = await live.scoreboard.window.competition(slug)
            assert competition is not None
            matches = await live.store.competition_matches(slug)
            tables = []
            for _ in range(RENDERS):
                at = time.perf_counter()
                live.hub.tables.renderer.tables(competition_tables(competition, matches))
                tables.append(time.perf_counter() - at)
            print(f"GET /competitions/{slug}: median {statistics.median(pages) * 1000:.1f} ms over {RENDERS}")
            print(
                f"its table, computed from 380 matches and rendered: median {statistics.median(tables) * 1000:.1f} ms"
            )


if __name__ == "__main__":
    asyncio.run(main())
