"""Where a job's process runs: the seam under the worker.

The worker decides *what* starts and *when* (claims, dependencies, locks, caps, groups,
retries, gates): that stays in focusq whatever runs the process. An :class:`Executor`
decides *how*: it starts a :class:`RunSpec`, reports the pid once known and the end once
the run is over (its main process exited and nothing is left of its process group), stops
it (TERM, then KILL after the grace period, the whole group, the real exit status kept),
pauses and resumes it, forgets it once the database holds its end, and after a worker
restart says of each run it had: still running (re-attached), ended (with its result), or
gone.

:class:`~focusq.engine.local_executor.LocalExecutor` runs jobs on this machine through the
job supervisor; :mod:`focusq.engine.dask_executor` runs them on a Dask cluster.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from focusq.errors import FocusqError


class ExecutorDown(FocusqError):
    """An executor that does not answer now but may later (no scheduler at its address, a
    cluster that did not start): jobs meant for it wait, and opening it is tried again."""


@dataclass(frozen=True)
class Placement:
    """Where on an executor a run may go (Dask: worker resources, named hosts)."""

    resources: Mapping[str, float] = field(default_factory=dict)
    hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunSpec:
    """One run of a job, as an executor needs it."""

    run_id: int
    task_id: int
    attempt: int
    tag: str
    """The run tag (``<database id>:<run id>``), in the job's ``FOCUSQ_RUN``."""
    argv: list[str]
    cwd: str
    env: dict[str, str] | None
    """The whole environment for a local run (``None``: the worker's own); for a remote one
    the overrides merged onto the remote host's environment."""
    log_path: str
    """The canonical log, on this machine: ``logs/<task>-<attempt>.log``."""
    display: str
    """The command as the log header shows it."""
    timeout: float | None = None
    grace: float = 5.0
    placement: Placement = field(default_factory=Placement)

    @classmethod
    def of_open_run(cls, row: Mapping[str, Any], tag: str) -> RunSpec:
        """The spec of a run an earlier worker started (its ``runs`` row, with the task's
        ``task_id``, ``timeout`` and ``grace``): what re-attaching to it needs."""
        return cls(
            run_id=row["id"],
            task_id=row["task_id"],
            attempt=row["attempt"],
            tag=tag,
            argv=[],
            cwd="",
            env=None,
            log_path=row["log_path"],
            display="",
            timeout=row.get("timeout"),
            grace=row.get("grace", 5.0),
        )


@dataclass(frozen=True)
class RunEnd:
    """How a run ended."""

    returncode: int | None
    """As a shell reports it (128 + the signal that killed it); ``None``: unknown."""
    stop_reason: str | None = None
    """``cancelled`` or ``timed_out`` when focusq stopped it."""
    spawn_error: str | None = None
    """Why it never started (command not found, cwd gone), naming a remote host."""
    why: str | None = None
    """What is known of an end no one saw (an interrupted run's reason)."""
    host: str | None = None


class RunHandle(Protocol):
    """A run an executor started or re-attached to."""

    spec: RunSpec
    host: str | None
    finished: asyncio.Event
    """Set when the run is over: its main process ended and its group is empty."""
    end: RunEnd | None
    """Set with :attr:`finished`."""
    stop_reason: str | None

    @property
    def pid(self) -> int | None:
        """Known once it started (on its host)."""
        ...


@dataclass(frozen=True)
class Live:
    """A recovered run that still runs: watch it through ``handle``."""

    handle: RunHandle
    record_pid: int | None = None
    """A pid the run's row lacked (found from a file or its tag): save it."""


@dataclass(frozen=True)
class Gone:
    """A recovered run that ended while no worker watched it."""

    end: RunEnd
    at: float
    """When it was last seen: the review's job time must not count the hours after."""


Recovered = Live | Gone


class Executor(Protocol):
    """Starts, stops and watches job processes for the worker."""

    name: str

    async def open(self) -> None:
        """Get ready to start jobs (connect, start a supervisor)."""

    async def close(self) -> None:
        """Stop watching. Running jobs are never stopped: the next worker re-attaches."""

    def start(
        self,
        spec: RunSpec,
        on_started: Callable[[RunHandle], None],
        on_ended: Callable[[RunHandle], None],
    ) -> RunHandle:
        """Start ``spec``; ``on_started`` once its pid is known, ``on_ended`` once it is
        over (:attr:`RunHandle.end` set). :class:`~focusq.engine.runner.SpawnError` if it
        certainly cannot start."""
        ...

    def stop(self, handle: RunHandle, reason: str, first: int = signal.SIGTERM) -> None:
        """``first`` (TERM) and CONT to the whole group now, KILL after the grace period;
        the run ends with ``reason`` and its real exit status."""

    def pause(self, handle: RunHandle) -> bool:
        """SIGSTOP to the whole group; whether it reached it."""
        ...

    def resume(self, handle: RunHandle) -> bool:
        """SIGCONT to the whole group; whether it reached it."""
        ...

    def acknowledge(self, started: Sequence[RunHandle], ended: Sequence[RunHandle]) -> None:
        """The database holds the pids of ``started`` and the ends of ``ended``: the
        executor may forget what it kept to tell a next worker."""

    async def recover(
        self, runs: Sequence[Mapping[str, Any]], on_ended: Callable[[RunHandle], None]
    ) -> dict[int, Recovered]:
        """What became of the open runs (rows of ``runs``) an earlier worker left, by run id."""
        ...
