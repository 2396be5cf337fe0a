"""Recording a batch of events: one algorithm over a small interface each engine implements.

A batch reads its matches (holding them: SQLite's write lock, PostgreSQL row locks), reuses
the matches this process committed last when they are unchanged, reads the logs an undo needs,
applies the rules in arrival order, appends the accepted events and moves each match on from
the version it was read at. A refused event is refused alone; a failed statement fails the
whole transaction, and the caller fails every event of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import ARRAY, DateTime, Integer, String, Text, bindparam, cast, insert, select, text, update
from sqlalchemy.engine import Connection

from . import legs
from .accounts import Audit
from .codec import FIXTURE_COLUMNS, StoredState, event_from_row, event_row, match_from_row, stored_state, utc
from .matches import Event, Match, RuleViolation, apply, fill_minute, replay
from .said import N_
from .schema import events_table, matches_table

Request = tuple[str, Event, int | None, Audit | None]  # match id, event, expected version, who
Outcome = tuple[Match, Event] | Exception


class UnknownMatch(RuleViolation):
    pass


class StaleVersion(RuleViolation):
    def __init__(self, message: str, current: Match | None = None) -> None:
        super().__init__(message)
        self.current = current  # the match as stored, for a sender whose view is out of date


class MatchChange(NamedTuple):
    match_id: str
    was: int  # the version it was read at: the update applies only if it still is
    now: int
    state: str  # the state's JSON text
    status: str
    kickoff: datetime | None  # a postponed match moves to its new kick-off: the column follows the state


class BatchIO(Protocol):
    """The statements of a batch, inside a transaction the caller opened and will commit."""

    def read_matches(self, match_ids: Sequence[str]) -> Iterable[Mapping[Any, Any]]:
        """The matches' rows, held until the commit; `state` as the text stored."""

    def read_logs(self, match_ids: Sequence[str]) -> dict[str, list[Event]]: ...

    def read_context(self, matches: Mapping[str, Match]) -> dict[str, Match]:
        """The matches whose tie's context (legs.py) is not what they carry, brought up to date."""

    def insert_events(self, rows: Sequence[dict[str, Any]]) -> None:
        """Rows as `codec.event_row` makes them."""

    def update_matches(self, changes: Sequence[MatchChange]) -> int:
        """How many matches were still at the version they were read at, and so changed."""


def write_batch(
    io: BatchIO, requests: Sequence[Request], committed: Mapping[str, StoredState]
) -> tuple[list[Outcome], dict[str, StoredState]]:
    """Each request's outcome, and the matches written as stored (for `committed` next time)."""
    read: dict[str, Match] = {}
    unchanged: dict[str, StoredState] = {}
    for row in io.read_matches(sorted({match_id for match_id, _, _, _ in requests})):
        known = committed.get(row["id"])
        # Versions only grow and a write changes only the state, so an unchanged version and
        # state mean the match is as this process left it.
        if known is not None and known.match.version == row["version"] and known.state == row["state"]:
            read[row["id"]], unchanged[row["id"]] = known.match, known
        else:
            read[row["id"]] = match_from_row(row)
    # A first leg may have finished since its second leg was last written: the rules see it now.
    read.update(io.read_context(read))
    # An undo replays the match's whole log; only those matches' logs are read.
    logs = io.read_logs(sorted({m for m, asked, _, _ in requests if asked.kind == "undo" and m in read}))
    outcomes, after, accepted = _apply_batch(read, logs, requests)
    written = {match_id: stored_state(match, unchanged.get(match_id)) for match_id, match in after.items()}
    if accepted:
        recorded_at = datetime.now(UTC)
        io.insert_events([event_row(m, version, event, recorded_at, audit) for m, version, event, audit in accepted])
        changes = [
            MatchChange(
                match_id,
                read[match_id].version,
                new.match.version,
                new.state,
                new.match.status,
                utc(new.match.kickoff) if new.match.kickoff else None,
            )
            for match_id, new in written.items()
        ]
        if io.update_matches(changes) != len(changes):
            raise StaleVersion(N_("The match changed while recording; please try again."))
    return outcomes, written


def _apply_batch(
    read: Mapping[str, Match], logs: dict[str, list[Event]], requests: Sequence[Request]
) -> tuple[list[Outcome], dict[str, Match], list[tuple[str, int, Event, Audit | None]]]:
    """The rules over a batch, in arrival order: each request's outcome, the matches that
    changed as they end up, and the events to store (match id, version, event). A later event
    on the same match sees the accepted ones before it. `logs` holds the logs of the matches
    that an undo asks for, and grows with the batch."""
    current = dict(read)
    outcomes: list[Outcome] = []
    accepted: list[tuple[str, int, Event, Audit | None]] = []
    for match_id, asked, expected_version, audit in requests:
        match = current.get(match_id)
        if match is None:
            outcomes.append(UnknownMatch(N_("There is no match %(match)r.", match=match_id)))
            continue
        if expected_version is not None and expected_version != match.version:
            outcomes.append(StaleVersion(N_("The match changed since you looked — check and click again."), match))
            continue
        try:
            stored, after = _step(match, asked, logs.get(match_id))
        except Exception as refused:  # nothing is written yet, so it takes nothing else with it
            outcomes.append(refused)
            continue
        if match_id in logs:
            logs[match_id].append(stored)
        current[match_id] = after
        accepted.append((match_id, after.version, stored, audit))
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


# The state as the text it is stored as (PostgreSQL's json keeps the text it was given; its
# driver would parse it), so that it can be compared with what was written.
_READ_MATCHES = select(
    *(matches_table.c[column] for column in FIXTURE_COLUMNS.values()),
    cast(matches_table.c.state, Text).label("state"),
)

# One statement of one shape for any number of matches: executemany's row count is not given
# by PostgreSQL's driver, and a VALUES list would be compiled anew for every batch.
_UPDATE_MATCHES = text(
    "UPDATE matches SET version = changes.now, state = CAST(changes.state AS JSON), status = changes.status,"
    " kickoff = changes.kickoff"
    " FROM unnest(:match_ids, :was, :now, :states, :statuses, :kickoffs)"
    " AS changes(match_id, was, now, state, status, kickoff)"
    " WHERE matches.id = changes.match_id AND matches.version = changes.was"
).bindparams(
    bindparam("match_ids", type_=ARRAY(String)),
    bindparam("was", type_=ARRAY(Integer)),
    bindparam("now", type_=ARRAY(Integer)),
    bindparam("states", type_=ARRAY(Text)),
    bindparam("statuses", type_=ARRAY(Text)),
    bindparam("kickoffs", type_=ARRAY(DateTime(timezone=True))),
)


class SQLAlchemyIO:
    """A batch through a SQLAlchemy connection (inside `AsyncConnection.run_sync`): the group
    writer's on PostgreSQL, with row locks taken in id order so that workers writing
    overlapping batches wait for each other instead of deadlocking; and on either engine
    for the few events written beside other changes (the demo's opening kick-offs)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"

    def read_matches(self, match_ids: Sequence[str]) -> Iterable[Mapping[Any, Any]]:
        query = _READ_MATCHES.where(matches_table.c.id.in_(match_ids)).order_by(matches_table.c.id)
        return [row._mapping for row in self.conn.execute(query.with_for_update())]

    def read_logs(self, match_ids: Sequence[str]) -> dict[str, list[Event]]:
        logs: dict[str, list[Event]] = {match_id: [] for match_id in match_ids}
        if match_ids:
            query = select(events_table).where(events_table.c.match_id.in_(match_ids))
            for row in self.conn.execute(query.order_by(events_table.c.match_id, events_table.c.version)):
                logs[row.match_id].append(event_from_row(row._mapping))
        return logs

    def read_context(self, matches: Mapping[str, Match]) -> dict[str, Match]:
        return legs.fill_sync(self.conn, matches)

    def insert_events(self, rows: Sequence[dict[str, Any]]) -> None:
        self.conn.execute(insert(events_table), list(rows))

    def update_matches(self, changes: Sequence[MatchChange]) -> int:
        if self.postgres:
            columns = ("match_ids", "was", "now", "states", "statuses", "kickoffs")
            return self.conn.execute(
                _UPDATE_MATCHES, dict(zip(columns, map(list, zip(*changes, strict=True)), strict=True))
            ).rowcount
        statement = update(matches_table).where(
            matches_table.c.id == bindparam("match_id"), matches_table.c.version == bindparam("was")
        )
        return sum(
            self.conn.execute(
                statement.values(
                    version=change.now, state=cast(change.state, Text), status=change.status, kickoff=change.kickoff
                ),
                {"match_id": change.match_id, "was": change.was},
            ).rowcount
            for change in changes
        )
