"""A running job as its worker holds it: the run, the executor that runs it, its log."""

from __future__ import annotations

from dataclasses import dataclass

from focusq.engine.executor import Executor, RunHandle


@dataclass
class Active:
    """A job this worker is responsible for, from its start (or adoption) to its end."""

    task_id: int
    run_id: int
    handle: RunHandle
    executor: Executor
    log_path: str
    started: float
    attempt: int
