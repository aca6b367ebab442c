"""Recurring jobs from the worker's side: when the next series is due, and the step that
adds its runs.

The worker reads the next due time after each tick that may have changed it, sets its
timer by it, and once that time came writes :meth:`Series.steps` with its tick. The new
runs reach its queue the way any added job does: through the events the step writes.
"""

from __future__ import annotations

from typing import Any

from focusq.store.aio import Store
from focusq.store.ops import recurring


class Series:
    """The earliest due time of the recurring jobs of a database, as last read."""

    def __init__(self) -> None:
        self.next_due: float | None = None
        self.stale = True
        """Read it again before the next tick (a template was added, edited or released,
        or runs were just added)."""

    def saw(self, views: list[dict[str, Any]]) -> None:
        """Tasks changed: a template among them may have a new due time. (A template put
        on hold is noticed at its old due time, when the step adds nothing.)"""
        if any(view["status"] == "recurring" for view in views):
            self.stale = True

    async def load(self, store: Store) -> None:
        """Read the earliest due time, if it may have changed."""
        if self.stale:
            self.stale = False
            self.next_due = await store.run(recurring.next_due())

    def steps(self, now: float, catch_up: str) -> list[Any]:
        """The store step adding the runs due by ``now`` (none before the next due time)."""
        if self.next_due is None or self.next_due > now:
            return []
        self.stale = True
        return [recurring.add_due_runs(now, catch_up)]

    def wake(self, wake_at: float | None) -> float | None:
        """The earlier of ``wake_at`` (the queue's) and the next due time."""
        if self.next_due is None:
            return wake_at
        return self.next_due if wake_at is None else min(wake_at, self.next_due)
