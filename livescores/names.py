"""Free-text names as scorers type them: trimmed, bounded, and only text a page can show."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from .said import N_
from .statuses import RuleViolation

MAX_NAME_LENGTH = 40
# Format characters (zero-width joiners, direction marks) and spaces show nothing on their own.
INVISIBLE = frozenset({"Cf", "Zs", "Mn", "Me"})


def clean_name(raw: object, what: str = N_("player name"), limit: int = MAX_NAME_LENGTH) -> str | None:
    """Trim a free-text name; blank means 'not given'. Refuses control characters, lone
    surrogates (text no page or frame can encode), names with nothing visible, overlong names."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise RuleViolation(N_("The %(what)s must be text.", what=what))
    name = " ".join(raw.split())
    if not name:
        return None
    categories = [unicodedata.category(ch) for ch in name]
    if "Cc" in categories:
        raise RuleViolation(N_("The %(what)s contains control characters.", what=what))
    if "Cs" in categories:
        raise RuleViolation(N_("The %(what)s is not valid text.", what=what))
    if all(category in INVISIBLE for category in categories):
        raise RuleViolation(N_("The %(what)s has no visible characters.", what=what))
    if len(name) > limit:
        raise RuleViolation(N_("The %(what)s is longer than %(limit)s characters.", what=what, limit=limit))
    return name


def same_name(name: str | None, names: Iterable[str | None]) -> bool:
    """Whether a name is among others, case aside: scorers type the same player differently."""
    if name is None:
        return False
    wanted = name.casefold()
    return any(other is not None and other.casefold() == wanted for other in names)
