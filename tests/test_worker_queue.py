"""The worker's picture of the queue (``engine.queue.Queue``), fed views from a real store."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

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
