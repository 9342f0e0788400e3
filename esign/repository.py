"""What every repository of an event-raising aggregate shares: it registers each aggregate it
loads or adds, so the unit of work collects their events at commit (cosmicpython's
``collect_new_events``). No handler has to remember to hand an aggregate over, so none can forget.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar


class HasEvents(Protocol):
    def pull_events(self) -> list[Any]: ...


A = TypeVar("A", bound=HasEvents)


class AggregateRepository:
    def __init__(self) -> None:
        self.seen: list[HasEvents] = []

    def _register(self, aggregate: A) -> A:
        if not any(aggregate is known for known in self.seen):
            self.seen.append(aggregate)
        return aggregate
