"""Why a job has not started: one sentence, the same in the TUI, ``focusq ls`` and ``show``.

Pure: the job's record, the open jobs it may wait on (by id), the limits and the time.
"""

from __future__ import annotations

from datetime import datetime

from focusq.durations import format_duration

TYPE_CHECKING = False
if TYPE_CHECKING:  # light on purpose: `focusq ls` says why jobs wait with this module
    from collections.abc import Mapping, Sequence
    from typing import Any

    from focusq.engine.limits import Limits

OPEN = frozenset({"queued", "waiting", "held", "running", "paused"})
RUNNING = frozenset({"running", "paused"})


def waiting_for(
    job: Mapping[str, Any],
    others: Mapping[int, Mapping[str, Any]],
    limits: Limits,
    now: float,
    running: Sequence[Mapping[str, Any]] | None = None,
) -> str:
    """Why ``job`` (queued, waiting or held) has not started; "" when nothing holds it back.

    ``others`` holds the open jobs by id (at least the running ones and the job's open
    dependencies): a dependency not in it has ended. The words: ``held``, ``gate:
    approve``, ``after #12``, ``at 14:00`` (``failed, retry in 30s``), ``lock deploy:prod
    held by #9`` (``same worktree as #9``), ``group build full (2/2)``, ``farm not
    answering``, ``cap 3 reached``.
    ``running``: the running jobs among ``others``, when the caller asks about many jobs
    and has them already (else they are picked out here, once per call).
    """
    if job["status"] == "held":
        return "held"
    if job["status"] == "waiting":
        return "gate: approve"
    if job["status"] != "queued":
        return ""
    for dep in (*job["after"], *job["afterany"]):
        if dep in others and others[dep]["status"] in OPEN:
            return f"after #{dep}"
    if job["at"] and job["at"] > now:
        if job["attempts"] and job["result"]:
            return f"{job['result']}, retry in {format_duration(job['at'] - now)}"
        return "at " + datetime.fromtimestamp(job["at"]).strftime("%H:%M")
    if running is None:
        running = running_of(others)
    for key in job["locks"]:
        said = limits.lock_said(key, running)
        if said:
            return said
    group = job["group"]
    said = limits.group_said(group, running) if group else ""
    return said or limits.executor_said(limits.executor_for(job.get("executor"), group), running)


def running_of(others: Mapping[int, Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The running (or paused) jobs among ``others``."""
    return [o for o in others.values() if o["status"] in RUNNING]
