"""Untracked time: the stretches of async blocks that were neither focus nor time off.

Pure. The review hands over what was covered (focus stretches, pauses and breaks, see
``sessions.rests_of``) and the day's blocks; what is left of the async blocks up to now
is untracked: time away that was not counted, and the time between sessions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from focusq.review.day import BlockSpan
from focusq.review.sessions import Interval


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch of untracked time in an async block: neither focus nor a pause or break."""

    start: float
    end: float


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """The time ``intervals`` cover, as sorted intervals that neither overlap nor touch."""
    out: list[Interval] = []
    for a, b in sorted(intervals):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def untracked_gaps(
    blocks: Sequence[BlockSpan], start: float, until: float, covered: Sequence[Interval]
) -> list[Gap]:
    """The stretches of the async ``blocks`` between ``start`` and ``until`` that
    ``covered`` (sorted, as :func:`union` gives it) leaves out; a gap running on from one
    async block into the next is one gap."""
    gaps: list[Gap] = []
    for block in blocks:
        if block.mode != "async":
            continue
        lo, hi = max(block.start, start), min(block.end, until)
        for a, b in covered:
            if b <= lo:
                continue
            if a >= hi:
                break
            if a > lo:
                gaps.append(Gap(lo, a))
            lo = max(lo, b)
        if hi > lo:
            gaps.append(Gap(lo, hi))
    merged: list[Gap] = []
    for gap in gaps:
        if merged and merged[-1].end == gap.start:
            merged[-1] = Gap(merged[-1].start, gap.end)
        else:
            merged.append(gap)
    return merged
