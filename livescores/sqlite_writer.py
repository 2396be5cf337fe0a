"""SQLite: the connection set-up every engine of the store shares, and the group writer's
batches, written from a thread of its own through the driver's connection itself.

The asyncio driver hops to its thread and back several times per statement, and SQLAlchemy's
own work per statement outweighs the statement, so a batch costs one hop and a few plain
statements instead. Values go through SQLAlchemy's own processors for their columns, so they
are stored exactly as everything else reads them.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, create_engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool, PoolProxiedConnection

from . import legs
from .batches import MatchChange, Outcome, Request, write_batch
from .codec import FIXTURE_COLUMNS, StoredState, event_from_row
from .matches import Event, Match
from .schema import events_table

log = logging.getLogger(__name__)

# A commit that takes longer than this is logged: with synchronous=FULL it waits for the disk
# (the WAL's fsync, and a checkpoint's), and each goal of its batch waits with it.
SLOW_COMMIT_SECONDS = 0.1

_EVENT_COLUMNS = ("match_id", "version", "kind", "payload", "at", "recorded_by", "recorded_at")
_INSERTED_COLUMNS = (*_EVENT_COLUMNS, "account_id", "client_address", "user_agent")
_MATCH_COLUMNS = (*FIXTURE_COLUMNS.values(), "state")


def configure_sqlite(engine: Engine, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        if immediate:  # the writer; WAL is a property of the file, so readers need not ask again
            # WAL with FULL sync: an acknowledged goal survives a crash of the process or the machine.
            enter_wal(cursor)
            cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def enter_wal(cursor: Any) -> None:
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


def _processor(given: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    return given if given is not None else (lambda value: value)


class _RawIO:
    """A batch's statements on the driver's own connection, inside the writer's transaction."""

    db: sqlite3.Connection  # the writer thread's, set before each batch

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect
        at, payload = (events_table.c[name].type.dialect_impl(dialect) for name in ("at", "payload"))
        self.time_to_db = _processor(at.bind_processor(dialect))
        self.json_to_db = _processor(payload.bind_processor(dialect))
        self.time_from_db = _processor(at.result_processor(dialect, None))
        self.json_from_db = _processor(payload.result_processor(dialect, None))

    def read_matches(self, match_ids: Sequence[str]) -> Iterable[Mapping[Any, Any]]:
        rows = self.db.execute(
            f"SELECT {', '.join(_MATCH_COLUMNS)} FROM matches WHERE id IN ({', '.join('?' * len(match_ids))})",
            match_ids,
        )
        for values in rows:
            row = dict(zip(_MATCH_COLUMNS, values, strict=True))
            row["kickoff"] = self.time_from_db(row["kickoff"])
            yield row

    def read_logs(self, match_ids: Sequence[str]) -> dict[str, list[Event]]:
        logs: dict[str, list[Event]] = {match_id: [] for match_id in match_ids}
        if not match_ids:
            return logs
        rows = self.db.execute(
            f"SELECT {', '.join(_EVENT_COLUMNS)} FROM events"
            f" WHERE match_id IN ({', '.join('?' * len(match_ids))}) ORDER BY match_id, version",
            match_ids,
        )
        for values in rows:
            row = dict(zip(_EVENT_COLUMNS, values, strict=True))
            row.update(payload=self.json_from_db(row["payload"]), at=self.time_from_db(row["at"]))
            logs[row["match_id"]].append(event_from_row(row))
        return logs

    def read_context(self, matches: Mapping[str, Match]) -> dict[str, Match]:
        wanted = {match_id: m for match_id, m in matches.items() if legs.needs_context(m)}
        if not wanted:
            return {}
        return legs.apply_rows(wanted, self.db.execute(legs.context_sql(len(wanted)), list(wanted)))

    def insert_events(self, rows: Sequence[dict[str, Any]]) -> None:
        converted = {"payload": self.json_to_db, "at": self.time_to_db, "recorded_at": self.time_to_db}
        self.db.executemany(
            f"INSERT INTO events ({', '.join(_INSERTED_COLUMNS)}) VALUES ({', '.join('?' * len(_INSERTED_COLUMNS))})",
            [
                tuple(converted[name](row[name]) if name in converted else row[name] for name in _INSERTED_COLUMNS)
                for row in rows
            ],
        )

    def update_matches(self, changes: Sequence[MatchChange]) -> int:
        updated = self.db.executemany(
            "UPDATE matches SET version = ?, state = ?, status = ?, kickoff = ? WHERE id = ? AND version = ?",
            [
                (change.now, change.state, change.status, self.time_to_db(change.kickoff), change.match_id, change.was)
                for change in changes
            ],
        )
        return updated.rowcount


class SQLiteBatches:
    """The group writer's batches on SQLite, each one transaction committed before it returns."""

    def __init__(self, url: URL) -> None:
        # The same driver options, and the same connection set-up (WAL, FULL sync), as the
        # writer engine; it is only ever used from the one thread.
        self.engine = create_engine(
            url.set(drivername="sqlite"), connect_args={"timeout": 30, "check_same_thread": False}, poolclass=NullPool
        )
        configure_sqlite(self.engine, immediate=True)
        self._thread: ThreadPoolExecutor | None = None
        self._connection: PoolProxiedConnection | None = None
        self._io = _RawIO(self.engine)
        self._busy = False  # a batch is under way in the thread

    async def write(
        self, requests: Sequence[Request], committed: Mapping[str, StoredState]
    ) -> tuple[list[Outcome], dict[str, StoredState]]:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="livescores-sqlite-writer")
        # A copy: a cancelled caller may go on while the thread still reads it.
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._write, requests, dict(committed))

    async def close(self) -> None:
        """Like disposing of an engine: a later batch opens what it needs again. A batch still
        under way (its caller cancelled) is interrupted and rolled back."""
        if self._connection is not None and isinstance(self._connection.driver_connection, sqlite3.Connection):
            self._connection.driver_connection.interrupt()  # the one call sqlite3 allows from any thread
        if self._thread is not None:
            thread, self._thread = self._thread, None
            if self._busy:  # it rolls back and disconnects when the statement gives up; no waiting
                thread.submit(self._disconnect)
            else:
                await asyncio.get_running_loop().run_in_executor(thread, self._disconnect)
            thread.shutdown(wait=False)

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.invalidate()  # closes it; an open transaction is rolled back
            self._connection = None

    def _write(
        self, requests: Sequence[Request], committed: Mapping[str, StoredState]
    ) -> tuple[list[Outcome], dict[str, StoredState]]:
        self._busy = True
        try:
            return self._write_batch(requests, committed)
        finally:
            self._busy = False

    def _write_batch(
        self, requests: Sequence[Request], committed: Mapping[str, StoredState]
    ) -> tuple[list[Outcome], dict[str, StoredState]]:
        if self._connection is None:
            self._connection = self.engine.raw_connection()
        db = self._connection.driver_connection
        assert isinstance(db, sqlite3.Connection)
        try:
            db.execute("BEGIN IMMEDIATE")
            self._io.db = db
            result = write_batch(self._io, requests, committed)
            started = time.perf_counter()
            db.execute("COMMIT")
            took = time.perf_counter() - started
            if took > SLOW_COMMIT_SECONDS:
                log.info("store: slow commit, %.0f ms for a batch of %d events", took * 1000, len(requests))
        except BaseException as error:
            # Whatever failed, nothing of this transaction stays; the next batch starts afresh.
            self._disconnect()
            if isinstance(error, sqlite3.Error):  # as SQLAlchemy raises it everywhere else
                raise DBAPIError.instance(None, None, error, sqlite3.Error, dialect=self.engine.dialect) from error
            raise
        return result
