"""A run from the worker's side: the environment it starts with, its tag, and what a new
worker makes of a run an earlier one left open.

Every job carries ``FOCUSQ_RUN=<database id>:<run id>`` in its environment, and so does
everything it starts; so a run is found in ``/proc`` after any crash, its pid saved or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from focusq.engine import runner
from focusq.engine.outcome import backoff, outcome
from focusq.engine.procs import leader, tagged_processes, unreaped_by
from focusq.states import TaskStatus
from focusq.store.ops import jobs

log = logging.getLogger("focusq.worker")


def run_tag(database_id: str, run_id: int) -> str:
    """A run's tag, as its job's environment carries it in ``FOCUSQ_RUN``."""
    return f"{database_id}:{run_id}"


def job_environment(
    job: Mapping[str, Any], attempt: int, tag: str, fallback: Mapping[str, str]
) -> dict[str, str]:
    """What a job sees: the environment of the shell that added it (``fallback``, the
    worker's, for a task from before environments were captured), its ``--env``
    overrides, and ``FOCUSQ_TASK_ID``, ``FOCUSQ_ATTEMPT`` and ``FOCUSQ_RUN``."""
    captured = job["environ"] if job["environ"] is not None else fallback
    return {
        **captured,
        **job["env"],
        "FOCUSQ_TASK_ID": str(job["id"]),
        "FOCUSQ_ATTEMPT": str(attempt),
        "FOCUSQ_RUN": tag,
    }


@dataclass(frozen=True, slots=True)
class Adopt:
    """The run's job still runs: watch it (and save its pid if the run lacked it)."""

    pid: int
    pgid: int
    record: bool


@dataclass(frozen=True, slots=True)
class Ended:
    """The run's job ended while no worker watched it."""

    result: str
    code: int | None
    why: str | None
    at: float
    """When it was last seen: its exit file's time, else its log's last write."""


def judge(run: Mapping[str, Any], tagged: Iterable[int], *, same_boot: bool) -> Adopt | Ended:
    """What became of an open run: its recorded pid, its pid file, or a live process
    carrying its tag (``tagged``) says it still runs (never after a reboot); else its exit
    file says how it ended, and without one the reason says honestly what is known."""
    tagged = list(tagged)
    prefix = run["log_path"].removesuffix(".log")
    pid = run["pid"] or runner.read_pid_file(prefix)
    alive = same_boot and pid is not None and runner.is_alive(pid, run["started_at"])
    if same_boot and not alive and tagged:
        pid, alive = leader(tagged), True
    if alive and pid:
        return Adopt(pid, run["pgid"] or pid, record=run["pid"] != pid)
    code = runner.read_exit_file(prefix)
    if code is None and same_boot and pid and unreaped_by(pid, run["started_at"]):
        # It has just exited, and its supervisor has yet to write down how before it
        # reaps it: watch it end, as a job that still ran.
        return Adopt(pid, run["pgid"] or pid, record=run["pid"] != pid)
    result = "interrupted" if code is None else "ok" if code == 0 else "failed"
    why = None
    if code is None:
        why = (
            "ended while its worker and supervisor were down: its exit code is unknown"
            if pid
            else "lost with its worker and supervisor before it reported a pid"
        )
    # The run ended when it was last seen, not now: the review's job time and timeline
    # must not count the hours no worker ran.
    at = min(runner.now(), runner.last_seen(prefix, run["started_at"]))
    return Ended(result, code, why, at)


def evidence(log_path: str) -> list[str]:
    """The pid and exit files a supervisor may leave beside a run's log."""
    prefix = log_path.removesuffix(".log")
    return [f"{prefix}.pid", f"{prefix}.exit"]


def forget(paths: Iterable[str]) -> None:
    """Delete evidence files the database now holds in full."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def append_log(path: str, text: str) -> None:
    """Add a line of focusq's own to a run's log (private, created if missing)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)


def clock(epoch: float) -> str:
    """A moment as local date and time, to the second."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


class EscapeSweeper:
    """Stops what ended jobs left behind outside their process group.

    A job that starts a process in a session of its own (``setsid``) cannot be stopped by
    signalling its group, but that process carries the job's run tag. After a job ends its
    tag is swept: at most one scan of ``/proc`` per :attr:`delay`, however many jobs end,
    and every process still carrying an ended run's tag gets SIGTERM, then SIGKILL after
    the grace period.
    """

    delay = 0.25

    def __init__(self, loop: asyncio.AbstractEventLoop, grace: float) -> None:
        self.loop = loop
        self.grace = grace
        self._tags: set[str] = set()
        self._timer: asyncio.TimerHandle | None = None

    def ended(self, tag: str) -> None:
        """The run tagged ``tag`` ended: sweep for its leftovers soon."""
        self._tags.add(tag)
        if self._timer is None:
            self._timer = self.loop.call_later(self.delay, self.sweep)

    def sweep(self) -> None:
        """Stop every live process carrying the tag of a run that ended."""
        self._timer = None
        tags, self._tags = self._tags, set()
        for tag, pids in tagged_processes(tags).items():
            log.info("stopping %d process(es) run %s left behind", len(pids), tag)
            for pid in pids:
                self._stop(pid)

    def _stop(self, pid: int) -> None:
        try:
            pidfd = os.pidfd_open(pid)  # signals reach this process, never a reused pid
        except ProcessLookupError:
            return
        for sig in (signal.SIGTERM, signal.SIGCONT):
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(pidfd, sig)
        self.loop.call_later(self.grace, _kill_and_close, pidfd)

    def close(self) -> None:
        """Sweep now for whatever is pending (the worker is exiting)."""
        if self._timer is not None:
            self._timer.cancel()
            self.sweep()


def _kill_and_close(pidfd: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    os.close(pidfd)


def finish_step(
    job: Mapping[str, Any],
    run_id: int,
    attempt: int,
    result: str,
    exit_code: int | None,
    log_path: str,
    now: float,
    sig: int | None = None,
    *,
    engine: Any,
    why: str | None = None,
) -> tuple[Any, TaskStatus]:
    """The store step that writes a run's end and its task's next state (a retry after a
    backoff, or an end), with the log's last lines; and that state."""
    used = attempt - job["budget_from"]
    wait = backoff(used, engine.backoff_base, engine.backoff_cap)
    end = outcome(result, used, job["retries"], now, wait, why=why)
    step = jobs.finish(
        job["id"],
        run_id,
        now,
        result=end.result,
        status=end.status,
        exit_code=exit_code,
        signal=sig,
        tail=runner.tail(log_path),
        reason=end.reason,
        not_before=end.not_before,
    )
    return step, end.status


def spawn_error_step(task_id: int, run_id: int, reason: str, now: float) -> Any:
    """The store step for a job that could not start at all."""
    return jobs.finish(
        task_id,
        run_id,
        now,
        result="spawn_error",
        status=TaskStatus.FAILED,
        tail=reason,
        reason=reason,
    )
