"""The worker's picture of the queue (``engine.queue.Queue``), fed views from a real store."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest

from focusq import quickadd
from focusq.engine.outcome import RunHistory
from focusq.engine.queue import Queue
from focusq.store.ops import queue as reads
from focusq.store.ops import tasks
from focusq.store.sync import SyncStore


def _queued(database: Path, *commands: list[str]) -> tuple[list[dict[str, Any]], dict[int, str]]:
    now = time.time()
    drafts = [quickadd.parse([f"job {n}"], command, now=now) for n, command in enumerate(commands)]
    with SyncStore(str(database)) as store:
        store.run(tasks.add_tasks(drafts, now))
        return store.run(reads.queued_page(0))


def test_a_job_taken_twice_is_still_claimed(tmp_path: Path) -> None:
    """Read twice (edited while queued, or read by a starting worker's two looks): the
    second look must not drop the key the job shares with no other job."""
    views, states = _queued(tmp_path / "focusq.db", ["echo", "only me"])
    queue = Queue(RunHistory(60.0))
    queue.take(views, (), states, time.time())
    queue.take(views, (), states, time.time())
    queue.claimed({**views[0], "status": "running"})
    assert views[0]["id"] not in queue
    assert queue.jobs[views[0]["id"]]["status"] == "running"


def test_jobs_sharing_a_command_learn_from_its_runs_after_a_second_look(tmp_path: Path) -> None:
    views, states = _queued(tmp_path / "focusq.db", ["make"], ["make"], ["make", "test"])
    queue = Queue(RunHistory(60.0))
    for _ in range(3):
        queue.take(views, (), states, time.time())
    first = views[0]
    queue.history.learn(first, 5.0)
    queue.learnt(first)  # re-orders the queued jobs of that command
    assert {v["id"] for v in views} == set(queue.queued)
    for view in views:
        queue.claimed({**view, "status": "running"})
    assert not queue.queued


def _books_balance(queue: Queue) -> None:
    """Every queued job is filed under its key, and only those; each key kept once."""
    assert set(queue._key_of) == set(queue.queued)
    filed: dict[tuple[str, str], set[int]] = {}
    for task_id, key in queue._key_of.items():
        filed.setdefault(key, set()).add(task_id)
    assert dict(queue._by_key) == filed
    assert set(queue._keys) == set(filed)


@pytest.mark.parametrize("seed", range(5))
def test_the_books_balance_through_any_order_of_changes(tmp_path: Path, seed: int) -> None:
    """Jobs queued, edited, held, released, claimed and learnt from, in random orders,
    several sharing a command and some alone in theirs."""
    commands = [["make"], ["make"], ["make", "test"], ["echo", "a"], ["echo", "b"], ["true"]]
    views, states = _queued(tmp_path / "focusq.db", *commands, *commands)
    rng = random.Random(seed)
    queue = Queue(RunHistory(60.0))
    for _ in range(300):
        view = rng.choice(views)
        action = rng.choice(("take", "take", "hold", "claim", "learn", "take-all"))
        if action == "take":
            queue.take([view], (), states, time.time())
        elif action == "take-all":
            queue.take(rng.sample(views, k=rng.randint(1, len(views))), (), states, time.time())
        elif action == "hold":
            held = {**view, "status": "held"}
            queue.take([held], [held], states, time.time())
        elif action == "claim" and view["id"] in queue:
            queue.claimed({**view, "status": "running"})
        elif action == "learn":
            queue.history.learn(view, rng.uniform(0.1, 600.0))
            queue.learnt(view)
        _books_balance(queue)
