"""The `livescores` command: database migrations and other chores run beside the web app."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from . import ROOT
from .bus import open_bus
from .calendar import home_zone
from .config import Config
from .fixtures import FixtureFileError, read_fixture_file
from .hub import Hub
from .render import Renderer
from .scoreboard import Scoreboard
from .store import Store
from .window import clock_for


async def upgrade_database(config: Config) -> None:
    store = Store(config.database_url)
    try:
        await store.migrate()
    finally:
        await store.close()


def template_environment() -> Environment:
    """The partials' templates for a process that serves no pages: the web app's files with its
    escaping, without building a web app (and reading its configuration) to get them."""
    return Environment(loader=FileSystemLoader(ROOT / "templates"), autoescape=select_autoescape())


@asynccontextmanager
async def open_scoreboard(config: Config) -> AsyncIterator[Scoreboard]:
    """The web app's write path (store, bus, a hub with no sockets) for a command-line process."""
    store = Store(config.database_url)
    bus = open_bus(config.bus_url)
    hub = Hub(Renderer(template_environment()), max_connections=0, clock=clock_for(home_zone(config.timezone)))
    scoreboard = Scoreboard(config, store, bus, hub)
    try:
        await scoreboard.start()
        yield scoreboard
    finally:
        await scoreboard.stop()
        await bus.close()
        await store.close()


async def load_fixtures(config: Config, path: Path) -> tuple[int, int]:
    """Load a fixture file (refused whole if any line is wrong); (new, already there)."""
    fixtures = read_fixture_file(path)
    # Loading fixtures into an empty database must not also draw the demo matches.
    async with open_scoreboard(replace(config, create_demo_matches=False)) as scoreboard:
        added = await scoreboard.add_fixtures(fixtures)
    return len(added), len(fixtures) - len(added)


async def simulate(config: Config, speed: float, match_ids: Sequence[str], seed: int | None) -> int:
    import random

    from .simulator import Simulator

    async with open_scoreboard(config) as scoreboard:
        simulator = Simulator(scoreboard, speed, random.Random(seed))
        known = [match.id for match in await scoreboard.store.all_matches()]
        unknown = [match_id for match_id in match_ids if match_id not in known]
        if unknown:
            raise ValueError(f"There is no match {unknown[0]!r}.")
        chosen = list(match_ids) or known
        print(f"simulating {len(chosen)} matches at {speed:g}x (Ctrl-C stops)", flush=True)
        await simulator.run(chosen)
        return len(chosen)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="livescores", description="Live football scores, run beside the web app.")
    commands = parser.add_subparsers(dest="command", required=True)
    db = commands.add_parser("db", help="database chores").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply schema migrations (the Procfile's release phase runs this)")
    fixtures = commands.add_parser("fixtures", help="real fixtures").add_subparsers(
        dest="fixtures_command", required=True
    )
    load = fixtures.add_parser("load", help="add the matches of a CSV or JSON file (see docs/match-events.md)")
    load.add_argument("file", type=Path)
    simulate_parser = commands.add_parser("simulate", help="play the matches with random goals and cards")
    simulate_parser.add_argument(
        "--speed", type=float, default=60.0, help="match minutes per real minute (default 60: a match in ~2 minutes)"
    )
    simulate_parser.add_argument("--match", action="append", default=[], help="a match id to play (default: all)")
    simulate_parser.add_argument("--seed", type=int, help="random seed, to replay the same game")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = Config.from_env()
    if args.command == "db" and args.db_command == "upgrade":
        asyncio.run(upgrade_database(config))
        print("database is up to date")
    elif args.command == "fixtures" and args.fixtures_command == "load":
        try:
            added, present = asyncio.run(load_fixtures(config, args.file))
        except FixtureFileError as error:
            print(f"{args.file}: refused, nothing was loaded:", file=sys.stderr)
            for problem in error.problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
        print(f"loaded {added} new matches from {args.file} ({present} already there)")
    elif args.command == "simulate":
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
        try:
            played = asyncio.run(simulate(config, args.speed, args.match, args.seed))
        except ValueError as error:
            print(f"livescores simulate: {error}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            return 130
        print(f"{played} matches played to full time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
