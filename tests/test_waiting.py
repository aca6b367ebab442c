"""Why a job waits: the words the TUI and the CLI share, from the job and what runs."""

from __future__ import annotations

from typing import Any

import pytest

from focusq.engine.scheduler import Limits
from focusq.engine.waiting import waiting_for

NOW = 1_800_000_000.0


def job(id: int, status: str = "queued", **fields: Any) -> dict[str, Any]:
    base = {"after": [], "afterany": [], "at": None, "attempts": 0, "result": None}
    return {"id": id, "status": status, "locks": [], "group": None, **base, **fields}


RUNNING = {
    9: job(9, "running", locks=["deploy:prod"], group="build"),
    10: job(10, "running", group="build"),
    11: job(11, "paused"),
}


@pytest.mark.parametrize(
    ("record", "limits", "words"),
    [
        (job(1, "held"), Limits(), "held"),
        (job(1, "waiting"), Limits(), "gate: approve"),
        (job(1, after=[12]), Limits(), "after #12"),
        (job(1, afterany=[40]), Limits(max_parallel=9), ""),  # #40 ended: not in the open set
        (job(1, locks=["deploy:prod"]), Limits(max_parallel=9), "lock deploy:prod held by #9"),
        (job(1, locks=["deploy:prod"]), Limits(max_parallel=9, lock_caps={"deploy:*": 2}), ""),
        (job(1, locks=["worktree:/src"]), Limits(max_parallel=9), ""),
        (
            job(1, group="build"),
            Limits(max_parallel=9, group_caps={"build": 2}),
            "group build full (2/2)",
        ),
        (job(1), Limits(max_parallel=3), "cap 3 reached"),
        (job(1), Limits(max_parallel=4), ""),
        (job(1, at=NOW + 30, attempts=1, result="failed"), Limits(), "failed, retry in 30s"),
    ],
)
def test_waiting_for(record: dict[str, Any], limits: Limits, words: str) -> None:
    others = {**RUNNING, 12: job(12)}
    assert waiting_for(record, others, limits, NOW) == words


def test_same_worktree_names_the_holder() -> None:
    others = {5: job(5, "running", locks=["worktree:/src"])}
    record = job(1, locks=["worktree:/src"])
    assert waiting_for(record, others, Limits(max_parallel=9), NOW) == "same worktree as #5"
