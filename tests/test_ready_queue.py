"""The incremental ready queue gives what the full recomputation gives, on random queues.

Each example is a random sequence of what a day does to a queue: jobs added (some after
others, some at a later time), started, ended well or badly, held and released, edited to
a new estimate or priority, the clock moving on. After every step the ready queue must
give exactly what :func:`focusq.engine.scheduler.candidates` computes from scratch: the
same ready jobs in the same order, the same jobs skipped, the same next wake-up time.
"""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from focusq.engine.limits import Limits
from focusq.engine.ready import ReadyQueue
from focusq.engine.scheduler import Job, candidates, choose, critical_paths

ENDINGS = ("done", "failed", "cancelled", "dropped")


def random_day(rnd: random.Random, steps: int) -> list[tuple]:  # type: ignore[type-arg]
    """A random day of what happens to a queue: mostly adds, starts and ends."""
    actions: list[tuple] = []  # type: ignore[type-arg]
    for _ in range(steps):
        k = rnd.random()
        if k < 0.4:
            at = rnd.choice([None, None, None, -5.0, 3.0, 10.0, 50.0])
            after = [rnd.randint(0, 12) for _ in range(rnd.choice([0, 0, 1, 1, 2, 3]))]
            afterany = [rnd.randint(0, 12) for _ in range(rnd.choice([0, 0, 0, 1, 2]))]
            estimate = rnd.choice([1.0, 5.0, 30.0, 60.0, 600.0])
            # What holds a job back as a whole (its class): locks, a group, an executor.
            locks = rnd.choice([(), (), ("a",), ("b",), ("a", "b")])
            group = rnd.choice([None, None, "g1", "g2", "g3"])
            executor = rnd.choice([None, None, None, "farm"])
            placed = (locks, group, executor)
            actions.append(("add", rnd.randint(0, 1), estimate, after, afterany, at, placed))
        elif k < 0.55:
            actions.append(("start", rnd.randint(0, 3)))
        elif k < 0.72:
            actions.append(("end", rnd.randint(0, 50), rnd.choice(ENDINGS)))
        elif k < 0.77:
            actions.append(("retry", rnd.randint(0, 50)))
        elif k < 0.83:
            actions.append(("hold", rnd.randint(0, 50)))
        elif k < 0.89:
            actions.append(("release", rnd.randint(0, 50)))
        elif k < 0.94:
            actions.append(("edit", rnd.randint(0, 50), rnd.choice([2.0, 45.0, 900.0])))
        else:
            actions.append(("tick", rnd.choice([0.5, 4.0, 20.0])))
    return actions


LIMITS = [
    (Limits(max_parallel=3), lambda now: {}),
    (
        Limits(
            max_parallel=4,
            lock_caps={"b": 2},
            group_caps={"g1": 1},
            group_stagger={"g3": 5.0},
            paused_groups=frozenset({"g2"}),
            executor_caps={"farm": 1},
        ),
        lambda now: {"g3": now - 2.0},
    ),
    (Limits(max_parallel=2, executor_caps={"farm": 0}), lambda now: {}),
]
"""Caps, locks, groups (one paused, one staggered) and executors to choose under."""


class Model:
    """The queue as the worker knows it, kept in two ways side by side."""

    def __init__(self) -> None:
        self.status: dict[int, str] = {}
        self.queued: dict[int, Job] = {}
        self.held: dict[int, Job] = {}
        self.every: dict[int, Job] = {}
        self.running: list[int] = []
        self.now = 1000.0
        self.next_id = 1
        self.ready = ReadyQueue(self.status)

    def set_status(self, task_id: int, state: str) -> None:
        self.status[task_id] = state
        self.ready.status_changed(task_id)

    def apply(self, action: tuple) -> None:  # type: ignore[type-arg]
        kind = action[0]
        if kind == "add":
            _, priority, estimate, after, afterany, at, (locks, group, executor) = action
            task_id = self.next_id
            self.next_id += 1
            job = Job(
                id=task_id,
                priority=priority,
                created_at=self.now + task_id * 1e-3,
                estimate=estimate,
                after=tuple(sorted({task_id - 1 - k for k in after if task_id - 1 - k > 0})),
                afterany=tuple(sorted({task_id - 1 - k for k in afterany if task_id - 1 - k > 0})),
                not_before=None if at is None else self.now + at,
                locks=locks,
                group=group,
                executor=executor,
            )
            self.queued[task_id] = self.every[task_id] = job
            self.set_status(task_id, "queued")
            self.ready.put([job], self.now)
        elif kind == "start":
            for job in list(self.ready.ready())[: action[1]]:
                del self.queued[job.id]
                self.ready.discard(job.id)
                self.running.append(job.id)
                self.set_status(job.id, "running")
        elif kind == "end":
            open_ids = self.running + list(self.queued)
            if open_ids:
                task_id = open_ids[action[1] % len(open_ids)]
                if task_id in self.running:
                    self.running.remove(task_id)
                state = action[2]
                if task_id in self.queued:  # a queued job cancelled or dropped
                    state = "cancelled" if state in ("done", "failed") else state
                    del self.queued[task_id]
                    self.ready.discard(task_id)
                self.set_status(task_id, state)
        elif kind == "retry":  # an ended job queued again: what waited on it waits again
            ended = sorted(i for i, s in self.status.items() if s in ENDINGS)
            if ended:
                task_id = ended[action[1] % len(ended)]
                job = self.queued[task_id] = self.every[task_id]
                self.status[task_id] = "queued"
                self.ready.put([job], self.now)
                self.ready.status_changed(task_id)
        elif kind == "hold":
            if self.queued:
                task_id = sorted(self.queued)[action[1] % len(self.queued)]
                self.held[task_id] = self.queued.pop(task_id)
                self.ready.discard(task_id)
                self.set_status(task_id, "held")
        elif kind == "release":
            if self.held:
                task_id = sorted(self.held)[action[1] % len(self.held)]
                job = self.queued[task_id] = self.held.pop(task_id)
                self.status[task_id] = "queued"
                self.ready.put([job], self.now)
                self.ready.status_changed(task_id)
        elif kind == "edit":
            if self.queued:
                task_id = sorted(self.queued)[action[1] % len(self.queued)]
                job = self.queued[task_id] = replace(self.queued[task_id], estimate=action[2])
                self.ready.put([job], self.now)
        elif kind == "tick":
            self.now += action[1]
            self.ready.advance(self.now)

    def check(self, dropped: bool = False) -> None:
        """Compare with the full recomputation, then end the skipped jobs as the worker does
        (``dropped``: its write lost to another process's, so they are told again)."""
        queue = [self.queued[i] for i in sorted(self.queued)]
        full = candidates(queue, self.status, self.now)
        skipped = dict(self.ready.skips())
        assert set(skipped) == {task_id for task_id, _ in full.skip}
        for task_id, reason in skipped.items():  # any one of its failed dependencies
            dep = int(reason.removeprefix("after #").split(",")[0])
            assert dep in self.queued[task_id].after
            assert reason == f"after #{dep}, which ended {self.status[dep]}"
        if dropped:  # still queued: told until written, or placed afresh by a change
            assert dict(self.ready.skips()) == skipped
        else:
            for task_id in skipped:
                self.ready.discard(task_id)
                del self.queued[task_id]
        # A job being skipped lengthens no chain: the order is the one the queue without
        # those jobs has, whether their skips are written yet or not.
        queue = [self.queued[i] for i in sorted(self.queued) if i not in skipped]
        full = candidates(queue, self.status, self.now)
        assert [j.id for j in self.ready.ready()] == [j.id for j in full.ready]
        # Choosing from the ready queue, which leaves out the rest of a held-back job's
        # class, starts what a walk through every ready job starts.
        running = [self.every[i] for i in self.running]
        for limits, last in LIMITS:
            chosen = choose(self.ready.ready(), running, limits, self.now, last(self.now))
            assert chosen == choose(list(full.ready), running, limits, self.now, last(self.now))
        assert self.ready.wake_at == full.wake_at
        assert set(self.ready.jobs) == set(self.queued)
        if not dropped:
            for task_id in skipped:
                self.set_status(task_id, "skipped")


@settings(max_examples=300, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(1, 120), st.integers(0, 3))
def test_the_ready_queue_matches_the_full_recomputation(
    rnd: random.Random, steps: int, bulk_at: int
) -> None:
    model = Model()
    for n, action in enumerate(random_day(rnd, steps)):
        model.apply(action)
        model.check(dropped=rnd.random() < 0.25)
        if n == bulk_at * 10:  # a worker's start, a refresh of a big batch: all at once
            model.ready = ReadyQueue(model.status)
            model.ready.put(list(model.queued.values()), model.now)
            model.check()


def test_a_bulk_put_orders_like_single_puts() -> None:
    status: dict[int, str] = {}
    jobs = [
        Job(id=i, priority=i % 3, estimate=float(i % 7 + 1), after=(i - 1,) if i % 5 else ())
        for i in range(1, 400)
    ]
    for job in jobs:
        status[job.id] = "queued"
    one_by_one = ReadyQueue(status)
    for job in jobs:
        one_by_one.put([job], 0.0)
    at_once = ReadyQueue(status)
    at_once.put(jobs, 0.0)
    assert [j.id for j in one_by_one.ready()] == [j.id for j in at_once.ready()]
    assert [j.id for j in at_once.ready()] == [j.id for j in candidates(jobs, status, 0).ready]


def test_a_chain_of_thousands_is_measured_without_recursion() -> None:
    chain = [Job(id=1)] + [Job(id=i, after=(i - 1,)) for i in range(2, 20_001)]
    paths = critical_paths(chain)
    assert paths[1] == 60.0 * 20_000
    assert paths[20_000] == 60.0
