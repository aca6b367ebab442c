"""The timeline's geometry: its lanes, named, and which span each cell of a lane shows.

Pure. The same cells draw the timeline in the terminal (``focusq review``, the TUI's
widget) and the SVG. Runs share a lane only with runs of their own executor: the local
machine's lanes are ``slot 1``, ``slot 2``...; another executor's carry its name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from focusq.review.figures import FAILED_RESULTS, Span, Timeline


def lane_cells(spans: Sequence[Span], start: float, end: float, width: int) -> list[Span | None]:
    """Which span each of ``width`` cells shows: the one covering most of the cell."""
    step = (end - start) / width
    best: list[tuple[float, Span | None]] = [(0.0, None)] * width
    for span in spans:
        first = max(0, int((span.start - start) / step))
        last = min(width - 1, int((span.end - start) / step))
        for cell in range(first, last + 1):
            lo, hi = start + cell * step, start + (cell + 1) * step
            covered = min(hi, span.end) - max(lo, span.start)
            if covered > best[cell][0]:
                best[cell] = (covered, span)
    return [span for _, span in best]


def block_cells(timeline: Timeline, width: int) -> list[str]:
    """The block mode at the middle of each cell: ``sync``, ``async`` or ``free``."""
    step = (timeline.end - timeline.start) / width
    out = []
    for cell in range(width):
        middle = timeline.start + (cell + 0.5) * step
        mode = next((b.mode for b in timeline.blocks if b.start <= middle < b.end), "free")
        out.append(mode)
    return out


def hour_ticks(timeline: Timeline, width: int) -> list[tuple[int, str]]:
    """(cell, ``HH``) for each whole hour on the timeline."""
    step = (timeline.end - timeline.start) / width
    ticks = []
    first = datetime.fromtimestamp(timeline.start).replace(minute=0, second=0, microsecond=0)
    at = first.timestamp()
    while at < timeline.end:
        if at >= timeline.start:
            ticks.append((round((at - timeline.start) / step), f"{datetime.fromtimestamp(at):%H}"))
        at += 3600
    return ticks


UNTRACKED = "untracked"
"""The ``result`` of the spans that draw untracked time in the focus lane."""


def lanes(timeline: Timeline) -> list[tuple[str, list[Span]]]:
    """The timeline's lanes, named: focus first (its untracked gaps drawn as spans whose
    result is :data:`UNTRACKED`), then one per job slot: ``slot N`` on this machine, the
    executor's name and the slot's number on another (:func:`lane_name`)."""
    gaps = [Span(g.start, g.end, 0, UNTRACKED, UNTRACKED) for g in timeline.untracked]
    focus = sorted([*timeline.focus, *gaps], key=lambda s: s.start)
    named: list[tuple[str, list[Span]]] = [("focus", focus)]
    numbers: dict[str | None, int] = {}
    for lane in timeline.slots:
        executor = lane[0].executor if lane else None
        n = numbers[executor] = numbers.get(executor, 0) + 1
        named.append((f"slot {n}" if executor is None else lane_name(executor, n), lane))
    return named


LABEL = 8
"""Columns for the lane names when every lane is this machine's."""

LANE_NAME_MAX = 13
"""The longest name of another executor's lane, its number included."""


def lane_name(executor: str, number: int) -> str:
    """``build-farm 2``: an executor's slot, the name cut short (``…``) to fit
    :data:`LANE_NAME_MAX` columns."""
    suffix = f" {number}"
    room = max(1, LANE_NAME_MAX - len(suffix))
    name = executor if len(executor) <= room else executor[: room - 1] + "…"
    return name + suffix


def label_width(timeline: Timeline) -> int:
    """Columns for the lane names: :data:`LABEL`, wider when another executor's name
    needs it (with a space after it)."""
    remote = [len(name) for name, lane in lanes(timeline)[1:] if lane and lane[0].executor]
    return max(LABEL, *(n + 1 for n in remote)) if remote else LABEL


def axis_line(timeline: Timeline, width: int) -> str:
    """Hour labels placed over their cells."""
    line = [" "] * width
    for cell, label in hour_ticks(timeline, width):
        end = cell + len(label)
        if end <= width and all(c == " " for c in line[max(0, cell - 1) : end]):
            line[cell:end] = label
    return "".join(line).rstrip()


def span_kind(span: Span) -> str:
    """How a span is drawn: ``focus``, ``ok``, ``failed``, ``running``, ``untracked`` or
    ``other``."""
    if span.result is None:
        return "running"
    if span.result in ("focus", "ok", UNTRACKED):
        return span.result
    return "failed" if span.result in FAILED_RESULTS else "other"


SPAN_CHARS = {
    "focus": "█",
    "ok": "█",
    "running": "▒",
    "failed": "x",
    "other": "░",
    UNTRACKED: "·",
}
"""How a cell of each kind of span is drawn in plain text (failures stand out uncoloured)."""


def span_char(span: Span | None) -> str:
    """The plain-text cell for a span."""
    return " " if span is None else SPAN_CHARS[span_kind(span)]


def text_timeline(timeline: Timeline, width: int) -> list[str]:
    """The timeline in plain characters: an hour axis, the blocks, then each lane."""
    label = label_width(timeline)
    cells = max(24, width - label)
    modes = {"sync": "s", "async": "a", "free": " "}
    rows = [f"{'time':<{label}}" + axis_line(timeline, cells)]
    rows.append(f"{'blocks':<{label}}" + "".join(modes[m] for m in block_cells(timeline, cells)))
    for name, spans in lanes(timeline):
        line = "".join(span_char(s) for s in lane_cells(spans, timeline.start, timeline.end, cells))
        rows.append(f"{name:<{label}}{line}".rstrip())
    return rows
