"""Jobs on this machine: the job supervisor behind the executor protocol.

A job starts through the worker's supervisor (:class:`~focusq.engine.runner.Supervisor`),
which outlives a worker that dies; a job an earlier worker left running is adopted by its
pid, its pid file or its run tag. When a job's main process ends, whatever it left in its
process group (a backgrounded grandchild, a child that ignores SIGTERM) is stopped like a
cancelled job before the run counts as over, so nothing sharing its state starts while it
lingers; what escaped the group with ``setsid`` is found by its tag and stopped too.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from focusq.engine import runner, runs
from focusq.engine.executor import Gone, Live, Recovered, RunEnd, RunHandle, RunSpec
from focusq.engine.procs import tagged_processes
from focusq.engine.runner import JobProcess

log = logging.getLogger("focusq.worker")

DRAIN_LOOK = 0.05
"""Seconds between looks at an ended job's process group while leftovers are stopped."""


class LocalRun:
    """A job process on this machine, from its start (or adoption) to its end."""

    def __init__(self, spec: RunSpec, process: JobProcess) -> None:
        self.spec = spec
        self.process = process
        self.host: str | None = None
        self.finished = asyncio.Event()
        self.end: RunEnd | None = None
        self.stop_reason: str | None = None
        self.timers: list[asyncio.TimerHandle] = []
        self.draining_since: float | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid

    @property
    def adopted(self) -> bool:
        """Started by an earlier worker: its end is known from its exit file, if at all."""
        return not self.process.supervised


class LocalExecutor:
    """Runs jobs on this machine, each in its own session, through the job supervisor."""

    name = "local"

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        lock_path: str,
        database_id: str,
        *,
        grace: float = 5.0,
        same_boot: bool = True,
    ) -> None:
        self.loop = loop
        self.lock_path = lock_path
        self.database_id = database_id
        self.same_boot = same_boot
        """Whether the runs to recover started under this boot (else they are all gone)."""
        self.supervisor = runner.Supervisor(loop, lock_path)
        self.escapes = runs.EscapeSweeper(loop, grace)
        self.runs: dict[int, LocalRun] = {}
        """Every run this executor watches, by run id, until it is acknowledged."""

    async def open(self) -> None:
        """Wait for an earlier worker's supervisors to write what only they knew (the
        supervisor itself starts with the first job)."""
        if not await runner.wait_for_supervisors(self.lock_path):
            log.warning("a job supervisor of an earlier worker still holds %s", self.lock_path)

    def recovered(self) -> None:
        """Recovery is over: start the supervisor now, so the first job costs one write."""
        if self.supervisor.pid is None:
            self.supervisor.open()

    async def close(self) -> None:
        self.supervisor.close()
        self.escapes.close()
        for run in self.runs.values():
            for timer in run.timers:
                timer.cancel()

    def start(
        self,
        spec: RunSpec,
        on_started: Callable[[RunHandle], None],
        on_ended: Callable[[RunHandle], None],
    ) -> LocalRun:
        process = self.supervisor.start(
            spec.run_id,
            spec.argv,
            cwd=spec.cwd,
            env=spec.env,
            log_path=spec.log_path,
            display=spec.display,
        )
        run = LocalRun(spec, process)
        self._watch(run, on_started, on_ended)
        return run

    def stop(self, handle: RunHandle, reason: str, first: int = signal.SIGTERM) -> None:
        run = self._run(handle)
        if run.process.ended.is_set():
            # Its main process has ended and what it left in its group is being stopped: a
            # job that failed ends as stopped (a cancel is not followed by a retry).
            if (
                run.stop_reason is None
                and run.process.returncode != 0
                and not run.finished.is_set()
            ):
                run.stop_reason = reason
            return
        if run.stop_reason is None:
            run.stop_reason = reason
        if run.process.pid is None:
            return  # not started yet: stopped as soon as the supervisor reports its pid
        log.info("stopping job #%d: %s", run.spec.task_id, reason)
        self._terminate(run, first)

    def pause(self, handle: RunHandle) -> bool:
        return self._run(handle).process.signal_group(signal.SIGSTOP)

    def resume(self, handle: RunHandle) -> bool:
        return self._run(handle).process.signal_group(signal.SIGCONT)

    def acknowledge(self, started: Sequence[RunHandle], ended: Sequence[RunHandle]) -> None:
        known = [h.spec.run_id for h in started if not self._run(h).adopted]
        done = [h.spec.run_id for h in ended if not self._run(h).adopted]
        for handle in ended:
            self.runs.pop(handle.spec.run_id, None)
            if self._run(handle).adopted:  # its pid and exit files said what the database holds
                runs.forget(runs.evidence(handle.spec.log_path))
        if known or done:
            self.supervisor.acknowledge(known, done)

    async def recover(
        self, rows: Sequence[Mapping[str, Any]], on_ended: Callable[[RunHandle], None]
    ) -> dict[int, Recovered]:
        """Adopt each run whose job still runs (same boot: its pid, pid file or tag), else
        read how it ended from its exit file."""
        same_boot = self.same_boot
        tags = {r["id"]: runs.run_tag(self.database_id, r["id"]) for r in rows}
        found = tagged_processes(list(tags.values())) if same_boot and rows else {}
        out: dict[int, Recovered] = {}
        for row in rows:
            verdict = runs.judge(row, found.get(tags[row["id"]], []), same_boot=same_boot)
            if isinstance(verdict, runs.Adopt):
                prefix = row["log_path"].removesuffix(".log")
                process = runner.adopt(verdict.pid, verdict.pgid, prefix)
                spec = RunSpec.of_open_run(row, tags[row["id"]])
                run = LocalRun(spec, process)
                self._watch(run, None, on_ended, started_at=row["started_at"])
                out[row["id"]] = Live(run, verdict.pid if verdict.record else None)
            else:
                end = RunEnd(verdict.code, why=verdict.why)
                out[row["id"]] = Gone(end, verdict.at)
        return out

    def reap(self) -> list[tuple[int, int]]:
        """Reap exited children (the worker is their subreaper): adopted jobs end with
        their real status; returns the others, ``(pid, code)`` (hooks, orphans)."""
        adopted = {
            r.process.pid: r.process
            for r in self.runs.values()
            if r.adopted and r.process.pid is not None
        }
        return self.supervisor.reap(adopted)

    # -- inside ---------------------------------------------------------------------------

    def _run(self, handle: RunHandle) -> LocalRun:
        assert isinstance(handle, LocalRun)
        return handle

    def _watch(
        self,
        run: LocalRun,
        on_started: Callable[[RunHandle], None] | None,
        on_ended: Callable[[RunHandle], None],
        started_at: float | None = None,
    ) -> None:
        self.runs[run.spec.run_id] = run
        timeout = run.spec.timeout
        if timeout:
            began = runner.now() if started_at is None else started_at
            delay = max(0.0, began + timeout - runner.now())
            run.timers.append(self.loop.call_later(delay, self._time_out, run))

        def started() -> None:
            if on_started is not None:
                on_started(run)
            if run.stop_reason is not None:
                self._terminate(run, signal.SIGTERM)

        run.process.on_start = started
        run.process.watch(self.loop, on_exit=lambda: self._exited(run, on_ended))

    def _time_out(self, run: LocalRun) -> None:
        self.stop(run, "timed_out")

    def _terminate(self, run: LocalRun, first: int) -> None:
        """``first`` and SIGCONT to the whole group (a paused job must run to die), and
        SIGKILL after the grace period."""
        run.process.signal_group(first)
        run.process.signal_group(signal.SIGCONT)
        kill = self.loop.call_later(run.spec.grace, run.process.signal_group, signal.SIGKILL)
        run.timers.append(kill)

    def _exited(self, run: LocalRun, on_ended: Callable[[RunHandle], None]) -> None:
        """The main process ended: stop what it left in its group, then the run is over."""
        if run.finished.is_set():
            return
        if run.process.spawn_error is None and run.process.group_alive():
            now = runner.now()
            if run.draining_since is None:
                run.draining_since = now
                if run.stop_reason is None:  # a stop already sent TERM and armed the KILL
                    self._terminate(run, signal.SIGTERM)
            if now - run.draining_since <= run.spec.grace + 2.0:  # then: zombies no one reaps
                self.loop.call_later(DRAIN_LOOK, self._exited, run, on_ended)
                return
        for timer in run.timers:
            timer.cancel()
        self.escapes.ended(run.spec.tag)
        why = None
        if run.adopted and run.process.returncode is None and run.stop_reason is None:
            why = "ended after its supervisor died with an earlier worker: exit code unknown"
        run.end = RunEnd(
            run.process.returncode,
            stop_reason=run.stop_reason,
            spawn_error=run.process.spawn_error,
            why=why,
            host=run.host,
        )
        run.finished.set()
        on_ended(run)
