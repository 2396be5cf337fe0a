"""Persistence: matches and their append-only event logs, through SQLAlchemy's asyncio engine.

Every write runs inside one transaction that holds the match (a row lock on PostgreSQL, the
database write lock on SQLite), replays the log with the pure rules and appends the new event,
so concurrent scorers on any number of workers each count exactly once. Events recorded while
a commit is under way wait for the next transaction, and go in it together: one commit, and
one wait for the disk, for many events (`batches.py`, written on SQLite by `sqlite_writer.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from . import directory, legs
from .accounts import Audit
from .accounts_store import Accounts
from .batches import Outcome, Request, SQLAlchemyIO, StaleVersion, UnknownMatch, write_batch
from .calendar import Competition, Team
from .codec import StoredState, competition_row, match_columns, match_from_dict, match_to_dict, state_to_json
from .matches import Event, Match
from .reads import Reads
from .schema import competitions_table, events_table, matches_table, metadata, settings_table, teams_table
from .season_writer import LoadReport, write_season
from .seasons import Entry
from .sqlite_writer import SQLiteBatches, configure_sqlite
from .sqlite_writer import enter_wal as _enter_wal

__all__ = [
    "StaleVersion",
    "Store",
    "UnknownMatch",
    "_enter_wal",
    "competitions_table",
    "events_table",
    "match_from_dict",
    "match_to_dict",
    "matches_table",
    "metadata",
    "settings_table",
    "state_to_json",
    "teams_table",
]

# How long `close` lets the group writer finish what it was given before it cancels it.
CLOSE_DRAIN_SECONDS = 10.0


class _Batches(Protocol):
    async def write(
        self, requests: Sequence[Request], committed: Mapping[str, StoredState]
    ) -> tuple[list[Outcome], dict[str, StoredState]]: ...

    async def close(self) -> None: ...


class _PostgresBatches:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def write(
        self, requests: Sequence[Request], committed: Mapping[str, StoredState]
    ) -> tuple[list[Outcome], dict[str, StoredState]]:
        async with self.engine.begin() as conn:
            return await conn.run_sync(lambda sync: write_batch(SQLAlchemyIO(sync), requests, committed))

    async def close(self) -> None:
        pass  # its connections are the engine's


class Store(Reads, Accounts):
    def __init__(self, database_url: str) -> None:
        self.url = make_url(database_url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite and self.url.database and self.url.database != ":memory:":
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine: AsyncEngine = create_async_engine(
            self.url,
            # asyncpg waits 60 s for an unreachable server by default: a write, a resync or a
            # health check then hangs for as long instead of failing and being tried again.
            **(
                {"connect_args": {"timeout": 30}}
                if self.is_sqlite
                else {"pool_size": 10, "connect_args": {"timeout": 5}}
            ),
        )
        # One writer at a time per process: SQLite would otherwise make them spin on its file lock.
        self._sqlite_writer = asyncio.Lock()
        self._queued: list[tuple[Request, asyncio.Future[tuple[Match, Event]]]] = []
        self._group_writer: asyncio.Task[None] | None = None
        # Matches as this process last committed them, with their state as stored: rebuilding a
        # match from its stored state costs time in proportion to its incidents, on every batch.
        self._committed: dict[str, StoredState] = {}
        # Reads go through their own connections: on SQLite in WAL mode they never wait for the
        # writer, whose transactions take the write lock from their first statement.
        self.reader: AsyncEngine = self.engine
        self._batches: _Batches = _PostgresBatches(self.engine)
        if self.is_sqlite:
            configure_sqlite(self.engine.sync_engine, immediate=True)
            self.reader = create_async_engine(self.url, connect_args={"timeout": 30})
            configure_sqlite(self.reader.sync_engine, immediate=False)
            self._batches = SQLiteBatches(self.url)

    async def close(self) -> None:
        """Let the group writer finish the events it holds (for at most CLOSE_DRAIN_SECONDS,
        then cancel it, failing those), then close every connection."""
        writer = self._group_writer
        if writer is not None and not writer.done():
            await asyncio.wait({writer}, timeout=CLOSE_DRAIN_SECONDS)
            if not writer.done():
                writer.cancel()
                await asyncio.wait({writer})
        await self._batches.close()
        await self.engine.dispose()
        if self.reader is not self.engine:
            await self.reader.dispose()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that holds the database's write lock on SQLite from its first statement."""
        if self.is_sqlite:
            async with self._sqlite_writer, self.engine.begin() as conn:
                yield conn
        else:
            async with self.engine.begin() as conn:
                yield conn

    @asynccontextmanager
    async def _exclusive(self, key: int) -> AsyncIterator[AsyncConnection]:
        """A write transaction that also excludes other workers doing the same kind of change."""
        async with self.write() as conn:
            if not self.is_sqlite:
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
            yield conn

    async def migrate(self) -> None:
        from .migrations import upgrade

        async with self._exclusive(7215004) as conn:
            await conn.run_sync(upgrade)

    async def ping(self) -> None:
        async with self.reader.connect() as conn:
            await conn.execute(text("SELECT 1"))

    # -- fixtures, competitions, teams ------------------------------------------------------

    async def add_matches_if_empty(self, fixtures: Sequence[Match], opening: Sequence[Event] = ()) -> bool:
        """Insert the fixtures only into an empty database, each placed in its competition and
        teams as `add_fixtures` does, and with the same opening events; safe when several
        workers race."""
        async with self._exclusive(7215005) as conn:
            if (await conn.execute(select(func.count()).select_from(matches_table))).scalar_one():
                return False
            placed = await directory.place(conn, fixtures)
            await _insert_matches(conn, placed, start=0)
            requests = [(match.id, event, None, None) for match in placed for event in opening]
            outcomes, _ = await conn.run_sync(lambda sync: write_batch(SQLAlchemyIO(sync), requests, {}))
            for outcome in outcomes:
                if isinstance(outcome, Exception):
                    raise outcome
            return True

    async def add_fixtures(
        self, fixtures: Sequence[tuple[str, Match]], competitions: Sequence[Competition] = ()
    ) -> list[Match]:
        """Insert fixtures keyed by a natural key, skipping keys already present, with the given
        competitions (upserted by slug); all or nothing. Each new match joins its competition
        and teams (see `directory.place`); returns them as stored, every calendar field filled."""
        async with self._exclusive(7215005) as conn:
            keys = [key for key, _ in fixtures]
            existing = set(
                (await conn.execute(select(matches_table.c.fixture_key).where(matches_table.c.fixture_key.in_(keys))))
                .scalars()
                .all()
            )
            fresh = [(key, match) for key, match in fixtures if key not in existing]
            placed = await directory.place(conn, [match for _, match in fresh], competitions)
            start = (await conn.execute(select(func.coalesce(func.max(matches_table.c.position), -1)))).scalar_one() + 1
            return await _insert_matches(conn, placed, start, [key for key, _ in fresh])

    async def load_season(
        self, entries: Sequence[Entry], competition: Competition, teams: Sequence[Team], only_if_empty: bool = False
    ) -> LoadReport | None:
        """A season file's matches, new ones told by their events and stored ones corrected,
        all or nothing (FixtureFileError names what is wrong); None when `only_if_empty` and
        the database holds matches already."""
        async with self._exclusive(7215005) as conn:
            if only_if_empty and (await conn.execute(select(func.count()).select_from(matches_table))).scalar_one():
                return None
            return await write_season(conn, entries, competition, teams, datetime.now(UTC))

    async def save_competition(self, competition: Competition) -> None:
        """Add the competition, or change the one of its slug; RuleViolation if it is not valid."""
        directory.check_competition(competition)
        async with self.write() as conn:
            await directory.upsert(conn, competitions_table, [competition_row(competition)])

    async def merge_team(self, alias: str, into: str) -> Team:
        """Make `alias` one more name of team `into` (a slug or a name), moving to it the matches
        of the team the alias named until now; RuleViolation when `into` is no team."""
        async with self._exclusive(7215005) as conn:
            return await directory.merge_team(conn, alias, into)

    # -- events -----------------------------------------------------------------------------

    async def record(
        self, match_id: str, event: Event, expected_version: int | None = None, audit: Audit | None = None
    ) -> tuple[Match, Event]:
        """Append one event to a match's log if the rules allow it; returns the match after it,
        once it is committed. `audit` is who recorded it, from where."""
        # Each commit waits for the disk: events that arrive while one is under way are written
        # together in the next transaction, which holds every match it writes (SQLite's write
        # lock, or PostgreSQL row locks) from its first read to its commit.
        done: asyncio.Future[tuple[Match, Event]] = asyncio.get_running_loop().create_future()
        self._queued.append(((match_id, event, expected_version, audit), done))
        if self._group_writer is None or self._group_writer.done():
            self._group_writer = asyncio.create_task(self._write_queued())
        return await done

    async def _write_queued(self) -> None:
        while self._queued:
            batch, self._queued = self._queued, []
            outcomes: Sequence[Outcome]
            requests = [request for request, _ in batch]
            try:
                if self.is_sqlite:
                    async with self._sqlite_writer:
                        outcomes, written = await self._batches.write(requests, self._committed)
                else:
                    outcomes, written = await self._batches.write(requests, self._committed)
                self._committed.update(written)
            except Exception as error:  # the commit failed: nothing in the batch was stored
                outcomes = [error] * len(batch)
            except BaseException:
                # Cancelled mid-batch (closing): whether it committed is unknown, so nobody is
                # told it did, and nobody, in this batch or queued behind it, is left waiting.
                for _, done in [*batch, *self._queued]:
                    done.cancel()
                self._queued = []
                raise
            for (_, done), outcome in zip(batch, outcomes, strict=True):
                if done.done():
                    continue
                if isinstance(outcome, Exception):
                    done.set_exception(outcome)
                else:
                    done.set_result(outcome)

    # -- settings ---------------------------------------------------------------------------

    async def setting(self, key: str, default_factory: Any) -> str:
        """A value generated once and shared by every worker and restart (e.g. a secret)."""
        async with self.reader.connect() as conn:
            value = (await conn.execute(select(settings_table.c.value).where(settings_table.c.key == key))).scalar()
        if value is not None:
            return str(value)
        async with self._exclusive(7215006) as conn:
            value = (await conn.execute(select(settings_table.c.value).where(settings_table.c.key == key))).scalar()
            if value is None:
                value = default_factory()
                await conn.execute(insert(settings_table).values(key=key, value=value))
            return str(value)


async def _insert_matches(
    conn: AsyncConnection, fixtures: Sequence[Match], start: int, keys: Sequence[str | None] | None = None
) -> list[Match]:
    """Insert the fixtures, each with its tie's context (legs.py) in its stored state; returns them so."""
    if not fixtures:
        return []
    keys = keys or [None] * len(fixtures)
    await conn.execute(
        insert(matches_table),
        [
            {**match_columns(match), "fixture_key": key, "version": 0, "position": start + index}
            for index, (match, key) in enumerate(zip(fixtures, keys, strict=True))
        ],
    )
    filled = await legs.fill(conn, list(fixtures))
    for before, after in zip(fixtures, filled, strict=True):
        if after is not before:
            await conn.execute(
                update(matches_table).where(matches_table.c.id == after.id).values(state=state_to_json(after))
            )
    return filled
