"""Persistence: matches and their append-only event logs, through SQLAlchemy's asyncio engine.

Every write runs inside one transaction that holds the match (a row lock on PostgreSQL, the
database write lock on SQLite), replays the log with the pure rules and appends the new event,
so concurrent scorers on any number of workers each count exactly once. Events recorded while
a commit is under way wait for the next transaction, and go in it together: one commit, and
one wait for the disk, for many events.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ARRAY,
    Integer,
    String,
    Text,
    bindparam,
    cast,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, Engine, create_engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool, PoolProxiedConnection

from . import directory
from .calendar import Competition, Team
from .codec import (
    FIXTURE_COLUMNS,
    StoredState,
    competition_row,
    event_from_row,
    event_row,
    match_columns,
    match_from_dict,
    match_from_row,
    match_to_dict,
    state_to_json,
    stored_state,
)
from .matches import Event, Match, RuleViolation, apply, fill_minute, replay
from .reads import Reads, load_log
from .schema import competitions_table, events_table, matches_table, metadata, settings_table, teams_table

__all__ = [
    "StaleVersion",
    "Store",
    "UnknownMatch",
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


class UnknownMatch(RuleViolation):
    pass


class StaleVersion(RuleViolation):
    def __init__(self, message: str, current: Match | None = None) -> None:
        super().__init__(message)
        self.current = current  # the match as stored, for a sender whose view is out of date


class Store(Reads):
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
        self._queued: list[tuple[_Request, asyncio.Future[tuple[Match, Event]]]] = []
        self._group_writer: asyncio.Task[None] | None = None
        # Matches as this process last committed them, with their state as stored: rebuilding a
        # match from its stored state costs time in proportion to its incidents, on every batch.
        self._committed: dict[str, _Committed] = {}
        # Reads go through their own connections: on SQLite in WAL mode they never wait for the
        # writer, whose transactions take the write lock from their first statement.
        self.reader: AsyncEngine = self.engine
        self._batches: _SQLiteBatches | None = None
        if self.is_sqlite:
            _configure_sqlite(self.engine.sync_engine, immediate=True)
            self.reader = create_async_engine(self.url, connect_args={"timeout": 30})
            _configure_sqlite(self.reader.sync_engine, immediate=False)
            self._batches = _SQLiteBatches(self.url)

    async def close(self) -> None:
        await self.engine.dispose()
        if self.reader is not self.engine:
            await self.reader.dispose()
        if self._batches is not None:
            await self._batches.close()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that holds the database's write lock on SQLite from its first statement."""
        if self.is_sqlite:
            async with self._sqlite_writer, self.engine.begin() as conn:
                yield conn
        else:
            async with self.engine.begin() as conn:
                yield conn

    async def migrate(self) -> None:
        from .migrations import upgrade

        async with self.write() as conn:
            if not self.is_sqlite:
                await conn.execute(text("SELECT pg_advisory_xact_lock(7215004)"))
            await conn.run_sync(upgrade)

    async def ping(self) -> None:
        async with self.reader.connect() as conn:
            await conn.execute(text("SELECT 1"))

    # -- matches -----------------------------------------------------------------------------

    async def add_matches_if_empty(self, fixtures: Sequence[Match], opening: Sequence[Event] = ()) -> bool:
        """Insert the fixtures only into an empty database, each with the same opening events;
        safe when several workers race."""
        async with self.write() as conn:
            if not self.is_sqlite:
                await conn.execute(text("SELECT pg_advisory_xact_lock(7215005)"))
            if (await conn.execute(select(func.count()).select_from(matches_table))).scalar_one():
                return False
            placed = await directory.place(conn, fixtures)
            await _insert_matches(conn, placed, start=0)
            for match in placed:
                for opening_event in opening:
                    match, _ = await _append(conn, match, opening_event)
            return True

    async def add_fixtures(
        self, fixtures: Sequence[tuple[str, Match]], competitions: Sequence[Competition] = ()
    ) -> list[Match]:
        """Insert fixtures keyed by a natural key, skipping keys already present, with the given
        competitions (upserted by slug); all or nothing. Each new match joins its competition
        and teams (see `directory.place`); returns them as stored, every calendar field filled."""
        async with self.write() as conn:
            if not self.is_sqlite:
                await conn.execute(text("SELECT pg_advisory_xact_lock(7215005)"))
            keys = [key for key, _ in fixtures]
            existing = set(
                (await conn.execute(select(matches_table.c.fixture_key).where(matches_table.c.fixture_key.in_(keys))))
                .scalars()
                .all()
            )
            fresh = [(key, match) for key, match in fixtures if key not in existing]
            placed = await directory.place(conn, [match for _, match in fresh], competitions)
            start = (await conn.execute(select(func.coalesce(func.max(matches_table.c.position), -1)))).scalar_one() + 1
            await _insert_matches(conn, placed, start, [key for key, _ in fresh])
            return placed

    async def save_competition(self, competition: Competition) -> None:
        """Add the competition, or change the one of its slug; RuleViolation if it is not valid."""
        directory.check_competition(competition)
        async with self.write() as conn:
            await directory.upsert(conn, competitions_table, [competition_row(competition)])

    async def merge_team(self, alias: str, into: str) -> Team:
        """Make `alias` one more name of team `into` (a slug or a name), moving to it the matches
        of the team the alias named until now; RuleViolation when `into` is no team."""
        async with self.write() as conn:
            if not self.is_sqlite:
                await conn.execute(text("SELECT pg_advisory_xact_lock(7215005)"))
            return await directory.merge_team(conn, alias, into)

    async def record(self, match_id: str, event: Event, expected_version: int | None = None) -> tuple[Match, Event]:
        """Append one event to a match's log if the rules allow it; returns the match after it,
        once it is committed."""
        # Each commit waits for the disk: events that arrive while one is under way are written
        # together in the next transaction, which holds every match it writes (SQLite's write
        # lock, or PostgreSQL row locks) from its first read to its commit.
        done: asyncio.Future[tuple[Match, Event]] = asyncio.get_running_loop().create_future()
        self._queued.append(((match_id, event, expected_version), done))
        if self._group_writer is None or self._group_writer.done():
            self._group_writer = asyncio.create_task(self._write_queued())
        return await done

    async def _write_queued(self) -> None:
        while self._queued:
            batch, self._queued = self._queued, []
            outcomes: Sequence[_Outcome]
            requests = [request for request, _ in batch]
            try:
                if self._batches is not None:
                    async with self._sqlite_writer:
                        outcomes, written = await self._batches.write(requests, self._committed)
                else:
                    async with self.engine.begin() as conn:
                        outcomes, written = await _record_batch(conn, requests, self._committed)
                self._committed.update(written)
            except Exception as error:  # the commit failed: nothing in the batch was stored
                outcomes = [error] * len(batch)
            except BaseException:
                # Cancelled mid-batch (shutdown): whether it committed is unknown, so nobody is told
                # it did, and nobody is left waiting.
                for _, done in batch:
                    done.cancel()
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
        async with self.write() as conn:
            if not self.is_sqlite:
                await conn.execute(text("SELECT pg_advisory_xact_lock(7215006)"))
            value = (await conn.execute(select(settings_table.c.value).where(settings_table.c.key == key))).scalar()
            if value is None:
                value = default_factory()
                await conn.execute(insert(settings_table).values(key=key, value=value))
            return str(value)


def _configure_sqlite(engine: Engine, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        if immediate:  # the writer; WAL is a property of the file, so readers need not ask again
            # WAL with FULL sync: an acknowledged goal survives a crash of the process or the machine.
            _enter_wal(cursor)
            cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _enter_wal(cursor: Any) -> None:
    """Switch the file to WAL. On a fresh file another worker may be doing the same, and SQLite
    answers a journal-mode change it cannot lock for at once with "locked" rather than waiting."""
    deadline = time.monotonic() + 30
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


_Request = tuple[str, Event, int | None]  # match id, event, expected version
_Outcome = tuple[Match, Event] | Exception


_Committed = StoredState


class _SQLiteBatches:
    """Writes batches of events to SQLite from a thread of its own, through the driver's
    connection itself: the asyncio driver hops to its thread and back several times per
    statement, and SQLAlchemy's own work per statement outweighs the statement, so a batch
    costs one hop and five plain statements instead. Values go through SQLAlchemy's own
    processors for their columns, so they are stored exactly as everything else reads them."""

    def __init__(self, url: URL) -> None:
        # The same driver options, and the same connection set-up (WAL, FULL sync), as the
        # writer engine; it is only ever used from the one thread.
        self.engine = create_engine(
            url.set(drivername="sqlite"), connect_args={"timeout": 30, "check_same_thread": False}, poolclass=NullPool
        )
        _configure_sqlite(self.engine, immediate=True)
        self._thread: ThreadPoolExecutor | None = None
        self._connection: PoolProxiedConnection | None = None
        dialect = self.engine.dialect
        self._datetime_to_db = _processor(events_table.c.at.type.dialect_impl(dialect).bind_processor(dialect))
        self._json_to_db = _processor(events_table.c.payload.type.dialect_impl(dialect).bind_processor(dialect))
        self._datetime_from_db = _processor(
            events_table.c.at.type.dialect_impl(dialect).result_processor(dialect, None)
        )
        self._json_from_db = _processor(
            events_table.c.payload.type.dialect_impl(dialect).result_processor(dialect, None)
        )

    async def write(
        self, requests: Sequence[_Request], committed: Mapping[str, _Committed]
    ) -> tuple[list[_Outcome], dict[str, _Committed]]:
        """Record events in arrival order in one transaction, committed before this returns.
        Returns each request's outcome, and the matches written (for `committed`)."""
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="livescores-sqlite-writer")
        # A copy: a cancelled caller may go on while the thread still reads it.
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._write, requests, dict(committed))

    async def close(self) -> None:
        """Like disposing of an engine: a later batch opens what it needs again."""
        if self._thread is not None:
            thread, self._thread = self._thread, None
            await asyncio.get_running_loop().run_in_executor(thread, self._disconnect)
            thread.shutdown(wait=False)

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.invalidate()  # closes it; an open transaction is rolled back
            self._connection = None

    def _write(
        self, requests: Sequence[_Request], committed: Mapping[str, _Committed]
    ) -> tuple[list[_Outcome], dict[str, _Committed]]:
        if self._connection is None:
            self._connection = self.engine.raw_connection()
        db = self._connection.driver_connection
        assert isinstance(db, sqlite3.Connection)
        try:
            db.execute("BEGIN IMMEDIATE")
            result = self._record(db, requests, committed)
            db.execute("COMMIT")
        except BaseException as error:
            # Whatever failed, nothing of this transaction stays; the next batch starts afresh.
            self._disconnect()
            if isinstance(error, sqlite3.Error):  # as SQLAlchemy raises it everywhere else
                raise DBAPIError.instance(None, None, error, sqlite3.Error, dialect=self.engine.dialect) from error
            raise
        return result

    def _record(
        self, db: sqlite3.Connection, requests: Sequence[_Request], committed: Mapping[str, _Committed]
    ) -> tuple[list[_Outcome], dict[str, _Committed]]:
        wanted = sorted({match_id for match_id, _, _ in requests})
        read: dict[str, Match] = {}
        unchanged: dict[str, _Committed] = {}
        columns = [*FIXTURE_COLUMNS.values(), "state"]
        rows = db.execute(
            f"SELECT {', '.join(columns)} FROM matches WHERE id IN ({', '.join('?' * len(wanted))})", wanted
        )
        for values in rows:
            row = dict(zip(columns, values, strict=True))
            match_id, version, state = row["id"], row["version"], row["state"]
            known = committed.get(match_id)
            # Versions only grow and fixtures never change, so an unchanged version and state
            # mean the match is as this process left it.
            if known is not None and known.match.version == version and known.state == state:
                read[match_id], unchanged[match_id] = known.match, known
                continue
            row["kickoff"] = self._datetime_from_db(row["kickoff"])
            read[match_id] = match_from_row(row)
        # An undo replays the match's whole log; only those matches' logs are read.
        logs = self._logs(db, sorted({m for m, asked, _ in requests if asked.kind == "undo" and m in read}))
        outcomes, after, accepted = _apply_batch(read, logs, requests)
        written = {match_id: stored_state(match, unchanged.get(match_id)) for match_id, match in after.items()}
        if accepted:
            recorded_at = datetime.now(UTC)
            new_rows = [event_row(match_id, version, event, recorded_at) for match_id, version, event in accepted]
            db.executemany(
                "INSERT INTO events (match_id, version, kind, payload, at, recorded_by, recorded_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        row["match_id"],
                        row["version"],
                        row["kind"],
                        self._json_to_db(row["payload"]),
                        self._datetime_to_db(row["at"]),
                        row["recorded_by"],
                        self._datetime_to_db(recorded_at),
                    )
                    for row in new_rows
                ],
            )
            updated = db.executemany(
                "UPDATE matches SET version = ?, state = ?, status = ? WHERE id = ? AND version = ?",
                [
                    (new.match.version, new.state, new.match.status, match_id, read[match_id].version)
                    for match_id, new in written.items()
                ],
            )
            if updated.rowcount != len(written):
                raise StaleVersion("The match changed while recording; please try again.")
        return outcomes, written

    def _logs(self, db: sqlite3.Connection, match_ids: Sequence[str]) -> dict[str, list[Event]]:
        logs: dict[str, list[Event]] = {match_id: [] for match_id in match_ids}
        if not match_ids:
            return logs
        rows = db.execute(
            "SELECT match_id, version, kind, payload, at, recorded_by FROM events"
            f" WHERE match_id IN ({', '.join('?' * len(match_ids))}) ORDER BY match_id, version",
            match_ids,
        )
        for match_id, version, kind, payload, at, recorded_by in rows:
            logs[match_id].append(
                event_from_row(
                    {
                        "match_id": match_id,
                        "version": version,
                        "kind": kind,
                        "payload": self._json_from_db(payload),
                        "at": self._datetime_from_db(at),
                        "recorded_by": recorded_by,
                    }
                )
            )
        return logs


async def _record_batch(
    conn: AsyncConnection, requests: Sequence[_Request], committed: Mapping[str, _Committed]
) -> tuple[list[_Outcome], dict[str, _Committed]]:
    """A batch on PostgreSQL: the matches are locked in the order of their ids, so that workers
    writing overlapping batches wait for each other instead of deadlocking, and each reads
    the others' commits."""
    wanted = sorted({match_id for match_id, _, _ in requests})
    read: dict[str, Match] = {}
    unchanged: dict[str, _Committed] = {}
    rows = await conn.execute(
        _READ_MATCHES.where(matches_table.c.id.in_(wanted)).order_by(matches_table.c.id).with_for_update()
    )
    for row in rows:
        known = committed.get(row.id)
        if known is not None and known.match.version == row.version and known.state == row.state:
            read[row.id], unchanged[row.id] = known.match, known
        else:
            read[row.id] = match_from_row(row._mapping)
    logs = {
        match_id: await load_log(conn, match_id)
        for match_id in sorted({m for m, asked, _ in requests if asked.kind == "undo" and m in read})
    }
    outcomes, after, accepted = _apply_batch(read, logs, requests)
    written = {match_id: stored_state(match, unchanged.get(match_id)) for match_id, match in after.items()}
    if accepted:
        recorded_at = datetime.now(UTC)
        await conn.execute(
            insert(events_table),
            [event_row(match_id, version, event, recorded_at) for match_id, version, event in accepted],
        )
        updated = await conn.execute(
            _UPDATE_MATCHES,
            {
                "match_ids": list(written),
                "was": [read[match_id].version for match_id in written],
                "now": [new.match.version for new in written.values()],
                "states": [new.state for new in written.values()],
                "statuses": [new.match.status for new in written.values()],
            },
        )
        if updated.rowcount != len(written):
            raise StaleVersion("The match changed while recording; please try again.")
    return outcomes, written


# The state as the text it is stored as (PostgreSQL's json keeps the text it was given; its
# driver would parse it), so that it can be compared with what was written.
_READ_MATCHES = select(
    *(column for column in matches_table.c if column.name != "state"),
    cast(matches_table.c.state, Text).label("state"),
)


# One statement of one shape for any number of matches: executemany's row count is not given
# by PostgreSQL's driver, and a VALUES list would be compiled anew for every batch.
_UPDATE_MATCHES = text(
    "UPDATE matches SET version = changes.now, state = CAST(changes.state AS JSON), status = changes.status"
    " FROM unnest(:match_ids, :was, :now, :states, :statuses) AS changes(match_id, was, now, state, status)"
    " WHERE matches.id = changes.match_id AND matches.version = changes.was"
).bindparams(
    bindparam("match_ids", type_=ARRAY(String)),
    bindparam("was", type_=ARRAY(Integer)),
    bindparam("now", type_=ARRAY(Integer)),
    bindparam("states", type_=ARRAY(Text)),
    bindparam("statuses", type_=ARRAY(Text)),
)


def _processor(given: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    return given if given is not None else (lambda value: value)


def _apply_batch(
    read: Mapping[str, Match], logs: dict[str, list[Event]], requests: Sequence[_Request]
) -> tuple[list[_Outcome], dict[str, Match], list[tuple[str, int, Event]]]:
    """The rules over a batch, in arrival order: each request's outcome, the matches that
    changed as they end up, and the events to store (match id, version, event). A refused
    event is refused alone; a later event on the same match sees the accepted ones before it.
    `logs` holds the logs of the matches that an undo asks for, and grows with the batch."""
    current = dict(read)
    outcomes: list[_Outcome] = []
    accepted: list[tuple[str, int, Event]] = []
    for match_id, asked, expected_version in requests:
        match = current.get(match_id)
        if match is None:
            outcomes.append(UnknownMatch(f"There is no match {match_id!r}."))
            continue
        if expected_version is not None and expected_version != match.version:
            outcomes.append(StaleVersion("The match changed since you looked — check and click again.", match))
            continue
        try:
            stored, after = _step(match, asked, logs.get(match_id))
        except Exception as refused:  # nothing is written yet, so it takes nothing else with it
            outcomes.append(refused)
            continue
        if match_id in logs:
            logs[match_id].append(stored)
        current[match_id] = after
        accepted.append((match_id, after.version, stored))
        outcomes.append((after, stored))
    changed = {match_id: match for match_id, match in current.items() if match is not read[match_id]}
    return outcomes, changed, accepted


def _step(current: Match, event: Event, log: list[Event] | None) -> tuple[Event, Match]:
    """The event as it will be stored, and the match after it; RuleViolation if refused."""
    event = fill_minute(current, event)
    if event.kind == "undo":
        assert log is not None
        return event, replay(current, [*log, event])
    # The stored state is the replay of the log so far, so one more event is one more step.
    return event, apply(current, event)


async def _append(conn: AsyncConnection, current: Match, event: Event) -> tuple[Match, Event]:
    log = await load_log(conn, current.id) if event.kind == "undo" else None
    event, after = _step(current, event, log)
    await conn.execute(insert(events_table).values(event_row(current.id, after.version, event, datetime.now(UTC))))
    updated = await conn.execute(
        update(matches_table)
        .where(matches_table.c.id == current.id, matches_table.c.version == current.version)
        .values(version=after.version, state=state_to_json(after), status=after.status)
    )
    if updated.rowcount != 1:
        raise StaleVersion("The match changed while recording; please try again.")
    return after, event


async def _insert_matches(
    conn: AsyncConnection, fixtures: Sequence[Match], start: int, keys: Sequence[str | None] | None = None
) -> None:
    if not fixtures:
        return
    keys = keys or [None] * len(fixtures)
    await conn.execute(
        insert(matches_table),
        [
            {**match_columns(match), "fixture_key": key, "version": 0, "position": start + index}
            for index, (match, key) in enumerate(zip(fixtures, keys, strict=True))
        ],
    )
