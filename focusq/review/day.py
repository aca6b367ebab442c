"""The day a review is about: its window, its blocks, and the log it is computed from."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from focusq.focus.blocks import Block, Segment, day_plan


@dataclass(frozen=True, slots=True)
class BlockSpan:
    """A stretch of the day as epoch seconds: a ``sync`` or ``async`` block, or ``free``."""

    start: float
    end: float
    mode: str
    label: str = ""


@dataclass(frozen=True, slots=True)
class DayLog:
    """The review's input: one day's events and what they refer to."""

    day: date
    start: float
    end: float
    now: float
    """Runs and sessions still going are counted up to here (or ``end``, if earlier)."""
    events: Sequence[dict[str, Any]]
    """``at``, ``task_id``, ``kind``, ``payload`` (a dict), in the order they were written."""
    tasks: dict[int, dict[str, Any]]
    """Every task the events or the unfinished list name: ``title``, ``kind``, ``status``."""
    unfinished: Sequence[int] = ()
    older_failures: int = 0
    """Jobs that failed on earlier days, never answered: folded into a count."""
    answers: dict[int, str] = dataclasses.field(default_factory=dict)
    """Answers already given in this day's review: task id -> carry, backlog or drop."""
    closed_at: float | None = None
    tails: dict[tuple[int, int], str] = dataclasses.field(default_factory=dict)
    """(task, attempt) -> the last lines of a failed run's log."""
    notes: Sequence[dict[str, Any]] = ()
    """Failure notes ever written about the day's failed tasks: ``task_id``, ``at``, ``text``."""
    blocks: Sequence[BlockSpan] = ()
    carried: dict[int, int] = dataclasses.field(default_factory=dict)
    """Unfinished task -> how many times a review carried it to the next day."""
    history: dict[str, Any] = dataclasses.field(default_factory=dict)
    """The tasks finished this day and all their focus and status events
    (``ops.review.done_history``): for their estimates against the time they took."""
    elsewhere: dict[tuple[int, int], tuple[str, str | None]] = dataclasses.field(
        default_factory=dict
    )
    """(task, attempt) -> the executor and host of each run that did not run on this
    machine (the host ``None`` until the run reported it)."""

    @classmethod
    def of(cls, day: date, rows: dict[str, Any], blocks: Sequence[Block], now: float) -> DayLog:
        """The log of ``day`` from what ``ops.review.day_log`` read and the configured blocks."""
        start, end = day_window(day)
        return cls(day, start, end, now, blocks=block_spans(day_plan(blocks, day)), **rows)


DAY_TURNS_AT = 4
"""Until 04:00 the review means the day before: a day reviewed past midnight is still that day."""


def review_day(now: float) -> date:
    """The day a review opened at ``now`` is about."""
    return (datetime.fromtimestamp(now) - timedelta(hours=DAY_TURNS_AT)).date()


def day_start(now: float) -> float:
    """When the day in progress at ``now`` began (local midnight; before 04:00, the day
    before's, as the review counts): where today's inbox starts."""
    return day_window(review_day(now))[0]


def day_window(day: date) -> tuple[float, float]:
    """The day from local midnight to the next, as epoch seconds."""
    start = datetime.combine(day, time.min)
    return start.timestamp(), (start + timedelta(days=1)).timestamp()


def block_spans(segments: Iterable[Segment]) -> list[BlockSpan]:
    """A day plan (``focus.blocks.day_plan``) as epoch spans."""
    return [BlockSpan(s.start.timestamp(), s.end.timestamp(), s.mode, s.label) for s in segments]


def tomorrow_start(day: date, blocks: Sequence[Block]) -> float:
    """When the day after ``day`` starts for carried work: its first block, else midnight."""
    following = day + timedelta(days=1)
    first = min((span[0] for b in blocks if (span := b.on(following))), default=None)
    return (first or datetime.combine(following, time.min)).timestamp()
