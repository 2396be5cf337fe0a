"""The store: what it keeps is always the replay of the log, and concurrent writes are exact."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from livescores.matches import Event, Match, Minute, RuleViolation, replay
from livescores.store import StaleVersion, Store, UnknownMatch, _enter_wal


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = Store(database_url)
    await opened.migrate()
    await opened.add_fixtures(
        [("k1", Match(id="m1", home="Hull", away="Stoke")), ("k2", Match(id="m2", home="A", away="B"))]
    )
    # Closed within the test's event loop: connections left to the garbage collector would be
    # closed later, from a loop that no longer runs.
    yield opened
    await opened.close()


def random_events(seed: int, count: int) -> list[Event]:
    rng = random.Random(seed)
    start = datetime(2026, 5, 1, 15, 0, tzinfo=UTC)
    kinds = ["goal", "goal", "yellow_card", "red_card", "undo", "half_time", "second_half", "full_time", "kick_off"]
    events = []
    for n in range(count):
        kind = rng.choice(kinds)
        events.append(
            Event(
                kind,  # type: ignore[arg-type]
                start + timedelta(minutes=n),
                side=rng.choice(["home", "away"]),
                player=rng.choice([None, "Ann", "Bo"]),
                minute=rng.choice([None, Minute(rng.randint(1, 90))]),
            )
        )
    return events


@pytest.mark.parametrize("seed", range(4))
async def test_the_stored_state_is_always_the_replay_of_the_log(store: Store, seed: int) -> None:
    accepted = 0
    for event in random_events(seed, 60):
        if event.kind in ("goal", "yellow_card", "red_card"):
            event = Event(event.kind, event.at, event.side, event.player, event.minute)
        try:
            await store.record("m1", event)
            accepted += 1
        except RuleViolation:
            pass
        stored = await store.get_match("m1")
        assert stored is not None
        fixture = Match(id="m1", home="Hull", away="Stoke")
        assert stored == replay(fixture, await store.events("m1"))
    assert accepted > 0


async def test_refused_writes_in_a_batch_leave_the_others_standing(store: Store) -> None:
    now = datetime.now(UTC)
    await store.record("m1", Event("kick_off", now))
    await store.record("m2", Event("kick_off", now))
    outcomes = await asyncio.gather(
        store.record("m1", Event("goal", now, side="home")),
        store.record("m1", Event("goal", now, side="away"), expected_version=0),
        store.record("nope", Event("goal", now, side="home")),
        store.record("m2", Event("kick_off", now)),
        store.record("m2", Event("goal", now, side="away")),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], tuple)
    assert isinstance(outcomes[1], StaleVersion)
    assert isinstance(outcomes[2], UnknownMatch)
    assert isinstance(outcomes[3], RuleViolation)
    assert isinstance(outcomes[4], tuple)
    m1, m2 = await store.get_match("m1"), await store.get_match("m2")
    assert m1 is not None and (m1.home_score, m1.away_score, m1.version) == (1, 0, 2)
    assert m2 is not None and (m2.home_score, m2.away_score, m2.version) == (0, 1, 2)


async def test_many_concurrent_goals_are_each_stored_once(store: Store) -> None:
    now = datetime.now(UTC)
    await store.record("m1", Event("kick_off", now))
    results = await asyncio.gather(*(store.record("m1", Event("goal", now, side="home")) for _ in range(300)))
    versions = sorted(match.version for match, _ in results)
    assert versions == list(range(2, 302))
    stored = await store.get_match("m1")
    assert stored is not None and stored.home_score == 300 and len(await store.events("m1")) == 301


def _open_like_a_starting_worker(path: str, start: Any) -> None:
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    connection.execute("PRAGMA busy_timeout=30000")
    start.wait()
    _enter_wal(connection.cursor())
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("CREATE TABLE IF NOT EXISTS started (pid INTEGER)")
    connection.execute("INSERT INTO started VALUES (?)", (os.getpid(),))
    connection.execute("COMMIT")


def test_workers_racing_on_a_fresh_sqlite_file_all_start(tmp_path: Path) -> None:
    """Switching a new file to WAL needs a lock SQLite does not wait for; every worker opening
    the file at once must still get through (before, one was refused with "database is locked")."""
    context = multiprocessing.get_context("fork")
    for attempt in range(60):
        path = str(tmp_path / f"race-{attempt}.db")
        start = context.Event()
        workers = [context.Process(target=_open_like_a_starting_worker, args=(path, start)) for _ in range(3)]
        for worker in workers:
            worker.start()
        start.set()
        for worker in workers:
            worker.join(60)
        assert [worker.exitcode for worker in workers] == [0, 0, 0], f"attempt {attempt}"
        with sqlite3.connect(path) as check:
            assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            assert check.execute("SELECT count(*) FROM started").fetchone() == (3,)
