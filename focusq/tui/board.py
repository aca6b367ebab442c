"""What the main screen shows, read from the store in one place. No Textual here."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from statistics import median
from typing import Any

from focusq.durations import format_duration
from focusq.engine.scheduler import Limits
from focusq.engine.waiting import running_of, waiting_for
from focusq.focus.blocks import Block, Segment, next_boundary, segment_at
from focusq.states import ACTIVE
from focusq.store.aio import Store
from focusq.store.ops import focus, groups, inbox, jobs, tasks

VIEWS = ("all", "creative", "mechanical", "done")
"""The task list's views, in the order ``v`` cycles them."""


@dataclass(frozen=True)
class Slot:
    """One running (or paused) job, as a job slot shows it."""

    task_id: int
    title: str
    status: str
    started_at: float
    estimate: float | None
    """Median seconds of past successful runs of the same command, if there are any."""
    log_path: str | None
    last_line: str
    paused_at: float | None = None
    """When a paused job was paused (its last change): its elapsed time stops there."""


@dataclass(frozen=True)
class Waiting:
    """A job that cannot start yet, and why."""

    task_id: int
    title: str
    why: str


@dataclass(frozen=True)
class Board:
    """Everything the main screen draws, taken at one moment."""

    now: float
    counts: dict[str, int]
    slots: list[Slot]
    waiting: list[Waiting]
    tasks: list[dict[str, Any]]
    view: str
    query: str = ""
    slot_count: int = 3
    focus: dict[str, Any] | None = None
    """The open focus session (with its task's title), if any."""
    block: Segment | None = None
    """The time block now (``free`` outside any)."""
    next_block: tuple[datetime, Segment] | None = None
    """When the current block ends, and what follows."""
    inbox: tuple[dict[str, Any], ...] = ()
    """Interruptions captured and not yet delivered, oldest first."""

    @property
    def held(self) -> int:
        """How many interruptions wait to be delivered."""
        return len(self.inbox)


async def load_board(
    store: Store,
    *,
    now: float,
    view: str,
    query: str,
    slot_count: int,
    blocks: Sequence[Block] = (),
    settings: Any = None,
) -> Board:
    """Read the board: counts, running jobs with estimates, waiting jobs, the listed tasks.

    With ``settings``, why a job waits weighs the configured locks and groups too (and
    the groups changed from the shell).
    """
    open_jobs = await store.run(jobs.open_jobs())
    if settings is not None:
        limits = Limits.of(settings, await store.run(groups.group_states()))
    else:
        limits = Limits(max_parallel=slot_count)
    by_id = {j["id"]: j for j in open_jobs}
    slots = []
    for job in open_jobs:
        if job["status"] not in ("running", "paused") or job["run"] is None:
            continue
        past = await store.run(jobs.recent_durations(json.dumps(job["command"]), job["cwd"]))
        slots.append(
            Slot(
                task_id=job["id"],
                title=job["title"],
                status=job["status"],
                started_at=job["run"]["started_at"],
                estimate=median(past) if past else None,
                log_path=job["run"]["log_path"],
                last_line=last_line(job["run"]["log_path"]),
                paused_at=job["updated_at"] if job["status"] == "paused" else None,
            )
        )
    # queued: ready to start when a slot frees; waiting: held back by something else. The
    # words are the CLI's (engine.waiting): `focusq ls` and the board say the same.
    running = running_of(by_id)  # once: asking about each open job is then linear
    reasons = {j["id"]: waiting_for(j, by_id, limits, now, running) for j in open_jobs}
    waiting = [
        Waiting(j["id"], j["title"], why)
        for j in open_jobs
        if (why := reasons[j["id"]]) and not why.startswith("cap ")
    ]
    counts = {
        "queued": sum(j["status"] == "queued" for j in open_jobs)
        - sum(w.task_id in by_id and by_id[w.task_id]["status"] == "queued" for w in waiting),
        "running": len(slots),
        "waiting": len(waiting),
    }
    tasks = await _listed(store, view, now)
    if query:
        needle = query.lower()
        tasks = [t for t in tasks if needle in _haystack(t)]
    moment = datetime.fromtimestamp(now)
    return Board(
        now,
        counts,
        slots,
        waiting,
        tasks,
        view,
        query,
        slot_count,
        focus=await store.run(focus.current_focus()),
        block=segment_at(blocks, moment) if blocks else None,
        next_block=next_boundary(blocks, moment) if blocks else None,
        inbox=tuple(await store.run(inbox.inbox(held_only=True))),
    )


def with_fresh_tails(board: Board) -> Board:
    """``board`` with each slot's last log line read again (4 KiB from each log's end).

    Logs grow between database changes; this keeps the slots live without a new board.
    """
    slots = [replace(s, last_line=last_line(s.log_path)) for s in board.slots]
    return board if slots == board.slots else replace(board, slots=slots)


async def _listed(store: Store, view: str, now: float) -> list[dict[str, Any]]:
    if view == "done":
        return await store.run(tasks.list_tasks(["done"], ended_after=_midnight(now)))
    kind = view if view in ("creative", "mechanical") else None
    listed = await store.run(tasks.list_tasks(sorted(ACTIVE), kind=kind))
    if view in ("all", "mechanical"):
        # Jobs that failed or were cancelled today stay in sight, one key from a retry.
        ended = await store.run(
            tasks.list_tasks(["failed", "cancelled"], kind="mechanical", ended_after=_midnight(now))
        )
        listed += ended
    return listed


def _midnight(now: float) -> float:
    return datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0).timestamp()


def _haystack(task: dict[str, Any]) -> str:
    parts = [task["title"], *("+" + t for t in task["tags"]), task["project"] or ""]
    return " ".join(parts).lower()


def last_line(log_path: str | None, size: int = 4096) -> str:
    """The log's last non-empty line, ``\\r`` progress collapsed to its last frame."""
    if not log_path:
        return ""
    try:
        with open(log_path, "rb") as file:
            file.seek(0, 2)
            end = file.tell()
            file.seek(max(0, end - size))
            data = file.read()
    except OSError:
        return ""
    for line in reversed(data.decode("utf-8", errors="replace").splitlines()):
        frame = line.rsplit("\r", 1)[-1].strip()
        if frame and not (end <= size and frame.startswith("# ")):
            return frame
    return ""


def elapsed(seconds: float) -> str:
    """``12s``, ``4m05s``, ``1h20m``."""
    return format_duration(max(0.0, seconds))


def clock(now: float | None = None) -> str:
    """The wall clock as the header shows it."""
    return time.strftime("%a %d %b %H:%M", time.localtime(now))
