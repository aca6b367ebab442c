"""pydantic models of what the store holds, for the worker, the TUI and the review.

The enums live in :mod:`focusq.states` (shared with the quick CLI path, which never
imports pydantic) and are re-exported here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from focusq.states import (
    ACTIVE,
    RUNNING_STATES,
    TERMINAL,
    DepKind,
    EventKind,
    Kind,
    Priority,
    RunResult,
    TaskStatus,
)

__all__ = [
    "ACTIVE",
    "RUNNING_STATES",
    "TERMINAL",
    "DepKind",
    "Event",
    "EventKind",
    "Kind",
    "Priority",
    "Run",
    "RunResult",
    "Task",
    "TaskStatus",
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Task(_Model):
    """One unit of the day's work: a creative task or a mechanical job."""

    id: int
    title: str
    kind: Kind
    status: TaskStatus
    priority: Priority = Priority.MEDIUM
    tags: list[str] = Field(default_factory=list)
    project: str | None = None
    command: list[str] | None = None
    """The argv to run; ``["sh", "-c", "..."]`` for a ``--shell`` job."""
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    """Variables set on top of the worker's environment."""
    after: list[int] = Field(default_factory=list)
    """Tasks that must succeed first."""
    afterany: list[int] = Field(default_factory=list)
    """Tasks that must end (in any way) first."""
    locks: list[str] = Field(default_factory=list)
    estimate: float | None = None
    """Seconds, from ``est:``."""
    timeout: float | None = None
    """Seconds, from ``timeout:``."""
    retries: int = 0
    group: str | None = None
    gate: str | None = None
    at: datetime | None = None
    """Not before this time."""
    note: str = ""
    attempts: int = 0
    result: RunResult | None = None
    exit_code: int | None = None
    reason: str | None = None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        """Not yet in a terminal state."""
        return self.status in ACTIVE


class Run(_Model):
    """One attempt at a mechanical task."""

    id: int
    task_id: int
    attempt: int
    pid: int | None = None
    pgid: int | None = None
    started_at: datetime
    ended_at: datetime | None = None
    exit_code: int | None = None
    signal: int | None = None
    result: RunResult | None = None
    log_path: str | None = None
    tail: str | None = None
    """The log's last lines, kept when the run ends."""


class Event(_Model):
    """One row of the append-only event log."""

    id: int
    at: datetime
    task_id: int | None
    kind: str
    payload: dict[str, Any] = Field(default_factory=dict)
