"""The store: what it keeps is always the replay of the log, and concurrent writes are exact."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import random
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from livescores.matches import Event, Match, Minute, RuleViolation, apply, fill_minute, replay
from livescores.store import (
    StaleVersion,
    Store,
    UnknownMatch,
    _enter_wal,
    events_table,
    match_from_dict,
    match_to_dict,
    state_to_json,
)

# As stored: add_fixtures gives each match its competition (Friendlies when none is named) and
# teams, and the competition's format (legs.py; a competition made for a name is a league).
FIXTURES = {
    "m1": Match(
        id="m1",
        home="Hull",
        away="Stoke",
        competition="Friendlies",
        competition_slug="friendlies",
        home_slug="hull",
        away_slug="stoke",
        competition_format="league",
    ),
    "m2": Match(
        id="m2",
        home="A",
        away="B",
        kickoff=datetime(2026, 5, 1, 15, 0, tzinfo=UTC),
        competition="Cup",
        competition_slug="cup",
        home_slug="a",
        away_slug="b",
        competition_format="league",
    ),
}


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = Store(database_url)
    await opened.migrate()
    bare = [
        replace(
            match,
            competition=None if match_id == "m1" else match.competition,
            competition_slug=None,
            competition_format=None,
        )
        for match_id, match in FIXTURES.items()
    ]
    assert await opened.add_fixtures([(f"k-{m.id}", replace(m, home_slug=None, away_slug=None)) for m in bare]) == list(
        FIXTURES.values()
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
        assert (stored.id, stored.home, stored.away, stored.home_slug) == ("m1", "Hull", "Stoke", "hull")
        assert stored == replay(stored.fixture, await store.events("m1"))
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


Request = tuple[str, Event, int | None]


def expected_outcomes(requests: list[Request]) -> list[tuple[Match, Event] | tuple[type, str]]:
    """What recording the requests one after the other must give, by the pure rules alone:
    (match, event) when accepted, (exception type, message) when refused."""
    logs: dict[str, list[Event]] = {match_id: [] for match_id in FIXTURES}
    current = dict(FIXTURES)
    outcomes: list[tuple[Match, Event] | tuple[type, str]] = []
    for match_id, event, expected_version in requests:
        if match_id not in current:
            outcomes.append((UnknownMatch, f"There is no match {match_id!r}."))
            continue
        match = current[match_id]
        if expected_version is not None and expected_version != match.version:
            outcomes.append((StaleVersion, "The match changed since you looked — check and click again."))
            continue
        event = fill_minute(match, event)
        try:
            after = replay(match, [*logs[match_id], event]) if event.kind == "undo" else apply(match, event)
        except RuleViolation as refused:
            outcomes.append((type(refused), str(refused)))
            continue
        logs[match_id].append(event)
        current[match_id] = after
        outcomes.append((after, event))
    return outcomes


async def recorded_in_one_batch(store: Store, requests: list[Request]) -> list[Any]:
    """Every request made at once, as concurrent scorers do; each gets its own answer."""
    return await asyncio.gather(*(store.record(*request) for request in requests), return_exceptions=True)


def as_comparable(outcome: Any) -> Any:
    return (type(outcome), str(outcome)) if isinstance(outcome, Exception) else outcome


async def assert_stored_is_the_replay_of_the_log(store: Store) -> None:
    for match_id, fixture in FIXTURES.items():
        stored = await store.get_match(match_id)
        assert stored == replay(fixture, await store.events(match_id))


async def recorded_at_of_each_event(store: Store) -> list[datetime]:
    async with store.reader.connect() as conn:
        return list((await conn.execute(select(events_table.c.recorded_at))).scalars())


async def test_a_batch_of_accepted_and_refused_events_is_what_one_after_the_other_would_give(store: Store) -> None:
    at = datetime(2026, 5, 1, 15, 0, tzinfo=UTC)
    requests: list[Request] = [
        ("m1", Event("goal", at, side="home"), None),  # refused: not kicked off
        ("m1", Event("kick_off", at), 0),
        ("m1", Event("goal", at + timedelta(minutes=3), side="home", player="Ann"), None),
        ("m1", Event("goal", at, side="away"), 1),  # refused: stale, the kick-off and a goal came first
        ("nope", Event("goal", at, side="home"), None),  # refused: no such match
        ("m2", Event("half_time", at), None),  # refused: not kicked off
        ("m1", Event("red_card", at + timedelta(minutes=5), side="home", player="Ann"), 2),
        ("m2", Event("kick_off", at), None),
        ("m1", Event("goal", at + timedelta(minutes=6), side="home", player="ann"), None),  # refused: sent off
        ("m1", Event("goal", at + timedelta(minutes=7), side="away", minute=Minute(80)), None),  # refused: minute
        ("m2", Event("goal", at + timedelta(minutes=1), side="away", own_goal=True), 1),
        ("m1", Event("goal", at + timedelta(minutes=8), side="away"), 3),
        ("m2", Event("kick_off", at), None),  # refused: already under way
    ]
    outcomes = await recorded_in_one_batch(store, requests)
    assert [as_comparable(outcome) for outcome in outcomes] == expected_outcomes(requests)
    assert [type(outcome).__name__ for outcome in outcomes if isinstance(outcome, Exception)] == [
        "RuleViolation",
        "StaleVersion",
        "UnknownMatch",
        "RuleViolation",
        "RuleViolation",
        "RuleViolation",
        "RuleViolation",
    ]
    m1, m2 = await store.get_match("m1"), await store.get_match("m2")
    assert m1 is not None and (m1.home_score, m1.away_score, m1.version, len(m1.red_cards("home"))) == (1, 1, 4, 1)
    assert m2 is not None and (m2.home_score, m2.away_score, m2.version) == (0, 1, 2)
    assert [event.kind for event in await store.events("m1")] == ["kick_off", "goal", "red_card", "goal"]
    await assert_stored_is_the_replay_of_the_log(store)
    assert len(set(await recorded_at_of_each_event(store))) == 1, "all in one transaction"


async def test_an_undo_in_a_batch_cancels_the_latest_event_standing_including_the_batchs_own(store: Store) -> None:
    at = datetime(2026, 5, 1, 15, 0, tzinfo=UTC)
    await store.record("m1", Event("kick_off", at))
    await store.record("m1", Event("goal", at, side="home"))
    requests: list[Request] = [
        ("m1", Event("goal", at + timedelta(minutes=1), side="away", player="Bo"), None),
        ("m2", Event("undo", at), None),  # refused: nothing to undo
        ("m1", Event("undo", at), None),  # cancels Bo's goal, from this batch
        ("m1", Event("undo", at), 4),  # cancels the home goal, from before
        ("m2", Event("kick_off", at), None),
        ("m1", Event("goal", at + timedelta(minutes=2), side="away"), 5),
        ("m2", Event("undo", at), 1),  # cancels the kick-off of this batch
        ("m2", Event("goal", at, side="home"), None),  # refused: not under way any more
    ]
    outcomes = await recorded_in_one_batch(store, requests)
    before = [("m1", Event("kick_off", at), None), ("m1", Event("goal", at, side="home"), None)]
    assert [as_comparable(outcome) for outcome in outcomes] == expected_outcomes(before + requests)[2:]
    m1, m2 = await store.get_match("m1"), await store.get_match("m2")
    assert m1 is not None and (m1.home_score, m1.away_score, m1.version) == (0, 1, 6)
    assert m2 is not None and (m2.status, m2.version) == ("scheduled", 2)
    await assert_stored_is_the_replay_of_the_log(store)


@pytest.mark.parametrize("seed", range(3))
async def test_random_batches_give_what_one_after_the_other_would(store: Store, seed: int) -> None:
    rng = random.Random(seed)
    requests: list[Request] = []
    for event in random_events(seed, 240):
        match_id = rng.choice(["m1", "m1", "m2", "nope"])
        requests.append((match_id, event, rng.choice([None, None, rng.randint(0, 12)])))
    outcomes: list[Any] = []
    for start in range(0, len(requests), 40):
        outcomes += await recorded_in_one_batch(store, requests[start : start + 40])
    assert [as_comparable(outcome) for outcome in outcomes] == expected_outcomes(requests)
    assert sum(isinstance(outcome, tuple) for outcome in outcomes) > 20
    await assert_stored_is_the_replay_of_the_log(store)


async def block_commits(store: Store) -> None:
    """Make every commit that stored an event fail, for real: the database itself refuses it,
    at commit time, through a foreign key that is only checked then."""
    async with store.engine.begin() as conn:
        if store.is_sqlite:
            await conn.exec_driver_sql(
                "CREATE TABLE blocker (event_id INTEGER REFERENCES events(id) DEFERRABLE INITIALLY DEFERRED)"
            )
            await conn.exec_driver_sql(
                "CREATE TRIGGER block AFTER INSERT ON events BEGIN INSERT INTO blocker VALUES (-NEW.id); END"
            )
        else:
            await conn.exec_driver_sql(
                "CREATE TABLE blocker (event_id INTEGER REFERENCES events(id) DEFERRABLE INITIALLY DEFERRED)"
            )
            await conn.exec_driver_sql(
                "CREATE FUNCTION block() RETURNS trigger LANGUAGE plpgsql AS"
                " $$ BEGIN INSERT INTO blocker VALUES (-NEW.id); RETURN NEW; END $$"
            )
            await conn.exec_driver_sql(
                "CREATE TRIGGER block AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION block()"
            )


async def unblock_commits(store: Store) -> None:
    async with store.engine.begin() as conn:
        await conn.exec_driver_sql("DROP TRIGGER block" if store.is_sqlite else "DROP TRIGGER block ON events")
        await conn.exec_driver_sql("DROP TABLE blocker")


async def test_a_failed_commit_stores_nothing_of_the_batch_and_fails_every_event_in_it(store: Store) -> None:
    at = datetime.now(UTC)
    await store.record("m1", Event("kick_off", at))
    await store.record("m2", Event("kick_off", at))
    await store.record("m1", Event("goal", at, side="home"))
    before = {match_id: await store.get_match(match_id) for match_id in FIXTURES}
    await block_commits(store)
    outcomes = await recorded_in_one_batch(
        store,
        [
            ("m1", Event("goal", at, side="home"), None),
            ("m2", Event("goal", at, side="away"), None),
            ("m1", Event("undo", at), None),
            ("m2", Event("half_time", at), 1),
            ("nope", Event("goal", at, side="home"), None),
        ],
    )
    assert all(isinstance(outcome, IntegrityError) for outcome in outcomes), outcomes
    assert "FOREIGN KEY" in str(outcomes[0]).upper()
    assert {match_id: await store.get_match(match_id) for match_id in FIXTURES} == before
    assert [len(await store.events(match_id)) for match_id in FIXTURES] == [2, 1]
    # The writer starts afresh: the next batch sees the database as it is, not the failed batch.
    await unblock_commits(store)
    outcomes = await recorded_in_one_batch(
        store, [("m1", Event("goal", at, side="away"), 2), ("m2", Event("goal", at, side="away"), 1)]
    )
    assert [(match.version, match.home_score, match.away_score) for match, _ in outcomes] == [(3, 1, 1), (2, 0, 1)]
    await assert_stored_is_the_replay_of_the_log(store)


async def test_stores_of_several_workers_writing_at_once_count_each_goal_once(database_url: str, store: Store) -> None:
    now = datetime.now(UTC)
    await store.record("m1", Event("kick_off", now))
    await store.record("m2", Event("kick_off", now))
    workers = [Store(database_url) for _ in range(3)]
    try:

        async def goals(worker: Store, number: int) -> list[tuple[Match, Event]]:
            # Batch after batch, each on both matches in an order of its own, interleaved with the
            # other workers' batches: what a worker knows of a match is often out of date.
            order = ["m1", "m2"] if number % 2 else ["m2", "m1"]
            done: list[tuple[Match, Event]] = []
            for _ in range(6):
                done += await asyncio.gather(
                    *(worker.record(order[n % 2], Event("goal", now, side="home")) for n in range(10))
                )
            return done

        results = [r for batch in await asyncio.gather(*(goals(w, n) for n, w in enumerate(workers))) for r in batch]
    finally:
        for worker in workers:
            await worker.close()
    for match_id in FIXTURES:
        versions = sorted(match.version for match, _ in results if match.id == match_id)
        assert versions == list(range(2, 92))
        stored = await store.get_match(match_id)
        assert stored is not None and stored.home_score == 90 and stored.version == 91
    await assert_stored_is_the_replay_of_the_log(store)


async def test_a_closed_store_reopens_what_it_needs_when_used_again(store: Store) -> None:
    now = datetime.now(UTC)
    await store.record("m1", Event("kick_off", now))
    await store.close()
    match, _ = await store.record("m1", Event("goal", now, side="away"))
    assert (match.away_score, match.version) == (1, 2)
    assert await store.get_match("m1") == match


async def test_closing_lets_the_events_already_given_finish_first(database_url: str, store: Store) -> None:
    now = datetime.now(UTC)
    await store.record("m1", Event("kick_off", now))
    recording = [asyncio.create_task(store.record("m1", Event("goal", now, side="home"))) for _ in range(30)]
    await asyncio.sleep(0)  # they are queued, and the first batch is under way
    await store.close()
    assert all(task.done() for task in recording)
    acknowledged = [task.result()[0].version for task in recording]
    assert sorted(acknowledged) == list(range(2, 32))
    reopened = Store(database_url)
    try:
        stored = await reopened.get_match("m1")
        assert stored is not None and (stored.version, stored.home_score) == (31, 30)
    finally:
        await reopened.close()


async def test_closing_a_writer_that_cannot_finish_fails_its_events_instead_of_hanging(
    database_url: str, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not store.is_sqlite:
        pytest.skip("holding the write lock from outside is SQLite's")
    monkeypatch.setattr("livescores.store.CLOSE_DRAIN_SECONDS", 0.3)
    blocker = sqlite3.connect(database_url.split("///", 1)[1], isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock: the batch waits
    try:
        recording = [asyncio.create_task(store.record("m1", Event("kick_off", datetime.now(UTC)))) for _ in range(3)]
        await asyncio.sleep(0.05)
        await asyncio.wait_for(store.close(), 5)
        await asyncio.sleep(0)
        assert all(task.cancelled() for task in recording)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


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


def test_a_match_goes_between_workers_and_into_the_store_unchanged() -> None:
    at = datetime(2026, 5, 1, 15, 0, tzinfo=UTC)
    events = [
        Event("kick_off", at),
        Event("goal", at, side="home", player="Ann", minute=Minute(12)),
        Event("yellow_card", at, side="away", player="Bo", minute=Minute(30)),
        Event("goal", at, side="away", minute=Minute(45, 2), penalty=True),
        Event("half_time", at),
        Event("second_half", at),
        Event("red_card", at, side="home", player="Cy", minute=Minute(70)),
        Event("goal", at, side="home", player="Dee", minute=Minute(88), own_goal=True),
    ]
    match = replay(FIXTURES["m1"], events)
    assert len(match.incidents) == 8
    state = state_to_json(match)
    assert state["incidents"] == [asdict(incident) for incident in match.incidents], "the stored format"
    assert match_from_dict(json.loads(json.dumps(match_to_dict(match)))) == match
