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
from .fixtures import FixtureFileError, read_fixture_file, read_text
from .hub import Hub
from .matches import RuleViolation
from .render import Renderer
from .scoreboard import Scoreboard
from .seasons import is_season, parse_season
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
    bus = open_bus(config.bus_url, config.bus_channel, config.bus_verify_tls)
    hub = Hub(Renderer(template_environment()), max_connections=0, clock=clock_for(home_zone(config.timezone)))
    scoreboard = Scoreboard(config, store, bus, hub)
    try:
        await scoreboard.start()
        yield scoreboard
    finally:
        await scoreboard.stop()
        await bus.close()
        await store.close()


async def load_fixtures(config: Config, path: Path, zone: str | None = None) -> str:
    """Load a fixture file (refused whole if anything in it is wrong): CSV, a JSON array, or
    openfootball's season files, told apart by their content. Says what changed."""
    text = read_text(path)
    # Loading fixtures into an empty database must not also draw the demo matches.
    quiet = replace(config, create_demo_matches=False)
    if is_season(text):
        season = parse_season(text, home_zone(zone or config.timezone), str(path))
        async with open_scoreboard(quiet) as scoreboard:
            report = await scoreboard.load_season(season)
        return (
            f"{season.competition.title}: {len(report.added)} new matches, {len(report.corrected)} corrected, "
            f"{report.unchanged} unchanged, from {path}"
        )
    fixtures = read_fixture_file(path)
    async with open_scoreboard(quiet) as scoreboard:
        added = await scoreboard.add_fixtures(fixtures)
    return f"loaded {len(added)} new matches from {path} ({len(fixtures) - len(added)} already there)"


async def alias_teams(config: Config, pairs: Sequence[tuple[str, str]]) -> list[str]:
    """Each (alias, team): the alias becomes one more name of the team, merging any team it named."""
    async with open_scoreboard(replace(config, create_demo_matches=False)) as scoreboard:
        return [f"{alias} → {(await scoreboard.merge_team(alias, into)).name}" for alias, into in pairs]


def read_aliases(path: Path) -> list[tuple[str, str]]:
    """An aliases file: one `alias,team` per line (CSV), blank lines and # comments ignored."""
    import csv

    pairs = []
    text = read_text(path)
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise FixtureFileError([f"line {number}: expected alias,team"])
        pairs.append((row[0].strip(), row[1].strip()))
    return pairs


async def simulate(config: Config, speed: float, match_ids: Sequence[str], seed: int | None) -> int:
    import random

    from .simulator import Simulator

    async with open_scoreboard(config) as scoreboard:
        simulator = Simulator(scoreboard, speed, random.Random(seed))
        everything = await scoreboard.store.all_matches()
        known = [match.id for match in everything]
        unknown = [match_id for match_id in match_ids if match_id not in known]
        if unknown:
            raise ValueError(f"There is no match {unknown[0]!r}.")
        # By default the matches in play (the demo's today), else every match not yet over.
        in_play = [match.id for match in everything if match.underway]
        chosen = list(match_ids) or in_play or [m.id for m in everything if m.status == "scheduled" or m.underway]
        print(f"simulating {len(chosen)} matches at {speed:g}x (Ctrl-C stops)", flush=True)
        await simulator.run(chosen)
        return len(chosen)


async def scorers_command(config: Config, args: argparse.Namespace) -> int:
    """`livescores scorers add|list|revoke|reset`: one line each; a revocation or reset reaches
    every worker through the bus (and their next read of the store within a second)."""
    from .accounts_store import NoSuchAccount
    from .admin import invitation_path
    from .matches import RuleViolation

    store = Store(config.database_url)
    bus = open_bus(config.bus_url, config.bus_channel, config.bus_verify_tls)
    try:
        await store.migrate()
        action = args.scorers_command
        if action == "list":
            for account in await store.scorers():
                status = "revoked" if account.revoked else ("active" if account.has_password else "invited")
                seen = account.last_active.isoformat(timespec="seconds") if account.last_active else "never"
                where = ",".join(account.competitions) or "all competitions"
                role = "admin" if account.admin else "scorer"
                print(f"{account.name}\t{role}\t{where}\t{status}\tlast active {seen}")
            return 0
        try:
            if action == "add":
                account, token = await store.add_scorer(args.name, args.admin, tuple(args.competition))
            elif action == "reset":
                account, token = await store.reset_scorer(args.name)
            else:
                account, token = await store.revoke_scorer(args.name), ""
        except (RuleViolation, NoSuchAccount) as error:
            print(f"livescores scorers {action}: {error}", file=sys.stderr)
            return 1
        if action != "add" and bus.shared:
            from .envelope import AccountEnded, encode

            await bus.publish(encode(AccountEnded(account.id, account.generation, account.revoked)))
        if token:
            url = (config.public_url or "") + invitation_path(token)
            print(f"{account.name}: invitation (valid 24 hours, once): {url}")
        else:
            print(f"{account.name}: revoked; their sockets and sessions end within 2 seconds")
        return 0
    finally:
        await bus.close()
        await store.close()


async def audit_command(config: Config, args: argparse.Namespace) -> int:
    from datetime import datetime

    since = None
    if args.since:
        try:
            since = datetime.fromisoformat(args.since)
        except ValueError:
            print(
                f"livescores audit: {args.since!r} is not an ISO time such as 2026-05-01T12:00+00:00", file=sys.stderr
            )
            return 2
        if since.tzinfo is None:
            print("livescores audit: --since needs a time zone, e.g. 2026-05-01T12:00+00:00", file=sys.stderr)
            return 2
    store = Store(config.database_url)
    try:
        await store.migrate()
        async for line in store.audit(args.match, args.scorer, since):
            who = line.account or f"({line.recorded_by or '-'}, no account)"
            print(
                f"{line.at.isoformat(timespec='seconds')}\t{line.match_id}\tv{line.version}\t{line.kind}"
                f"\t{who}\t{line.client_address or '-'}"
            )
    finally:
        await store.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="livescores", description="Live football scores, run beside the web app.")
    commands = parser.add_subparsers(dest="command", required=True)
    db = commands.add_parser("db", help="database chores").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply schema migrations (the Procfile's release phase runs this)")
    fixtures = commands.add_parser("fixtures", help="real fixtures").add_subparsers(
        dest="fixtures_command", required=True
    )
    load = fixtures.add_parser(
        "load", help="add or correct the matches of a CSV, JSON or openfootball file (see docs/match-events.md)"
    )
    load.add_argument("file", type=Path)
    load.add_argument(
        "--timezone", help="the local time of an openfootball file's times without an offset (default: the home zone)"
    )
    teams = commands.add_parser("teams", help="teams and their names").add_subparsers(
        dest="teams_command", required=True
    )
    alias = teams.add_parser("alias", help="make a name one more name of a team, merging the team it named")
    alias.add_argument("alias", nargs="?", help='the other name, e.g. "Man Utd"')
    alias.add_argument("team", nargs="?", help='the team, by slug or name, e.g. "Manchester United"')
    alias.add_argument("--file", type=Path, help="a file of alias,team lines instead")
    simulate_parser = commands.add_parser("simulate", help="play the matches with random goals and cards")
    simulate_parser.add_argument(
        "--speed", type=float, default=60.0, help="match minutes per real minute (default 60: a match in ~2 minutes)"
    )
    simulate_parser.add_argument(
        "--match",
        action="append",
        default=[],
        help="a match id to play (default: those in play, else all not yet played)",
    )
    simulate_parser.add_argument("--seed", type=int, help="random seed, to replay the same game")
    scorers = commands.add_parser("scorers", help="scorer accounts").add_subparsers(
        dest="scorers_command", required=True
    )
    add = scorers.add_parser("add", help="create an account; prints its one-time invitation")
    add.add_argument("name")
    add.add_argument("--admin", action="store_true", help="also manages accounts")
    add.add_argument("--competition", action="append", default=[], help="a competition slug (default: all)")
    scorers.add_parser("list", help="every account")
    for verb, text in (("revoke", "take an account's access away at once"), ("reset", "a new invitation")):
        scorers.add_parser(verb, help=text).add_argument("name")
    audit = commands.add_parser("audit", help="who recorded each event, from where")
    audit.add_argument("--match")
    audit.add_argument("--scorer")
    audit.add_argument("--since", help="an ISO time with its zone")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = Config.from_env()
    if args.command == "db" and args.db_command == "upgrade":
        asyncio.run(upgrade_database(config))
        print("database is up to date")
    elif args.command == "fixtures" and args.fixtures_command == "load":
        try:
            if args.timezone is not None:
                _check_zone(args.timezone)
            said = asyncio.run(load_fixtures(config, args.file, args.timezone))
        except FixtureFileError as error:
            print(f"{args.file}: refused, nothing was loaded:", file=sys.stderr)
            for problem in error.problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
        except ValueError as error:
            print(f"livescores fixtures load: {error}", file=sys.stderr)
            return 2
        print(said)
    elif args.command == "teams" and args.teams_command == "alias":
        try:
            pairs = read_aliases(args.file) if args.file else [(args.alias, args.team)]
            if any(not alias or not team for alias, team in pairs) or (args.file and args.alias):
                raise ValueError("give an alias and a team, or --file")
            for line in asyncio.run(alias_teams(config, pairs)):
                print(line)
        except FixtureFileError as error:
            print(f"{args.file}: refused: {'; '.join(error.problems)}", file=sys.stderr)
            return 1
        except (ValueError, RuleViolation) as error:
            print(f"livescores teams alias: {error}", file=sys.stderr)
            return 2
    elif args.command == "scorers":
        return asyncio.run(scorers_command(config, args))
    elif args.command == "audit":
        return asyncio.run(audit_command(config, args))
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


def _check_zone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone such as Europe/London.") from None


if __name__ == "__main__":
    sys.exit(main())
