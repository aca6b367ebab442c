"""Which jobs to start now: a pure function of the queue, the running jobs and the limits.

No I/O and no clock: the caller passes ``now``. Rules, in order: dependencies done
(``after`` needs success, ``afterany`` only an end), ``at:`` reached, every lock free,
the global cap, the group's cap and stagger. Among the startable: priority, then the
longest estimated remaining critical path, then age.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any

from focusq.engine.limits import Limits as Limits  # re-exported: callers import it from here
from focusq.states import PRIORITY_RANK

DONE = "done"
ENDED = frozenset({"done", "failed", "cancelled", "skipped", "dropped"})


@dataclass(frozen=True, slots=True)
class Job:
    """What the scheduler knows of one mechanical task."""

    id: int
    priority: int = 1
    """Rank: 2 for H, 1 for M, 0 for L."""
    created_at: float = 0.0
    estimate: float = 60.0
    """Seconds this job is expected to take."""
    after: tuple[int, ...] = ()
    afterany: tuple[int, ...] = ()
    locks: tuple[str, ...] = ()
    group: str | None = None
    not_before: float | None = None
    executor: str | None = None
    """``on:NAME``; ``None``: its group's executor, else the default one."""

    @classmethod
    def of(cls, record: Mapping[str, Any], estimate: float) -> Job:
        """The scheduler's view of a task record (``--json`` fields), ``estimate`` seconds."""
        return cls(
            id=record["id"],
            priority=PRIORITY_RANK[record["priority"]],
            created_at=record["created_at"],
            estimate=estimate,
            after=tuple(record["after"]),
            afterany=tuple(record["afterany"]),
            locks=tuple(record["locks"]),
            group=record["group"],
            not_before=record["at"],
            executor=record.get("executor"),
        )


def _order(job: Job) -> tuple[int, float, float, int]:
    """The sort key when no other queued job waits on this one: its critical path is its own."""
    return (-job.priority, -job.estimate, job.created_at, job.id)


@dataclass(frozen=True, slots=True)
class Plan:
    """The decision: start these, skip those (with why), and when to look again."""

    start: tuple[int, ...] = ()
    skip: tuple[tuple[int, str], ...] = ()
    wake_at: float | None = None
    """The earliest time a waiting job may become startable (``at:``, a stagger)."""


@dataclass(frozen=True, slots=True)
class Candidates:
    """The first half of a plan: what may start as far as dependencies and times go."""

    ready: tuple[Job, ...] = ()
    """Best first."""
    skip: tuple[tuple[int, str], ...] = ()
    wake_at: float | None = None
    chains: bool = False
    """Some queued job waits on another task: a task's end can change what is ready."""


def plan(
    queued: Sequence[Job],
    running: Sequence[Job],
    status: Mapping[int, str],
    limits: Limits,
    now: float,
    last_start: Mapping[str, float] | None = None,
) -> Plan:
    """Decide which of ``queued`` to start now.

    ``status`` maps every task a dependency names to its state; a task absent from it
    counts as not finished. ``last_start`` maps a group to its latest start time.
    """
    found = candidates(queued, status, now)
    start, wake_at = choose(found.ready, running, limits, now, last_start)
    return Plan(
        start=tuple(start),
        skip=found.skip,
        wake_at=found.wake_at if wake_at is None else _earliest(found.wake_at, wake_at),
    )


def candidates(queued: Sequence[Job], status: Mapping[int, str], now: float) -> Candidates:
    """The queued jobs whose dependencies are met and whose ``at:`` time has come, in order.

    It holds for as long as the queue, the dependencies' states and the estimates do not
    change and no ``wake_at`` passes: a caller may keep it and :func:`choose` from it
    again when only the running jobs changed, leaving out the ones it started meanwhile.
    """
    skip: list[tuple[int, str]] = []
    ready: list[Job] = []
    wake_at: float | None = None
    chains = False
    for job in queued:
        if job.after or job.afterany:
            chains = True
            blocked = failed_dependency(job, status)
            if blocked:
                skip.append((job.id, blocked))
                continue
            if not deps_met(job, status):
                continue
        if job.not_before is not None and job.not_before > now:
            wake_at = _earliest(wake_at, job.not_before)
            continue
        ready.append(job)
    if len(ready) > 1:  # a lock or a group cap may let only some start: order always counts
        if chains:
            path = critical_paths(queued)
            ready.sort(key=lambda j: (-j.priority, -path[j.id], j.created_at, j.id))
        else:
            ready.sort(key=_order)
    return Candidates(tuple(ready), tuple(skip), wake_at, chains)


def choose(
    ready: Iterable[Job],
    running: Sequence[Job],
    limits: Limits,
    now: float,
    last_start: Mapping[str, float] | None = None,
) -> tuple[list[int], float | None]:
    """Which of ``ready`` (best first) start now within the caps, locks and staggers.

    Also returns when a stagger lets a waiting job start. Reads ``ready`` only as far as
    the free slots need.
    """
    in_executor: dict[str, int] = defaultdict(int)
    for job in running:
        in_executor[limits.executor_of(job)] += 1
    names = {"local", *limits.executor_caps}
    free = {n: limits.executor_cap(n) - in_executor[n] for n in names}
    slots = sum(max(0, n) for n in free.values())
    if slots <= 0:
        return [], None
    last_start = dict(last_start or {})
    wake_at: float | None = None
    held: dict[str, int] = defaultdict(int)
    in_group: dict[str, int] = defaultdict(int)
    for job in running:
        for key in job.locks:
            held[key] += 1
        if job.group:
            in_group[job.group] += 1

    # Every reason to hold a job back is its class's (executor, group, locks), and starting
    # jobs only takes room: an iterator that can leave out the rest of a held-back job's
    # class (ReadyQueue.ready's) is told to.
    skip_like: Callable[[], None] = getattr(ready, "skip_like", _nothing)
    start: list[int] = []
    for job in ready:
        if slots <= 0:
            break
        executor = limits.executor_of(job)
        if executor not in free:  # not configured (any more): the worker ends it, saying so
            free[executor] = 1
        if free[executor] <= 0:
            skip_like()
            continue
        if any(held[key] >= limits.lock_cap(key) for key in job.locks):
            skip_like()
            continue
        if job.group:
            if job.group in limits.paused_groups:
                skip_like()
                continue
            cap = limits.group_caps.get(job.group)
            if cap is not None and in_group[job.group] >= cap:
                skip_like()
                continue
            stagger = limits.group_stagger.get(job.group, 0.0)
            previous = last_start.get(job.group)
            if stagger and previous is not None and previous + stagger > now:
                wake_at = _earliest(wake_at, previous + stagger)
                skip_like()
                continue
            in_group[job.group] += 1
            last_start[job.group] = now
        for key in job.locks:
            held[key] += 1
        start.append(job.id)
        free[executor] -= 1
        slots -= 1
    return start, wake_at


def _nothing() -> None:
    """What a plain iterable of ready jobs does when asked to leave out a class: nothing."""


def deps_met(job: Job, status: Mapping[int, str]) -> bool:
    return all(status.get(d) == DONE for d in job.after) and all(
        status.get(d) in ENDED for d in job.afterany
    )


def failed_dependency(job: Job, status: Mapping[int, str]) -> str | None:
    for dep in job.after:
        state = status.get(dep)
        if state in ENDED and state != DONE:
            return f"after #{dep}, which ended {state}"
    return None


def _earliest(current: float | None, candidate: float) -> float:
    return candidate if current is None else min(current, candidate)


def critical_paths(jobs: Sequence[Job]) -> dict[int, float]:
    """Each job's estimate plus the longest chain of queued jobs waiting on it."""
    successors: dict[int, list[Job]] = defaultdict(list)
    for job in jobs:
        for dep in (*job.after, *job.afterany):
            successors[dep].append(job)
    if not successors:
        return {job.id: job.estimate for job in jobs}
    memo: dict[int, float] = {}
    for job in jobs:
        _longest(job, successors, memo)
    return memo


def _longest(job: Job, successors: Mapping[int, list[Job]], memo: dict[int, float]) -> None:
    """Fill ``memo`` for ``job`` and every job after it, depth first without recursion (a
    chain of thousands of ``after:`` jobs is no deeper than any other)."""
    if job.id in memo:
        return
    stack = [(job, iter(successors.get(job.id, ())))]
    on_stack = {job.id}
    while stack:
        top, pending = stack[-1]
        below = next((s for s in pending if s.id not in memo), None)
        if below is not None:
            if below.id in on_stack:  # a cycle cannot be stored, but never loop on one
                continue
            stack.append((below, iter(successors.get(below.id, ()))))
            on_stack.add(below.id)
            continue
        stack.pop()
        on_stack.discard(top.id)
        tail = max((memo.get(s.id, 0.0) for s in successors.get(top.id, ())), default=0.0)
        memo[top.id] = top.estimate + tail


def estimate(history: Iterable[float], declared: float | None, default: float) -> float:
    """Median of past successful runs, else the ``est:`` given, else the default."""
    past = list(history)
    if past:
        return float(median(past))
    return declared if declared is not None else default
