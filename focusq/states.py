"""The enums every layer shares, with named sets of states.

Kept free of pydantic so the quick-add path stays cheap to import.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """What a task is: a shell job, or work that needs a person's attention."""

    MECHANICAL = "mechanical"
    CREATIVE = "creative"


PRIORITY_RANK: dict[str, int] = {"H": 2, "M": 1, "L": 0}
"""A ``pri:`` as a sort key: higher runs first."""


class Priority(StrEnum):
    """H before M before L."""

    HIGH = "H"
    MEDIUM = "M"
    LOW = "L"

    @property
    def rank(self) -> int:
        """Sort key: higher runs first."""
        return PRIORITY_RANK[self.value]


class TaskStatus(StrEnum):
    """Where a task is in its life."""

    QUEUED = "queued"
    """Open: a creative task to do, or a job waiting for its turn."""
    WAITING = "waiting"
    """A job held at an approval gate until ``focusq approve``."""
    HELD = "held"
    """Put aside by the user; the worker will not start it until released."""
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    """Never ran: a dependency it needed did not succeed."""
    DROPPED = "dropped"
    """Removed from the plan by the user."""
    RECURRING = "recurring"
    """A recurring job's template (``every:``, ``cron:``): never run itself; the worker adds
    a run of it, a task of its own, at each due time. Neither open nor finished."""


ACTIVE: frozenset[TaskStatus] = frozenset(
    {
        TaskStatus.QUEUED,
        TaskStatus.WAITING,
        TaskStatus.HELD,
        TaskStatus.RUNNING,
        TaskStatus.PAUSED,
    }
)
"""States of an open task."""

TERMINAL: frozenset[TaskStatus] = frozenset(TaskStatus) - ACTIVE - {TaskStatus.RECURRING}
"""States a task never leaves on its own."""

RUNNING_STATES: frozenset[TaskStatus] = frozenset({TaskStatus.RUNNING, TaskStatus.PAUSED})
"""States in which a task's process exists."""


class RunResult(StrEnum):
    """How one attempt (a Run) ended."""

    OK = "ok"
    FAILED = "failed"
    SPAWN_ERROR = "spawn_error"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    SKIPPED = "skipped"


class DepKind(StrEnum):
    """``after`` needs the predecessor to succeed; ``afterany`` only to end."""

    AFTER = "after"
    AFTERANY = "afterany"


class EventKind(StrEnum):
    """Kinds of rows in the append-only ``events`` log."""

    ADDED = "added"
    EDITED = "edited"
    NOTED = "noted"
    STATUS = "status"
    INTENT = "intent"
    """A client asked the worker to cancel, pause or resume a running job."""
    WORKER = "worker"
    """The worker started or stopped."""
    FOCUS = "focus"
    """A focus session started, paused, resumed or ended (payload ``action``)."""
    SWITCH = "switch"
    """A switch prompt was answered (payload ``to``, ``accepted``, ``waiting_on``)."""
    INTERRUPTION = "interruption"
    """An interruption was captured, or a batch delivered."""
    REVIEWED = "reviewed"
    """A review's answer for an unfinished task (payload ``day``, ``action``)."""
    FAILURE_NOTE = "failure_note"
    """What the user wrote about a failed run (payload ``attempt``, ``text``)."""
    ARCHIVED = "archived"
    """``focusq clean`` archived finished tasks (payload ``count``, ``before``)."""
    GROUP = "group"
    """A group's cap was set, or the group paused or resumed (payload ``group`` ...)."""
    RECURRING = "recurring"
    """A series' due time came (payload ``runs``, ``caught_up``, ``skipped``, ``due``)."""
    DAY_CLOSED = "day_closed"
    """The review of a day was closed (payload ``day``)."""
