"""Who may open one more socket or stream: viewers up to their cap, scorers in room of their
own beside it, and no address beyond its share of the viewers' cap.

Scorers' room is separate so that viewers filling theirs (a big match, or one client opening
sockets on purpose) never keep a goal from being recorded. The per-address limit is generous
because a stadium's or an office's Wi-Fi puts hundreds of people behind one address (NAT); it
only stops a single client from taking the whole cap. `/sse` and `/api/stream` count here too.
"""

from __future__ import annotations

from collections import Counter

from .roles import Role

DEFAULT_PER_ADDRESS = 1000
DEFAULT_SCORER_SOCKETS = 100


class SocketLimits:
    def __init__(self, viewers: int, scorers: int = DEFAULT_SCORER_SOCKETS, per_address: int = DEFAULT_PER_ADDRESS):
        self.max_viewers = viewers
        self.max_scorers = scorers
        self.per_address = per_address
        self.viewers = 0
        self.scorers = 0
        self._by_address: Counter[str] = Counter()

    def refusal(self, role: Role, address: str) -> str | None:
        """Why one more socket of this role from this address is refused now, or None."""
        if role == "scorer":
            return "scorers full" if self.scorers >= self.max_scorers else None
        if self.viewers >= self.max_viewers:
            return "full"
        if self._by_address[address] >= self.per_address:
            return "address full"
        return None

    def admit(self, role: Role, address: str) -> str | None:
        """Count a socket in, or say why not (and count nothing)."""
        refused = self.refusal(role, address)
        if refused is not None:
            return refused
        if role == "scorer":
            self.scorers += 1
        else:
            self.viewers += 1
            self._by_address[address] += 1
        return None

    def release(self, role: Role, address: str) -> None:
        if role == "scorer":
            self.scorers -= 1
            return
        self.viewers -= 1
        self._by_address[address] -= 1
        if self._by_address[address] <= 0:
            del self._by_address[address]
