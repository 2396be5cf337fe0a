"""Scorer accounts in the database: adding, inviting, signing in, revoking; wrong sign-ins
shared by every worker; the audit of who recorded what. Mixed into `Store`, like `Reads`.

Passwords are hashed with argon2 (argon2-cffi, the reference implementation's bindings).
Invitation tokens are kept only as their SHA-256: a copy of the database invites nobody.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .accounts import (
    INVITATION_HOURS,
    MAX_ACCOUNT_DELAY,
    MAX_ADDRESS_DELAY,
    Account,
    check_password,
    clean_account_name,
    failure_delay,
)
from .codec import aware
from .matches import RuleViolation
from .schema import events_table, invitations_table, matches_table, scorers_table, signin_failures_table

_hasher = PasswordHasher()
# Verified against when no account has the name, so that the answer takes as long either way.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
FAILURES_FORGOTTEN = timedelta(hours=1)


class NoSuchAccount(RuleViolation):
    pass


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    match_id: str
    version: int
    kind: str
    account: str | None
    recorded_by: str | None
    client_address: str | None
    user_agent: str | None


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode(errors="replace")).hexdigest()


def _account(row: Mapping[Any, Any], last_active: datetime | None = None) -> Account:
    return Account(
        id=row["id"],
        name=row["name"],
        admin=bool(row["admin"]),
        competitions=tuple(row["competitions"] or ()),
        generation=row["generation"],
        revoked=bool(row["revoked"]),
        has_password=row["password_hash"] is not None,
        created_at=aware(row["created_at"]) if row["created_at"] else None,
        last_active=aware(last_active) if last_active else None,
    )


class Accounts:
    engine: AsyncEngine
    reader: AsyncEngine

    if TYPE_CHECKING:

        def write(self) -> AbstractAsyncContextManager[AsyncConnection]:  # the Store's
            raise NotImplementedError

    # -- accounts ---------------------------------------------------------------------------

    async def add_scorer(
        self, name: str, admin: bool = False, competitions: tuple[str, ...] = ()
    ) -> tuple[Account, str]:
        """A new account and its one-time invitation token; RuleViolation if the name is taken."""
        name = clean_account_name(name)
        async with self.write() as conn:
            if await _find(conn, name) is not None:
                raise RuleViolation(f"There is already a scorer named {name!r}.")
            known = set((await conn.execute(select(matches_table.c.competition_slug).distinct())).scalars())
            from .schema import competitions_table

            known |= set((await conn.execute(select(competitions_table.c.slug))).scalars())
            unknown = [slug for slug in competitions if slug not in known]
            if unknown:
                raise RuleViolation(f"There is no competition {unknown[0]!r}.")
            result = await conn.execute(
                insert(scorers_table).values(
                    name=name,
                    name_key=name.lower(),
                    admin=admin,
                    competitions=list(competitions),
                    generation=1,
                    revoked=False,
                    created_at=datetime.now(UTC),
                )
            )
            account_id = int(result.inserted_primary_key[0])  # type: ignore[index]
            token = await _invite(conn, account_id)
            row = await _row(conn, account_id)
        return _account(row), token

    async def scorers(self) -> list[Account]:
        """Every account, with the time of the last event it recorded or of its last sign-in."""
        last_event = (
            select(events_table.c.account_id, func.max(events_table.c.recorded_at).label("last"))
            .where(events_table.c.account_id.is_not(None))
            .group_by(events_table.c.account_id)
            .subquery()
        )
        query = (
            select(scorers_table, last_event.c.last)
            .outerjoin(last_event, last_event.c.account_id == scorers_table.c.id)
            .order_by(scorers_table.c.name_key)
        )
        async with self.reader.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        found = []
        for row in rows:
            times = [aware(t) for t in (row["last"], row["last_signin"]) if t is not None]
            found.append(_account(row, max(times) if times else None))
        return found

    async def accounts_since(self) -> dict[int, Account]:
        """Every account by id: what a worker checks sessions against."""
        async with self.reader.connect() as conn:
            rows = (await conn.execute(select(scorers_table))).mappings().all()
        return {row["id"]: _account(row) for row in rows}

    async def revoke_scorer(self, name: str) -> Account:
        """Take an account's access away: its sessions and sockets end, its invitation too."""
        async with self.write() as conn:
            row = await _existing(conn, name)
            await conn.execute(
                update(scorers_table)
                .where(scorers_table.c.id == row["id"])
                .values(revoked=True, generation=scorers_table.c.generation + 1, password_hash=None)
            )
            await conn.execute(delete(invitations_table).where(invitations_table.c.scorer_id == row["id"]))
            return _account(await _row(conn, row["id"]))

    async def reset_scorer(self, name: str) -> tuple[Account, str]:
        """A new invitation for an account; its password and sessions end, a revoked one returns."""
        async with self.write() as conn:
            row = await _existing(conn, name)
            await conn.execute(
                update(scorers_table)
                .where(scorers_table.c.id == row["id"])
                .values(revoked=False, generation=scorers_table.c.generation + 1, password_hash=None)
            )
            await conn.execute(delete(invitations_table).where(invitations_table.c.scorer_id == row["id"]))
            token = await _invite(conn, row["id"])
            return _account(await _row(conn, row["id"])), token

    # -- invitations and sign-in --------------------------------------------------------------

    async def invitation(self, token: str) -> Account | None:
        """The account an unused, unexpired invitation is for, or None."""
        async with self.reader.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(scorers_table)
                        .join(invitations_table, invitations_table.c.scorer_id == scorers_table.c.id)
                        .where(
                            invitations_table.c.token_hash == _token_hash(token),
                            invitations_table.c.used_at.is_(None),
                            invitations_table.c.expires_at > datetime.now(UTC),
                            scorers_table.c.revoked.is_(False),
                        )
                    )
                )
                .mappings()
                .first()
            )
        return _account(row) if row is not None else None

    async def accept_invitation(self, token: str, password: str) -> Account | None:
        """Set the account's password and use up the invitation; None when it is not valid."""
        check_password(password)
        hashed = await asyncio.to_thread(_hasher.hash, password)
        async with self.write() as conn:
            used = await conn.execute(
                update(invitations_table)
                .where(
                    invitations_table.c.token_hash == _token_hash(token),
                    invitations_table.c.used_at.is_(None),
                    invitations_table.c.expires_at > datetime.now(UTC),
                )
                .values(used_at=datetime.now(UTC))
                .returning(invitations_table.c.scorer_id)
            )
            account_id = used.scalar()
            if account_id is None:
                return None
            await conn.execute(
                update(scorers_table)
                .where(scorers_table.c.id == account_id, scorers_table.c.revoked.is_(False))
                .values(password_hash=hashed, last_signin=datetime.now(UTC))
            )
            return _account(await _row(conn, account_id))

    async def check_password(self, name: str, password: str) -> Account | None:
        """The account when the name and password are right (and it is not revoked), else None;
        as long either way, so the answer tells nothing of whether the account exists."""
        key = name.strip().lower()[:40]
        async with self.reader.connect() as conn:
            row = (await conn.execute(select(scorers_table).where(scorers_table.c.name_key == key))).mappings().first()
        stored = row["password_hash"] if row is not None and not row["revoked"] else None
        if not await asyncio.to_thread(_verify, stored or _DUMMY_HASH, password) or row is None or stored is None:
            return None
        async with self.write() as conn:
            await conn.execute(
                update(scorers_table).where(scorers_table.c.id == row["id"]).values(last_signin=datetime.now(UTC))
            )
        return _account(row)

    # -- wrong sign-ins ---------------------------------------------------------------------

    async def signin_wait(self, keys: Mapping[str, float]) -> float:
        """Seconds before another guess is let through, over keys -> their delay's cap."""
        now = datetime.now(UTC)
        async with self.reader.connect() as conn:
            rows = (
                await conn.execute(select(signin_failures_table).where(signin_failures_table.c.key.in_(list(keys))))
            ).mappings()
            wait = 0.0
            for row in rows:
                due = aware(row["last_failure"]) + timedelta(seconds=failure_delay(row["failures"], keys[row["key"]]))
                wait = max(wait, (due - now).total_seconds())
        return wait

    async def signin_failed(self, keys: Mapping[str, float]) -> None:
        now = datetime.now(UTC)
        async with self.write() as conn:
            await conn.execute(
                delete(signin_failures_table).where(signin_failures_table.c.last_failure < now - FAILURES_FORGOTTEN)
            )
            for key in keys:
                changed = await conn.execute(
                    update(signin_failures_table)
                    .where(signin_failures_table.c.key == key)
                    .values(failures=signin_failures_table.c.failures + 1, last_failure=now)
                )
                if not changed.rowcount:
                    await conn.execute(insert(signin_failures_table).values(key=key, failures=1, last_failure=now))

    async def signin_succeeded(self, key: str) -> None:
        async with self.write() as conn:
            await conn.execute(delete(signin_failures_table).where(signin_failures_table.c.key == key))

    # -- the audit --------------------------------------------------------------------------

    async def audit(
        self, match_id: str | None = None, scorer: str | None = None, since: datetime | None = None
    ) -> AsyncIterator[AuditLine]:
        e = events_table.c
        query = (
            select(e.recorded_at, e.match_id, e.version, e.kind, scorers_table.c.name, e.recorded_by)
            .add_columns(e.client_address, e.user_agent)
            .outerjoin(scorers_table, scorers_table.c.id == e.account_id)
            .order_by(e.recorded_at, e.id)
        )
        if match_id is not None:
            query = query.where(e.match_id == match_id)
        if scorer is not None:
            query = query.where(scorers_table.c.name_key == scorer.strip().lower())
        if since is not None:
            query = query.where(e.recorded_at >= since.astimezone(UTC))
        async with self.reader.connect() as conn:
            rows = (await conn.execute(query)).all()
        for row in rows:
            yield AuditLine(aware(row[0]), row[1], row[2], row[3], row[4], row[5], row[6], row[7])


def address_keys(address: str, name: str | None) -> dict[str, float]:
    """The throttle's keys for a guess: its address, and the account it names (if any)."""
    keys = {f"address:{address}"[:120]: MAX_ADDRESS_DELAY}
    if name:
        keys[f"account:{name.strip().lower()}"[:120]] = MAX_ACCOUNT_DELAY
    return keys


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def _find(conn: AsyncConnection, name: str) -> Mapping[Any, Any] | None:
    query = select(scorers_table).where(scorers_table.c.name_key == name.strip().lower())
    return (await conn.execute(query)).mappings().first()


async def _existing(conn: AsyncConnection, name: str) -> Mapping[Any, Any]:
    row = await _find(conn, name)
    if row is None:
        raise NoSuchAccount(f"There is no scorer named {name!r}.")
    return row


async def _row(conn: AsyncConnection, account_id: int) -> Mapping[Any, Any]:
    return (await conn.execute(select(scorers_table).where(scorers_table.c.id == account_id))).mappings().one()


async def _invite(conn: AsyncConnection, account_id: int) -> str:
    token = secrets.token_urlsafe(24)
    await conn.execute(
        insert(invitations_table).values(
            token_hash=_token_hash(token),
            scorer_id=account_id,
            expires_at=datetime.now(UTC) + timedelta(hours=INVITATION_HOURS),
        )
    )
    return token
