"""Scorer accounts as the rules see them: who an account is, where it may score, and how long
a sign-in must wait after wrong guesses. Pure: the store keeps accounts (accounts_store.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from .matches import RuleViolation, clean_name
from .said import N_

MAX_ACCOUNT_NAME = 40
ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._'-]{0,39}")
INVITATION_HOURS = 24
MIN_PASSWORD = 10
MAX_PASSWORD = 200
# Wrong guesses forgiven before any delay: a scorer mistyping twice waits for nothing.
FREE_FAILURES = 3
# An address's delay grows to a minute at most; an account's to a few seconds, so that a
# stranger guessing one scorer's password from many places cannot keep the scorer out.
MAX_ADDRESS_DELAY = 60.0
MAX_ACCOUNT_DELAY = 5.0


@dataclass(frozen=True)
class Account:
    """A scorer. `generation` grows at every revocation or reset: a session opened under an
    older one ends. No competitions means every competition."""

    id: int
    name: str
    admin: bool = False
    competitions: tuple[str, ...] = ()
    generation: int = 1
    revoked: bool = False
    has_password: bool = False
    created_at: datetime | None = None
    last_active: datetime | None = None

    @property
    def active(self) -> bool:
        return not self.revoked and self.has_password


@dataclass(frozen=True)
class Scorer:
    """Who sends a command: an account (`account_id`), or quick mode's built-in scorer
    (`account_id` None) under the name typed at sign-in."""

    name: str
    account_id: int | None = None
    generation: int = 0
    admin: bool = True
    competitions: tuple[str, ...] = ()

    def may_score(self, competition_slug: str | None) -> bool:
        return self.admin or not self.competitions or competition_slug in self.competitions

    def refusal(self, competition_slug: str | None) -> str | None:
        """Why this scorer may not record events in a match of that competition, or None."""
        if self.may_score(competition_slug):
            return None
        return N_(
            "You score only in %(competitions)s; this match is not theirs. Nothing was changed.",
            competitions=", ".join(self.competitions),
        )


def scorer_of(account: Account) -> Scorer:
    return Scorer(account.name, account.id, account.generation, account.admin, account.competitions)


@dataclass(frozen=True)
class Audit:
    """Who recorded an event, from where: stored beside it, never shown by the public API."""

    account_id: int | None
    client_address: str | None
    user_agent: str | None


def clean_account_name(name: object) -> str:
    text = clean_name(name, "scorer name", MAX_ACCOUNT_NAME)
    if text is None or not ACCOUNT_NAME.fullmatch(text):
        raise RuleViolation(
            "A scorer name is 1 to 40 letters, digits, spaces, dots, dashes or apostrophes,"
            " starting with a letter or digit."
        )
    return text


def check_password(password: object) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise RuleViolation(f"A password has {MIN_PASSWORD} to {MAX_PASSWORD} characters.")
    return password


def failure_delay(failures: int, cap: float) -> float:
    """Seconds to wait before the next guess after `failures` wrong ones in a row: nothing for
    the first few, then doubling from one second, up to `cap`. A delay, never a lock."""
    if failures < FREE_FAILURES:
        return 0.0
    return min(cap, 2.0 ** (failures - FREE_FAILURES))
