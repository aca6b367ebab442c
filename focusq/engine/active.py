"""A running job as its worker holds it: its process, its timers, and how it is stopped."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from dataclasses import dataclass

from focusq.engine.runner import JobProcess


@dataclass
class Active:
    """A job this worker is responsible for."""

    task_id: int
    run_id: int
    process: JobProcess
    log_path: str
    started: float
    attempt: int
    stop_reason: str | None = None
    """``cancelled`` or ``timed_out`` once the worker began stopping it."""
    draining_since: float | None = None
    """When the main process ended with others still in its group."""
    timers: tuple[asyncio.TimerHandle, ...] = ()

    def terminate(self, grace: float, first: int = signal.SIGTERM) -> None:
        """``first`` (SIGTERM) to the whole group (SIGCONT too: a paused job must run to
        die), and SIGKILL after ``grace`` seconds."""
        self.process.signal_group(first)
        self.process.signal_group(signal.SIGCONT)
        loop = asyncio.get_running_loop()
        kill = loop.call_later(grace, self.process.signal_group, signal.SIGKILL)
        self.timers = (*self.timers, kill)

    def drained(self, now: float, grace: float, wake: Callable[[], None]) -> bool:
        """Whether nothing is left of the ended job's process group.

        Leftovers (a backgrounded grandchild, a child that ignores SIGTERM) are stopped
        like a cancelled job: SIGTERM, then SIGKILL after the grace period. Until they
        are gone the job keeps its slot and its locks, so nothing sharing its state starts.
        Until then ``wake`` is called again shortly, to look once more.
        """
        if not self.process.group_alive():
            return True
        if self.draining_since is None:
            self.draining_since = now
            if self.stop_reason is None:  # a stop already sent TERM and armed the KILL
                self.terminate(grace)
        elif now - self.draining_since > grace + 2.0:
            return True  # killed; what remains are zombies no one reaps
        asyncio.get_running_loop().call_later(0.05, wake)
        return False

    def cancel_timers(self) -> None:
        """The job ended: its timeout and kill timers have nothing left to do."""
        for timer in self.timers:
            timer.cancel()
