"""The queued jobs that may start, kept up to date as the queue changes.

:func:`focusq.engine.scheduler.candidates` computes, from the whole queue, which queued
jobs have their dependencies met and their ``at:`` time come, best first. The worker
asks after every change, so at 50,000 queued jobs computing it afresh each time would
make a day's work quadratic. :class:`ReadyQueue` gives the same answer at the cost of
what changed: a job put or taken out, a task's state, the clock. No I/O and no clock of
its own: the caller passes ``now``.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping

from focusq.engine.scheduler import Job, critical_paths, deps_met, failed_dependency

_Key = tuple[int, float, float, int]
_Class = tuple[str | None, str | None, tuple[str, ...]]
"""What holds a job back as a whole: its executor (``on:``), its group and its locks."""

BULK = 64
"""Put more jobs than this at once and the order is rebuilt in one sort."""

CLASSES = 256
"""Up to this many classes of ready jobs, :meth:`ReadyQueue.ready` walks them class by
class, leaving out the rest of a class the first time one of them is held back."""


def _class(job: Job) -> _Class:
    return (job.executor, job.group, job.locks)


class ReadyQueue:
    """Queued jobs by readiness: ready (ordered), waiting for a time, or for a dependency.

    ``status`` is the caller's map of every task a dependency names to its state; call
    :meth:`status_changed` when an entry changes. Ready jobs are ordered by priority, then
    the longest estimated chain of queued jobs waiting on them, then age: the order
    :func:`~focusq.engine.scheduler.candidates` gives.
    """

    def __init__(self, status: Mapping[int, str]) -> None:
        self.status = status
        self.jobs: dict[int, Job] = {}
        self._dependants: defaultdict[int, set[int]] = defaultdict(set)
        """A task's id -> the queued jobs that name it in ``after`` or ``afterany``."""
        self._path: dict[int, float] = {}
        """Each queued job's estimate plus the longest chain of queued jobs after it."""
        self._order: list[_Key] = []
        """The ready jobs' keys, sorted: best first."""
        self._key: dict[int, _Key] = {}
        """The key of each job in :attr:`_order`."""
        self._classes: dict[_Class, list[_Key]] = {}
        """The keys of :attr:`_order` by class, each list sorted."""
        self._class_of: dict[int, _Class] = {}
        self._timed: list[tuple[float, int]] = []
        """A heap of ``(at, id)``: jobs whose dependencies are met, waiting for their time
        (an entry whose job is no longer in :attr:`_timing` is stale and skipped)."""
        self._timing: set[int] = set()
        self._skips: dict[int, str] = {}
        """Jobs to end as skipped, with why. They stay in :attr:`jobs`, never ready, until
        the skip is written (:meth:`discard`): a change read first places them afresh."""
        self.now = 0.0

    def __len__(self) -> int:
        return len(self.jobs)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self.jobs

    # -- changes --------------------------------------------------------------------------

    def put(self, jobs: Iterable[Job], now: float) -> None:
        """Jobs newly queued, or changed (an edit, a new estimate)."""
        self.now = max(self.now, now)
        jobs = list(jobs)
        if len(jobs) > BULK:
            self._put_many(jobs)
            return
        for job in jobs:
            if job.id in self.jobs:
                self.discard(job.id)
            self.jobs[job.id] = job
            for dep in (*job.after, *job.afterany):
                self._dependants[dep].add(job.id)
            tail = max((self._path[s] for s in self._dependants.get(job.id, ())), default=0.0)
            self._path[job.id] = job.estimate + tail
            self._lengthen(job)
            self._classify(job)

    def discard(self, task_id: int) -> None:
        """A job is no longer queued (started, held, ended) or is about to change."""
        self._skips.pop(task_id, None)
        job = self.jobs.pop(task_id, None)
        if job is None:
            return
        self._unorder(task_id)
        for dep in (*job.after, *job.afterany):
            waiting = self._dependants.get(dep)
            if waiting is not None:
                waiting.discard(task_id)
                if not waiting:
                    del self._dependants[dep]
        self._uncount(job, self._path.pop(task_id))

    def status_changed(self, task_id: int) -> None:
        """``status[task_id]`` changed: the jobs that wait on it may start, or never."""
        for waiting in list(self._dependants.get(task_id, ())):
            job = self.jobs.get(waiting)
            if job is not None:
                self._unorder(waiting)
                self._classify(job)

    def advance(self, now: float) -> None:
        """The clock moved on: jobs whose ``at:`` time came are ready."""
        self.now = max(self.now, now)
        while self._timed and self._timed[0][0] <= self.now:
            at, task_id = heapq.heappop(self._timed)
            if self._is_timed(at, task_id):
                self._timing.discard(task_id)
                self._order_in(self.jobs[task_id])

    # -- answers --------------------------------------------------------------------------

    def ready(self) -> Iterator[Job]:
        """The jobs that may start as far as the queue goes, best first.

        With few classes (executor, group, locks) the iterator has ``skip_like()``: the
        scheduler calls it when the job just given is held back, and the rest of its class,
        held back alike, is left out of the walk. 50,000 queued jobs that share one lock
        cost a tick what their class costs, not a walk through all of them.
        """
        jobs = self.jobs
        if len(self._classes) <= CLASSES:
            return _ClassWalk(jobs, self._classes)
        return (jobs[key[3]] for key in self._order)

    def placed(self, where: Callable[[str | None, str | None], str]) -> set[str] | None:
        """Where the ready jobs run: ``where(executor, group)`` of each class; ``None`` when
        there are too many classes to say cheaply."""
        if len(self._classes) > CLASSES:
            return None
        return {where(executor, group) for executor, group, _ in self._classes}

    def skips(self) -> list[tuple[int, str]]:
        """The jobs a failed dependency means will never run, with why. They are told
        until written: the caller discards each once its skip is committed."""
        return list(self._skips.items())

    @property
    def wake_at(self) -> float | None:
        """The earliest ``at:`` of a job waiting only for its time."""
        while self._timed:
            at, task_id = self._timed[0]
            if self._is_timed(at, task_id):
                return at
            heapq.heappop(self._timed)  # stale: started, changed, ready or waiting again
        return None

    # -- inside ---------------------------------------------------------------------------

    def _classify(self, job: Job) -> None:
        was_skipping = self._skips.pop(job.id, None) is not None
        failed = (job.after or job.afterany) and failed_dependency(job, self.status)
        if failed:
            self._skips[job.id] = failed
            if not was_skipping:  # a job that never runs lengthens no chain
                self._uncount(job, self._path[job.id])
            return
        if was_skipping:  # it may run after all: its chain counts again
            self._shorten(job.id)
            self._lengthen(job)
        if (job.after or job.afterany) and not deps_met(job, self.status):
            return
        if job.not_before is not None and job.not_before > self.now:
            heapq.heappush(self._timed, (job.not_before, job.id))
            self._timing.add(job.id)
            return
        self._order_in(job)

    def _is_timed(self, at: float, task_id: int) -> bool:
        return task_id in self._timing and self.jobs[task_id].not_before == at

    def _order_in(self, job: Job) -> None:
        key = (-job.priority, -self._path[job.id], job.created_at, job.id)
        self._key[job.id] = key
        insort(self._order, key)
        kind = self._class_of[job.id] = _class(job)
        insort(self._classes.setdefault(kind, []), key)

    def _unorder(self, task_id: int) -> None:
        """Take a job out of the ready order and the time wait, to place it again."""
        self._timing.discard(task_id)
        key = self._key.pop(task_id, None)
        if key is not None:
            del self._order[bisect_left(self._order, key)]
            kind = self._class_of.pop(task_id)
            same = self._classes[kind]
            del same[bisect_left(same, key)]
            if not same:
                del self._classes[kind]

    def _lengthen(self, job: Job) -> None:
        """``job``'s chain grew: so may the chains of the queued jobs it waits on."""
        todo = [job]
        budget = 2 * len(self.jobs)  # a cycle cannot be stored, but never loop on one
        while todo and budget > 0:
            below = todo.pop()
            budget -= 1
            if below.id in self._skips:
                continue  # its chain is measured, but makes no job above it longer
            for dep in (*below.after, *below.afterany):
                upper = self.jobs.get(dep)
                if upper is None:
                    continue
                longer = upper.estimate + self._path[below.id]
                if longer > self._path[dep]:
                    self._repath(upper, longer)
                    todo.append(upper)

    def _shorten(self, task_id: int) -> None:
        """The longest chain after ``task_id`` may have gone: measure it again, and above."""
        todo = [task_id]
        budget = 2 * len(self.jobs)
        while todo and budget > 0:
            job = self.jobs[todo.pop()]
            budget -= 1
            waiting = self._dependants.get(job.id, ())
            tail = max(
                (self._path[s] for s in waiting if s in self.jobs and s not in self._skips),
                default=0.0,
            )
            old = self._path[job.id]
            if job.estimate + tail == old:
                continue
            self._repath(job, job.estimate + tail)
            for dep in (*job.after, *job.afterany):
                if dep in self.jobs and self._path[dep] == self.jobs[dep].estimate + old:
                    todo.append(dep)

    def _uncount(self, job: Job, path: float) -> None:
        """``job``'s chain (``path``) no longer counts: the jobs it waits on whose longest
        chain went through it are measured again."""
        for dep in (*job.after, *job.afterany):
            upper = self.jobs.get(dep)
            if upper is not None and self._path[dep] == upper.estimate + path:
                self._shorten(dep)

    def _repath(self, job: Job, path: float) -> None:
        self._path[job.id] = path
        if job.id in self._key:
            self._unorder(job.id)
            self._order_in(job)

    def _put_many(self, jobs: list[Job]) -> None:
        for job in jobs:
            if job.id in self.jobs:
                self.discard(job.id)
        for job in jobs:
            self.jobs[job.id] = job
            for dep in (*job.after, *job.afterany):
                self._dependants[dep].add(job.id)
        self._skips = {}
        for job in self.jobs.values():
            if (job.after or job.afterany) and (failed := failed_dependency(job, self.status)):
                self._skips[job.id] = failed
        self._path = critical_paths(list(self.jobs.values()))
        if self._skips:  # jobs that never run lengthen no chain (their own is kept)
            counted = critical_paths([j for j in self.jobs.values() if j.id not in self._skips])
            self._path = {**self._path, **counted}
        self._key.clear()
        self._order.clear()
        self._classes.clear()
        self._class_of.clear()
        self._timed.clear()
        self._timing.clear()
        for job in self.jobs.values():
            if job.id in self._skips:
                continue
            if (job.after or job.afterany) and not deps_met(job, self.status):
                continue
            if job.not_before is not None and job.not_before > self.now:
                self._timed.append((job.not_before, job.id))
                self._timing.add(job.id)
                continue
            key = (-job.priority, -self._path[job.id], job.created_at, job.id)
            self._key[job.id] = key
            self._order.append(key)
            kind = self._class_of[job.id] = _class(job)
            self._classes.setdefault(kind, []).append(key)
        self._order.sort()
        for same in self._classes.values():
            same.sort()
        heapq.heapify(self._timed)


class _ClassWalk:
    """The ready jobs best first, merged from their classes; :meth:`skip_like` leaves out
    the rest of the class of the job given last."""

    def __init__(self, jobs: Mapping[int, Job], classes: Mapping[_Class, list[_Key]]) -> None:
        self._jobs = jobs
        self._lists = list(classes.values())
        self._heads = [(same[0], n, 0) for n, same in enumerate(self._lists)]
        heapq.heapify(self._heads)
        self._last: int | None = None
        self._at = 0

    def __iter__(self) -> _ClassWalk:
        return self

    def __next__(self) -> Job:
        if self._last is not None:  # the class of the job given last goes on
            n, index = self._last, self._at + 1
            if index < len(self._lists[n]):
                heapq.heappush(self._heads, (self._lists[n][index], n, index))
        if not self._heads:
            self._last = None
            raise StopIteration
        key, self._last, self._at = heapq.heappop(self._heads)
        return self._jobs[key[3]]

    def skip_like(self) -> None:
        """The job given last is held back by its class: so is the rest of the class."""
        self._last = None
