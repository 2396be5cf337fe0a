"""What a worker knows of the scorer accounts, to check a session at every command without a
query: every account by id, read from the store every second and changed at once by the
bus's `account` messages (a revocation on another worker reaches this one in milliseconds,
or with the in-process bus, at the next read)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace

from .accounts import Account, Scorer, scorer_of

log = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0


class AccountBook:
    def __init__(self) -> None:
        self.accounts: dict[int, Account] = {}
        # Told of each account whose sessions just ended (revoked or reset).
        self.listeners: list[Callable[[Account], None]] = []

    def replace_all(self, accounts: Mapping[int, Account]) -> None:
        for account in accounts.values():
            self.update(account)
        for gone in set(self.accounts) - set(accounts):
            del self.accounts[gone]

    def update(self, account: Account) -> None:
        known = self.accounts.get(account.id)
        if known is not None and known.generation > account.generation:
            return  # an older read than a change the bus already brought
        self.accounts[account.id] = account
        if known is not None and (known.generation != account.generation or account.revoked != known.revoked):
            self._ended(account)

    def ended(self, account_id: int, generation: int, revoked: bool) -> None:
        """A bus message: the account's sessions before `generation` end now."""
        known = self.accounts.get(account_id)
        if known is None or (known.generation >= generation and known.revoked == revoked):
            return
        self.accounts[account_id] = updated = replace(known, generation=generation, revoked=revoked)
        self._ended(updated)

    def _ended(self, account: Account) -> None:
        for listener in self.listeners:
            try:
                listener(account)
            except Exception:
                log.exception("accounts: a listener failed")

    def scorer(self, account_id: int, generation: int) -> Scorer | None:
        """The scorer a session of this account and generation signs in, or None if it ended."""
        account = self.accounts.get(account_id)
        if account is None or account.revoked or account.generation != generation:
            return None
        return scorer_of(account)

    def current(self, scorer: Scorer) -> Scorer | None:
        """The scorer as of now (permissions may have changed), or None once its session ended.
        Quick mode's scorer ends only with the token, which a restart changes."""
        if scorer.account_id is None:
            return scorer
        return self.scorer(scorer.account_id, scorer.generation)
