"""The worker's picture of the queue, kept up to date from what changed.

Queued jobs are held as the scheduler sees them (:class:`~focusq.engine.scheduler.Job`,
in a :class:`~focusq.engine.ready.ReadyQueue`); open jobs that are not queued (running,
paused, held, waiting) as their whole records; and the state of every task a dependency
names. Each change costs what it touches, so a queue of 50,000 jobs is no slower per job
than one of 1,000, and holds no record it does not need.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from focusq.engine.outcome import RunHistory
from focusq.engine.outcome import key as outcome_key
from focusq.engine.ready import ReadyQueue
from focusq.engine.scheduler import Job
from focusq.store.aio import Store
from focusq.store.ops import queue as reads

OPEN = ("queued", "waiting", "held", "running", "paused")

Key = tuple[str, str]


class Queue:
    """Queued jobs, open jobs' records and dependency states, as the worker knows them."""

    def __init__(self, history: RunHistory) -> None:
        self.history = history
        self.status: dict[int, str] = {}
        """The state of every task a dependency names, and of every open job."""
        self.ready = ReadyQueue(self.status)
        """The queued jobs."""
        self.jobs: dict[int, dict[str, Any]] = {}
        """Open jobs that are not queued, by id: their whole records (with current run)."""
        self.intents: set[int] = set()
        """Jobs with an intent (cancel, pause, resume) left for the worker."""
        self._key_of: dict[int, Key] = {}
        self._by_key: defaultdict[Key, set[int]] = defaultdict(set)
        """Queued jobs by what their estimate is learnt from (command and folder)."""
        self._keys: dict[Key, Key] = {}
        """One copy of each key: 50,000 queued runs of one command share it."""

    def __contains__(self, task_id: object) -> bool:
        """Whether the job is queued."""
        return task_id in self.ready

    @property
    def queued(self) -> Mapping[int, Job]:
        return self.ready.jobs

    def set_status(self, task_id: int, state: str) -> None:
        if self.status.get(task_id) != state:
            self.status[task_id] = state
            self.ready.status_changed(task_id)

    def take(
        self,
        views: Iterable[dict[str, Any]],
        records: Iterable[dict[str, Any]],
        states: Mapping[int, str],
        now: float,
        running: Iterable[int] = (),
    ) -> None:
        """What the store says now: ``views`` of tasks that changed (or queued jobs read
        in a page), whole ``records`` of the open jobs among them that are not queued,
        and the ``states`` of the tasks their dependencies name. A job in ``running``
        (this worker runs it) stays out of the queue whatever its view says."""
        full = {r["id"]: r for r in records}
        running = set(running)
        for task_id, state in states.items():
            self.set_status(task_id, state)
        put = []
        for view in views:
            task_id, state = view["id"], view["status"]
            self.set_status(task_id, state)
            mechanical = view["kind"] == "mechanical"
            if mechanical and state == "queued" and task_id not in running:
                put.append(self._job(view))
                self.jobs.pop(task_id, None)
            else:
                self._unqueue(task_id)
                if mechanical and state in OPEN and task_id in full:
                    self.jobs[task_id] = full[task_id]
                elif task_id not in running:
                    self.jobs.pop(task_id, None)
            if mechanical and view["intent"]:
                self.intents.add(task_id)
        self.ready.put(put, now)

    async def load(self, store: Store, now: float) -> None:
        """Read every queued job a page at a time (a big queue is never wholly in records)."""
        after = 0
        while True:
            views, states = await store.run(reads.queued_page(after))
            if not views:
                return
            self.take(views, (), states, now)
            after = views[-1]["id"]

    def recovered(self, records: Iterable[dict[str, Any]], states: Mapping[int, str]) -> None:
        """The open jobs that are not queued, as a starting worker reads them."""
        for task_id, state in states.items():
            self.set_status(task_id, state)
        for record in records:
            self.jobs[record["id"]] = record
            self.set_status(record["id"], record["status"])
            if record["intent"]:
                self.intents.add(record["id"])

    def claimed(self, record: dict[str, Any]) -> None:
        """A queued job was claimed: this is its record now."""
        self._unqueue(record["id"])
        self.jobs[record["id"]] = record
        self.set_status(record["id"], record["status"])

    def skipped(self, ids: Iterable[int]) -> None:
        """Jobs whose skip is written: no longer queued."""
        for task_id in ids:
            self._unqueue(task_id)

    def learnt(self, record: dict[str, Any]) -> None:
        """The estimate of ``record``'s command and folder moved: order the queued jobs
        that share them again."""
        queued = self.ready.jobs
        ids = [i for i in self._by_key.get(outcome_key(record), ()) if i in queued]
        estimate = self.history.estimate(record)
        self.ready.put([replace(queued[i], estimate=estimate) for i in ids], 0.0)

    def _job(self, view: dict[str, Any]) -> Job:
        # A job queued already (edited, or read twice as a worker starts) leaves its old
        # key first: that may drop the last copy of the key it takes again just below.
        self._unqueue_key(view["id"])
        key = self._keys.setdefault(view["_key"], view["_key"])
        self._key_of[view["id"]] = key
        self._by_key[key].add(view["id"])
        return Job.of(view, self.history.estimate(view))

    def _unqueue(self, task_id: int) -> None:
        self.ready.discard(task_id)
        self._unqueue_key(task_id)

    def _unqueue_key(self, task_id: int) -> None:
        key = self._key_of.pop(task_id, None)
        if key is not None:
            same = self._by_key[key]
            same.discard(task_id)
            if not same:
                del self._by_key[key]
                del self._keys[key]
