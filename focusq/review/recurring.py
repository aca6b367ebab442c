"""Recurring jobs in the review: due times missed while no worker ran, and caught up.

Pure: read from the day's ``recurring`` events (one per series each time its due time came:
``runs``, ``caught_up``, ``skipped``, and ``going`` when a run of it was still going).
"""

from __future__ import annotations

import dataclasses

from focusq.review.day import DayLog


@dataclasses.dataclass(frozen=True)
class MissedTimes:
    """A series whose due times passed while no worker ran, on the day."""

    task_id: int
    title: str
    missed: int
    """Due times that passed late (no worker ran then)."""
    caught_up: int
    """Runs added for them when a worker ran again (``catchup:``: one, all or none)."""


def missed_times(log: DayLog) -> list[MissedTimes]:
    """The day's series that missed due times, by template id."""
    found: dict[int, list[int]] = {}
    for e in log.events:
        if e["kind"] != "recurring" or e["task_id"] is None:
            continue
        if not log.start <= e["at"] < log.end:
            continue
        payload = e["payload"]
        if payload.get("going"):
            continue  # skipped because a run was still going: the job is on time, not missed
        caught_up = int(payload.get("caught_up", 0))
        missed = int(payload.get("skipped", 0)) + caught_up
        if missed:
            counts = found.setdefault(e["task_id"], [0, 0])
            counts[0] += missed
            counts[1] += caught_up
    return [
        MissedTimes(i, str(log.tasks.get(i, {}).get("title", f"#{i}")), m, c)
        for i, (m, c) in sorted(found.items())
    ]


def missed_words(missed: list[MissedTimes]) -> str:
    """``#12 backup: 3 due times missed while no worker ran, 1 caught up``; ``; ``-joined."""
    parts = []
    for m in missed:
        times = "1 due time" if m.missed == 1 else f"{m.missed} due times"
        parts.append(
            f"#{m.task_id} {m.title}: {times} missed while no worker ran, {m.caught_up} caught up"
        )
    return "; ".join(parts)
