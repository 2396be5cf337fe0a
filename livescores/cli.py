"""The `livescores` command: database migrations and other chores run beside the web app."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from .config import Config
from .store import Store


async def upgrade_database(config: Config) -> None:
    store = Store(config.database_url)
    try:
        await store.migrate()
    finally:
        await store.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="livescores", description="Live football scores, run beside the web app.")
    commands = parser.add_subparsers(dest="command", required=True)
    db = commands.add_parser("db", help="database chores").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply schema migrations (the Procfile's release phase runs this)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = Config.from_env()
    if args.command == "db" and args.db_command == "upgrade":
        asyncio.run(upgrade_database(config))
        print("database is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
