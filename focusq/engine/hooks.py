"""Hooks: a command of the user's run once per finished run (``[hooks] on_end``).

A hook runs in its own session with the worker's environment and the run's
``FOCUSQ_TASK_ID``, ``FOCUSQ_RESULT``, ``FOCUSQ_EXIT_CODE``, ``FOCUSQ_TITLE`` and
``FOCUSQ_LOG``. It never blocks the worker, is never retried, is killed after
``hooks.timeout``, and its failures are logged.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Mapping
from typing import Any

log = logging.getLogger("focusq.worker")


class Hooks:
    """The hooks of one worker: queued as runs end, started once their ends are written."""

    def __init__(self, loop: asyncio.AbstractEventLoop, settings: Any) -> None:
        self.loop = loop
        self.settings = settings
        self._due: list[tuple[str, dict[str, str]]] = []
        self._running: dict[int, tuple[str, asyncio.TimerHandle]] = {}

    def ended(
        self, job: Mapping[str, Any], result: str, exit_code: int | None, log_path: str
    ) -> None:
        """A run of ``job`` ended: its hook runs after the next write."""
        group = self.settings.groups.get(job["group"] or "")
        command = (group.on_end if group is not None else None) or self.settings.hooks.on_end
        if not command:
            return
        env = {
            "FOCUSQ_TASK_ID": str(job["id"]),
            "FOCUSQ_RESULT": result,
            "FOCUSQ_EXIT_CODE": "" if exit_code is None else str(exit_code),
            "FOCUSQ_TITLE": job["title"],
            "FOCUSQ_LOG": log_path,
        }
        self._due.append((command, env))

    def fire(self) -> None:
        """Start the hooks of the runs whose ends the database now holds."""
        due, self._due = self._due, []
        for command, env in due:
            name = f"hook for #{env['FOCUSQ_TASK_ID']}"
            try:
                pid = os.posix_spawn(
                    "/bin/sh",
                    ["/bin/sh", "-c", command],
                    {**os.environ, **env},
                    file_actions=[(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)],
                    setsid=True,
                    setsigdef=frozenset(signal.valid_signals()) - {signal.SIGKILL, signal.SIGSTOP},
                )
            except OSError as exc:
                log.warning("%s could not start: %s", name, exc)
                continue
            timer = self.loop.call_later(self.settings.hooks.timeout, self._kill, pid)
            self._running[pid] = (name, timer)

    def reaped(self, pid: int, code: int) -> None:
        """A child this worker reaped: if it was a hook, say how it went when it failed."""
        entry = self._running.pop(pid, None)
        if entry is None:
            return
        name, timer = entry
        timer.cancel()
        if code != 0:
            log.warning("%s failed (exit %d)", name, code)

    def _kill(self, pid: int) -> None:
        entry = self._running.get(pid)
        if entry is None:
            return
        log.warning(
            "%s ran past hooks.timeout (%gs): killed", entry[0], self.settings.hooks.timeout
        )
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
