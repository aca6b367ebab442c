"""Time blocks: the day cut into ``sync`` (meetings, replies) and ``async`` (maker) time.

Pure: the caller passes the moment; nothing here reads a clock. Time outside every block
is ``free``. A meeting from the calendar is a block on one date (:func:`meeting`); where it
overlaps a configured block, the meeting wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MODES = ("sync", "async")


class BlockError(ValueError):
    """A block that cannot be: bad days, bad times, end before start, an overlap."""


@dataclass(frozen=True, slots=True)
class Block:
    """One recurring block: on ``days`` (0 = Monday), from ``start`` to ``end``; or, with
    ``date``, one meeting on that date only."""

    days: frozenset[int]
    start: time
    end: time
    mode: str
    label: str = ""
    only_on: date | None = None
    """The one date of a calendar meeting; ``None`` for a configured, weekly block."""

    @property
    def source(self) -> str:
        """``calendar`` for a meeting, ``config`` for a ``[[blocks]]`` table."""
        return "config" if self.only_on is None else "calendar"

    def on(self, day: date) -> tuple[datetime, datetime] | None:
        """The block's span on ``day`` (naive local times), if it happens that day."""
        if day.weekday() not in self.days or (self.only_on is not None and day != self.only_on):
            return None
        end = (
            datetime.combine(day + timedelta(days=1), time.min)
            if self.end == time.max
            else datetime.combine(day, self.end)
        )
        return datetime.combine(day, self.start), end

    @property
    def name(self) -> str:
        """How messages name the block."""
        label = f" ({self.label})" if self.label else ""
        end = "24:00" if self.end == time.max else f"{self.end:%H:%M}"
        return f"{self.mode} {self.start:%H:%M}-{end}{label}"


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of one day: a block, or free time between blocks."""

    start: datetime
    end: datetime
    mode: str
    """``sync``, ``async`` or ``free``."""
    label: str = ""
    source: str = ""
    """``calendar`` (a meeting), ``config`` (a ``[[blocks]]`` table), ``""`` for free time."""


def parse_days(text: str) -> frozenset[int]:
    """``mon-fri``, ``sat,sun``, ``mon,wed-fri``, ``daily`` -> weekday numbers (Monday 0)."""
    text = text.strip().lower()
    if text in ("daily", "every day", "all"):
        return frozenset(range(7))
    days: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        first, dash, last = part.partition("-")
        if first not in DAY_NAMES or (dash and last not in DAY_NAMES):
            raise BlockError(f"{part!r} is not a day or a range of days like mon-fri or sat,sun")
        a = DAY_NAMES.index(first)
        b = DAY_NAMES.index(last) if last else a
        if b < a:
            raise BlockError(f"{part!r} runs backwards; write it as {last}-{first} or list days")
        days.update(range(a, b + 1))
    return frozenset(days)


def parse_time(text: str) -> time:
    """``09:00`` -> 09:00; ``24:00`` is the end of the day."""
    try:
        hours, minutes = (int(x) for x in text.strip().split(":"))
    except ValueError:
        raise BlockError(f"{text!r} is not a time like 09:00") from None
    if (hours, minutes) == (24, 0):
        return time.max
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise BlockError(f"{text!r} is not a time like 09:00")
    return time(hours, minutes)


def make_block(days: str, start: str, end: str, mode: str, label: str = "") -> Block:
    """A validated :class:`Block` from config strings."""
    if mode not in MODES:
        raise BlockError(f"mode {mode!r} is not sync or async")
    block = Block(parse_days(days), parse_time(start), parse_time(end), mode, label)
    if block.end <= block.start:
        raise BlockError(f"it ends ({end}) before it starts ({start})")
    return block


def meeting(start: datetime, end: datetime, label: str) -> list[Block]:
    """A calendar meeting (naive local times) as sync blocks, one per date it touches."""
    out = []
    day = start.date()
    while datetime.combine(day, time.min) < end:
        midnight = datetime.combine(day + timedelta(days=1), time.min)
        a = max(start, datetime.combine(day, time.min))
        b = min(end, midnight)
        if b > a:
            stop = time.max if b == midnight else b.time()
            out.append(Block(frozenset({day.weekday()}), a.time(), stop, "sync", label, day))
        day += timedelta(days=1)
    return out


def check_overlaps(blocks: Sequence[Block]) -> None:
    """Raise :class:`BlockError` naming the first two blocks that overlap on some day."""
    for i, a in enumerate(blocks):
        for b in blocks[i + 1 :]:
            if a.days & b.days and a.start < b.end and b.start < a.end:
                raise BlockError(f"{a.name} and {b.name} overlap")


def day_plan(blocks: Iterable[Block], day: date) -> list[Segment]:
    """The whole of ``day`` as segments in order, free time filling the gaps.

    Meetings (blocks with a ``date``) win over configured blocks: a configured block is cut
    around them. Of two overlapping meetings, the one that starts first keeps its time.
    """
    configured: list[tuple[datetime, datetime, Block]] = []
    meetings: list[tuple[datetime, datetime, Block]] = []
    for block in blocks:
        span = block.on(day)
        if span is not None:
            (configured if block.only_on is None else meetings).append((*span, block))
    taken: list[tuple[datetime, datetime, Block]] = []
    reach = datetime.min
    for start, end, block in sorted(meetings, key=lambda m: (m[0], m[1], m[2].label)):
        if end > reach:
            taken.append((max(start, reach), end, block))
            reach = end
    spans = list(taken)
    for start, end, block in configured:
        spans.extend((a, b, block) for a, b in _cut(start, end, taken))
    out: list[Segment] = []
    cursor = datetime.combine(day, time.min)
    for start, end, block in sorted(spans, key=lambda s: (s[0], s[1])):
        if start > cursor:
            out.append(Segment(cursor, start, "free"))
        out.append(Segment(start, end, block.mode, block.label, block.source))
        cursor = end
    midnight = datetime.combine(day + timedelta(days=1), time.min)
    if cursor < midnight:
        out.append(Segment(cursor, midnight, "free"))
    return out


def _cut(
    start: datetime, end: datetime, holes: Iterable[tuple[datetime, datetime, Block]]
) -> list[tuple[datetime, datetime]]:
    """``start``-``end`` less the ``holes`` (sorted, not overlapping)."""
    out = []
    cursor = start
    for a, b, _ in holes:
        if b <= cursor or a >= end:
            continue
        if a > cursor:
            out.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < end:
        out.append((cursor, end))
    return out


def segment_at(blocks: Iterable[Block], moment: datetime) -> Segment:
    """The segment holding ``moment`` (naive local time)."""
    for segment in day_plan(blocks, moment.date()):
        if segment.start <= moment < segment.end:
            return segment
    raise AssertionError("a day's segments cover the whole day")  # pragma: no cover


def next_boundary(blocks: Sequence[Block], moment: datetime) -> tuple[datetime, Segment]:
    """When the current segment ends, and the segment that follows (looking a week ahead)."""
    current = segment_at(blocks, moment)
    day = moment.date()
    for offset in range(8):
        for segment in day_plan(blocks, day + timedelta(days=offset)):
            if segment.start >= current.end and segment.mode != current.mode:
                return segment.start, segment
            if segment.start >= current.end and segment.label != current.label:
                return segment.start, segment
    return current.end, current
