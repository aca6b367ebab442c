"""What a run's end means for its task: done, failed, cancelled, or queued for a retry.

Pure decisions over a run's result and the task's retry budget, plus the estimates the
scheduler orders jobs by (seconds taken by recent successful runs of the same command in
the same folder). The worker writes what these say.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from focusq.engine.scheduler import estimate
from focusq.states import TaskStatus

RETRYABLE = ("failed", "timed_out", "interrupted")
"""Results a task's ``retry:N`` budget covers (a cancel is never retried)."""

HISTORY_RUNS = 20
"""Successful runs per command kept for its estimate."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a task ends up after one of its runs ended."""

    result: str
    status: TaskStatus
    not_before: float | None = None
    """For a retry: not before this time (the backoff)."""
    reason: str | None = None


def will_retry(result: str, used: int, retries: int) -> bool:
    """Whether a run that ended with ``result`` is retried: ``used`` of ``retries`` taken."""
    return result in RETRYABLE and used <= retries


def outcome(
    result: str, used: int, retries: int, now: float, backoff: float, why: str | None = None
) -> Outcome:
    """The task's next state after attempt ``used`` of its budget ended with ``result``.

    ``backoff`` is the wait before a retry, if there is one. A job that ran and exited 127
    failed like any other (``spawn_error`` is decided by the spawn itself). ``why`` says
    what is known of an ``interrupted`` run.
    """
    if result == "ok":
        return Outcome(result, TaskStatus.DONE)
    if result == "cancelled":
        return Outcome(result, TaskStatus.CANCELLED, reason="cancelled by the user")
    if will_retry(result, used, retries):
        reason = f"{result}: {why}; retry {used} of {retries}" if why else None
        reason = reason or f"{result}; retry {used} of {retries}"
        return Outcome(result, TaskStatus.QUEUED, not_before=now + backoff, reason=reason)
    if result == "interrupted":
        reason = f"interrupted: {why or 'the job was gone when the worker came back'}"
        return Outcome(result, TaskStatus.FAILED, reason=reason)
    return Outcome(result, TaskStatus.FAILED)


def fails_for_good(job: dict[str, Any], attempt: int, result: str) -> bool:
    """Whether attempt ``attempt`` of ``job`` ending with ``result`` is a failure no retry
    will follow (what a fail-fast group reacts to)."""
    retrying = will_retry(result, attempt - job["budget_from"], job["retries"])
    return result not in ("ok", "cancelled") and not retrying


def fail_fast_reason(
    groups: Mapping[str, Any], job: dict[str, Any], attempt: int, result: str
) -> str | None:
    """Why the rest of ``job``'s group is cancelled after this attempt, if its group is
    fail-fast (``groups``: the config's) and this is a failure no retry will follow."""
    policy = groups.get(job["group"] or "")
    if policy is None or policy.policy != "fail-fast" or not fails_for_good(job, attempt, result):
        return None
    return f"group {job['group']} is fail-fast and #{job['id']} failed"


def backoff(attempt: int, base: float, cap: float) -> float:
    """Seconds before retry number ``attempt``: doubling from ``base``, capped, jittered."""
    delay = min(cap, base * 2 ** (max(1, attempt) - 1))
    return float(delay) * random.uniform(0.5, 1.5)


class RunHistory:
    """Seconds taken by recent successful runs, per command and folder: the estimates."""

    def __init__(self, default_estimate: float) -> None:
        self.default_estimate = default_estimate
        self._past: dict[tuple[str, str], list[float]] = defaultdict(list)

    def load(self, durations: Sequence[tuple[str, str, float]]) -> None:
        """Take ``(command JSON, cwd, seconds)`` rows, newest first, as the store reads them."""
        for command, cwd, seconds in durations:
            past = self._past[(command, cwd)]
            if len(past) < HISTORY_RUNS:
                past.append(seconds)

    def estimate(self, record: dict[str, Any]) -> float:
        """Seconds the job in ``record`` is expected to take."""
        return estimate(self._past.get(key(record), ()), record["estimate"], self.default_estimate)

    def learn(self, record: dict[str, Any], seconds: float) -> bool:
        """Add a successful run; ``True`` if the estimate moved enough to order jobs again."""
        before = self.estimate(record)
        past = self._past[key(record)]
        past.insert(0, seconds)
        del past[HISTORY_RUNS:]
        after = self.estimate(record)
        # Order only needs rough estimates: re-sort when one moved by a second and a quarter.
        return abs(after - before) > max(1.0, 0.25 * before)


def key(record: dict[str, Any]) -> tuple[str, str]:
    """What runs of the same job share: the command (as JSON) and the folder."""
    found: tuple[str, str] | None = record.get("_key")
    if found is None:
        found = record["_key"] = (json.dumps(record["command"]), record["cwd"] or "")
    return found
