"""When open sockets' objects are kept out of garbage collections, and when cyclic garbage
among them is collected after all."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from livescores.gc_policy import FreezePolicy


class Node:
    """A container the collector tracks, which can be in a cycle and be watched by a weakref."""

    def __init__(self) -> None:
        self.other: object = None


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    gc.unfreeze()
    gc.collect()
    yield
    gc.unfreeze()


def tracked(thing: object) -> bool:
    """Whether collections still walk it: frozen objects are not among gc.get_objects()."""
    return any(found is thing for found in gc.get_objects())


def cycle() -> weakref.ref[Node]:
    """A reference cycle nothing else refers to, once this returns; a weakref to watch it."""
    first, second = Node(), Node()
    first.other, second.other = second, first
    return weakref.ref(first)


def test_what_is_alive_is_frozen_every_so_many_sockets_opened() -> None:
    policy = FreezePolicy(freeze_every=3)
    kept = Node()
    policy.opened()
    policy.opened()
    assert tracked(kept) and policy.freezes == 0
    policy.opened()
    assert not tracked(kept) and policy.freezes == 1
    newer = Node()
    assert tracked(newer)  # made since: collections see it until the next freeze


def test_frozen_cyclic_garbage_stays_until_enough_sockets_have_closed() -> None:
    policy = FreezePolicy(freeze_every=1, refresh_factor=0.5, refresh_minimum=4)
    watched = cycle()
    policy.opened()  # frozen while it is garbage already: only a full collection can free it
    gc.collect()
    assert watched() is not None
    for _ in range(3):
        policy.closed()
    assert not policy.check(still_open=0)
    policy.closed()
    assert not policy.check(still_open=10)  # 4 closed is not half of 10 open
    policy.closed()
    assert policy.check(still_open=10)
    assert watched() is None and policy.last_found >= 2 and policy.closed_since_refresh == 0


def test_full_collections_get_rarer_while_they_find_nothing_and_not_when_they_do() -> None:
    policy = FreezePolicy(refresh_factor=0.5, refresh_factor_limit=4, refresh_minimum=1)
    factors = []
    for _ in range(4):
        for _ in range(50):
            policy.closed()
        assert policy.check(still_open=10)
        factors.append(policy.refresh_factor)
    assert factors == [1.0, 2.0, 4.0, 4.0]
    garbage = [cycle() for _ in range(100)]  # more unreachable objects than sockets closed
    policy.opened_since_freeze = policy.freeze_every - 1
    policy.opened()
    for _ in range(50):
        policy.closed()
    assert policy.check(still_open=10)
    assert policy.refresh_factor == 0.5 and all(ref() is None for ref in garbage)


def test_start_up_objects_are_frozen_once_collected() -> None:
    watched = cycle()
    kept = Node()
    FreezePolicy().start()
    assert watched() is None and not tracked(kept)
