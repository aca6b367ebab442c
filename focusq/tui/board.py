"""What the main screen shows, read from the store in one place. No Textual here."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from statistics import median
from typing import Any

from focusq.durations import format_duration
from focusq.engine.scheduler import Limits
from focusq.engine.waiting import OPEN, running_of, waiting_for
from focusq.errors import FocusqError
from focusq.focus.blocks import Block, Segment, next_boundary, segment_at
from focusq.store.aio import Store
from focusq.store.ops import focus, groups, inbox, jobs, pages, tasks
from focusq.store.ops.pages import Listing

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
    executor: str | None = None
    """The executor the job runs on; ``None`` on this machine."""
    host: str | None = None
    """The host it runs on, on another executor (``None`` until the run reports it)."""


@dataclass(frozen=True)
class Waiting:
    """A job that cannot start yet, and why."""

    task_id: int
    title: str
    why: str


@dataclass(frozen=True)
class Board:
    """Everything the main screen draws besides the task list, taken at one moment.

    The task list itself is read a page at a time by the list (``store.ops.pages``): the
    board holds figures, never the open set.
    """

    now: float
    counts: dict[str, int]
    slots: list[Slot]
    waiting: list[Waiting]
    """The first few jobs held back, by id, each with why (as many as the slots panel
    shows): :attr:`waiting_count` says how many there are in all."""
    tasks: list[dict[str, Any]]
    """Open creative tasks in the order they will be taken (the first ``CANDIDATES``, and
    the focused one): what a switch prompt may offer."""
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
    waiting_count: int = 0
    """How many jobs are held back in all (counted by SQLite, not read): the slots panel
    says how many more there are than :attr:`waiting` lists."""
    series_due: bool = False
    """A recurring job's due time has passed with nothing queued or running: a worker must
    start to add its run."""

    @property
    def held(self) -> int:
        """How many interruptions wait to be delivered."""
        return len(self.inbox)

    @property
    def listing(self) -> Listing:
        """What the task list shows: the view, the filter, today."""
        return Listing(self.view, self.query, midnight(self.now))


WAITING_SHOWN = 7
"""Held-back jobs read with their reasons: the slots panel shows six and says how many more."""

CANDIDATES = 200
"""Open creative tasks a switch prompt chooses from (the first, in the order taken)."""


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
    """Read the board: counts, running jobs with estimates, the first waiting jobs and why.

    Every read is bounded or counted by SQLite, so the board costs the same at any queue
    size. With ``settings``, why a job waits weighs the configured locks and groups too (and
    the groups changed from the shell).
    """
    running = await store.run(pages.running_jobs())
    if settings is not None:
        limits = Limits.of(settings, await store.run(groups.group_states()), store.path)
    else:
        limits = Limits(max_parallel=slot_count)
    slots = []
    for job in running:
        if job["run"] is None:
            continue
        past = await store.run(jobs.recent_durations(json.dumps(job["command"]), job["cwd"]))
        executor = job["run"]["executor"]
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
                executor=None if executor == "local" else executor,
                host=job["run"]["host"],
            )
        )
    slots.sort(key=lambda s: s.task_id)
    count, first = await store.run(
        pages.held_back(
            now,
            *_at_cap(running, limits),
            limit=WAITING_SHOWN,
            blocked_executors=_busy_executors(running, limits),
            placed=(limits.group_executors, limits.default_executor),
        )
    )
    # queued: ready to start when a slot frees; waiting: held back by something else. The
    # words are the CLI's (engine.waiting): `focusq ls` and the board say the same. Only the
    # jobs shown are asked about; SQLite counted the rest.
    waiting = await _reasons(store, first, running, limits, now)
    by_status = (await store.run(tasks.status_counts()))["mechanical"]
    counts = {
        "queued": by_status.get("queued", 0)
        + by_status.get("held", 0)
        + by_status.get("waiting", 0)
        - count,
        "running": len(slots),
        "waiting": count,
    }
    moment = datetime.fromtimestamp(now)
    session = await store.run(focus.current_focus())
    return Board(
        now,
        counts,
        slots,
        waiting,
        await _candidates(store, session),
        view,
        query,
        slot_count,
        focus=session,
        block=segment_at(blocks, moment) if blocks else None,
        next_block=next_boundary(blocks, moment) if blocks else None,
        inbox=tuple(await store.run(inbox.inbox(held_only=True))),
        waiting_count=count,
        series_due=not (counts["queued"] or counts["running"])
        and await store.run(jobs.runnable_jobs_exist()),
    )


def _at_cap(running: list[dict[str, Any]], limits: Limits) -> tuple[set[str], set[str]]:
    """The lock keys and groups the running jobs fill (or that are paused): a queued job
    needing one of them waits, as ``waiting_for`` says."""
    holders: dict[str, int] = {}
    in_group: dict[str, int] = {}
    for job in running:
        for key in job["locks"]:
            holders[key] = holders.get(key, 0) + 1
        if job["group"]:
            in_group[job["group"]] = in_group.get(job["group"], 0) + 1
    full = {key for key, n in holders.items() if n >= limits.lock_cap(key)}
    blocked = set(limits.paused_groups)
    blocked.update(g for g, cap in limits.group_caps.items() if in_group.get(g, 0) >= cap)
    return full, blocked


def _busy_executors(running: list[dict[str, Any]], limits: Limits) -> set[str]:
    """The executors other than this machine that take no job now (full, not answering)."""
    names = {*limits.executor_caps, *limits.down_executors} - {"local"}
    return {name for name in names if limits.executor_said(name, running)}


async def _reasons(
    store: Store,
    shown: list[dict[str, Any]],
    running: list[dict[str, Any]],
    limits: Limits,
    now: float,
) -> list[Waiting]:
    """Why each job in ``shown`` waits, in the CLI's words."""
    deps = sorted({d for j in shown for d in (*j["after"], *j["afterany"])})
    others = {j["id"]: j for j in running}
    for dep in await store.run(jobs.jobs_by_id(deps)) if deps else []:
        if dep["kind"] == "mechanical" and dep["status"] in OPEN:
            others.setdefault(dep["id"], dep)
    active = running_of(others)
    out = []
    for job in shown:
        why = waiting_for(job, {**others, job["id"]: job}, limits, now, active)
        if why and not why.startswith("cap "):
            out.append(Waiting(job["id"], job["title"], why))
    return out


async def _candidates(store: Store, session: dict[str, Any] | None) -> list[dict[str, Any]]:
    listed = await store.run(pages.first_open("creative", CANDIDATES))
    if session is not None and all(t["id"] != session["task_id"] for t in listed):
        with contextlib.suppress(FocusqError):
            listed.append(await store.run(tasks.get_task(session["task_id"])))
    return listed


def with_fresh_tails(board: Board) -> Board:
    """``board`` with each slot's last log line read again (4 KiB from each log's end).

    Logs grow between database changes; this keeps the slots live without a new board.
    """
    slots = [replace(s, last_line=last_line(s.log_path)) for s in board.slots]
    return board if slots == board.slots else replace(board, slots=slots)


def midnight(now: float) -> float:
    """The start of the day ``now`` is in: what "today" means for finished tasks."""
    return datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0).timestamp()


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
