"""When interruptions reach the user, and when a focus session is a bad idea. Pure.

In an async block or while focusing, interruptions are held and delivered together at the
next boundary: the focus session ends, a sync block starts, or ``batch_minutes`` pass since
the last delivery. Urgent ones break through at once. In sync or free time, with no focus
session, everything shows at once. The end of a focus session releases what was held
through it, in async time too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from focusq.focus.blocks import Block, next_boundary, segment_at


@dataclass(frozen=True, slots=True)
class Held:
    """An interruption not yet delivered."""

    id: int
    at: float
    """When it was captured (epoch seconds)."""
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class Delivery:
    """What to deliver now, and why (empty ``ids``: keep holding)."""

    ids: tuple[int, ...] = ()
    reason: str = ""


def to_deliver(
    held: Sequence[Held],
    *,
    now: float,
    mode: str,
    segment_start: float,
    focusing: bool,
    last_delivery: float | None,
    batch_minutes: int,
    focus_ended: float | None = None,
) -> Delivery:
    """Decide which held interruptions to deliver at ``now``.

    ``mode`` and ``segment_start`` describe the current time block (``free`` outside any);
    ``last_delivery`` is when the previous batch went out, if ever; ``focus_ended`` when
    the latest focus session ended (items held through it go out as a batch).
    """
    if not held:
        return Delivery()
    every = tuple(h.id for h in held)
    if not focusing and focus_ended is not None and any(h.at <= focus_ended for h in held):
        # Held through a focus session that has ended: that end is a boundary, in async
        # time too (a sync block that started meanwhile is the earlier one).
        if mode == "sync" and any(h.at < segment_start for h in held):
            return Delivery(every, "a sync block started")
        return Delivery(every, "the focus session ended")
    if not focusing and mode != "async":
        if mode == "sync" and any(h.at < segment_start for h in held):
            return Delivery(every, "a sync block started")
        return Delivery(every, "at once")
    if mode == "sync" and any(h.at < segment_start for h in held):
        return Delivery(every, "a sync block started")
    since = last_delivery if last_delivery is not None else min(h.at for h in held)
    if now - since >= batch_minutes * 60:
        return Delivery(every, f"{batch_minutes} min since the last batch")
    urgent = tuple(h.id for h in held if h.urgent)
    if urgent:
        return Delivery(urgent, "urgent")
    return Delivery()


def next_release(
    held: Sequence[Held],
    *,
    now: float,
    blocks: Sequence[Block],
    focusing: bool,
    last_delivery: float | None,
    batch_minutes: int,
    focus_ended: float | None = None,
) -> float | None:
    """When :func:`to_deliver` releases every held item if nothing else changes.

    That is ``now`` (they are due), the end of the batch interval, or a block boundary
    within a day; ``None`` when nothing is held. A focus session that ends sooner releases
    them sooner: its end cannot be known in advance.
    """
    if not held:
        return None
    since = last_delivery if last_delivery is not None else min(h.at for h in held)
    moments = [now, max(now, since + batch_minutes * 60)]
    if blocks:
        moment = datetime.fromtimestamp(now)
        for _ in range(12):
            moment = next_boundary(blocks, moment)[0]
            if moment.timestamp() > moments[1]:
                break
            moments.append(moment.timestamp())
    for at in sorted(moments):
        segment = segment_at(blocks, datetime.fromtimestamp(at)) if blocks else None
        decision = to_deliver(
            held,
            now=at,
            mode=segment.mode if segment else "free",
            segment_start=segment.start.timestamp() if segment else 0.0,
            focusing=focusing,
            last_delivery=last_delivery,
            batch_minutes=batch_minutes,
            focus_ended=focus_ended,
        )
        if len(decision.ids) == len(held):
            return at
    return moments[1]


@dataclass(frozen=True, slots=True)
class Gap:
    """Too little time before the next sync block for a focus session."""

    minutes: float
    """Minutes left before it."""
    at: datetime
    """When it starts."""
    label: str = ""
    """Its name, if it has one."""

    def describe(self) -> str:
        """``only 12 min before the sync block at 13:00 (standup)``."""
        label = f" ({self.label})" if self.label else ""
        return f"only {self.minutes:.0f} min before the sync block at {self.at:%H:%M}{label}"


def gap_before_sync(blocks: Sequence[Block], now: datetime, min_minutes: int) -> Gap | None:
    """The time left when a focus session would start too close to the next sync block."""
    if not blocks or min_minutes <= 0:
        return None
    current = segment_at(blocks, now)
    if current.mode == "sync":
        return None
    at, following = next_boundary(blocks, now)
    left = (at - now).total_seconds() / 60
    if following.mode == "sync" and left < min_minutes:
        return Gap(left, at, following.label or "")
    return None


def gap_warning(blocks: Sequence[Block], now: datetime, min_minutes: int) -> str | None:
    """A warning when a focus session would start too close to the next sync block."""
    gap = gap_before_sync(blocks, now, min_minutes)
    if gap is None:
        return None
    return f"{gap.describe()}: a short task or a job may fit better"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A creative task that could take the focus slot."""

    id: int
    priority: int
    """2 for H, 1 for M, 0 for L."""
    estimate_minutes: float | None
    created_at: float


def pick_switch(candidates: Sequence[Candidate], minutes_left: float | None) -> Candidate | None:
    """The best ready task to switch to while the focused one waits.

    Priority first; among equals, one that fits in the time left in the block (the
    longest that fits), then the oldest.
    """
    if not candidates:
        return None

    def key(c: Candidate) -> tuple[float, ...]:
        fits = (
            minutes_left is None or c.estimate_minutes is None or c.estimate_minutes <= minutes_left
        )
        size = c.estimate_minutes or 0.0
        return (-c.priority, 0 if fits else 1, -size if fits else size, c.created_at, c.id)

    return min(candidates, key=key)


def task_that_fits(candidates: Sequence[Candidate], minutes_left: float) -> Candidate | None:
    """The best task known to fit in ``minutes_left``: priority first, then the longest
    that fits, then the oldest. A task without an estimate is not known to fit."""
    fitting = [
        c
        for c in candidates
        if c.estimate_minutes is not None and c.estimate_minutes <= minutes_left
    ]
    return pick_switch(fitting, minutes_left)
