"""Runs on another executor written straight to the store, no process, no cluster: what the
worker writes when a Dask executor starts a job (``claim`` with the executor, the host with
the spawn) and ends it."""

from __future__ import annotations

from typing import Any

from focusq.states import TaskStatus
from focusq.store.ops import base, jobs


def start_remote(
    store: Any, task_id: int, start: float, *, executor: str, host: str | None, logs: str
) -> dict[str, Any]:
    """Claim ``task_id`` at ``start`` for ``executor``; ``host`` (if any) as its spawn says."""
    claim: dict[str, Any] = store.run(base.apply([jobs.claim(task_id, start, logs, executor)]))[0]
    if host is not None:
        store.run(base.apply([jobs.record_spawn(claim["run_id"], 4242, 4242, host)]))
    return claim


def record_remote_run(
    store: Any,
    task_id: int,
    start: float,
    end: float,
    *,
    ok: bool,
    executor: str,
    host: str | None,
    tail: str = "",
    logs: str = "/tmp",
) -> None:
    """One attempt of a job on ``executor`` at ``host``, from ``start`` to ``end``, exit 0 or 1."""
    claim = start_remote(store, task_id, start, executor=executor, host=host, logs=logs)
    finish = jobs.finish(
        task_id,
        claim["run_id"],
        end,
        result="ok" if ok else "failed",
        status=TaskStatus.DONE if ok else TaskStatus.FAILED,
        exit_code=0 if ok else 1,
        tail=tail,
    )
    store.run(base.apply([finish]))
