"""Jobs: what the worker reads, claims and finishes, and the intents clients leave it."""

from __future__ import annotations

import json

from focusq.errors import UserError
from focusq.states import ACTIVE, TERMINAL, EventKind, TaskStatus
from focusq.store.ops import recurring
from focusq.store.ops.base import (
    BACKLOG_TAG,
    READ,
    TASK_COLUMNS,
    WRITE,
    event,
    in_chunks,
    move,
    newest_event,
    refuse_nul,
    require,
    task_record,
)
from focusq.store.ops.inbox import interruption
from focusq.store.schema import OPEN_STATUSES_SQL

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the quick CLI path milliseconds; annotations are strings
    from collections.abc import Sequence
    from typing import Any

    from focusq.store.ops.base import Op, Record


OPEN_JOB = ("queued", "waiting", "held", "running", "paused")


_JOB_SELECT = f"""
    SELECT {TASK_COLUMNS},
           r.id AS run_id, r.attempt AS run_attempt, r.pid AS run_pid,
           r.pgid AS run_pgid, r.started_at AS run_started_at, r.log_path AS run_log,
           r.executor AS run_executor, r.host AS run_host
    FROM tasks t
    LEFT JOIN runs r ON r.task_id = t.id AND r.ended_at IS NULL
"""
"""A task with its unfinished run (if any); callers add the WHERE."""


def jobs_by_id(ids: Sequence[int]) -> Op[list[Record]]:
    """The tasks in ``ids`` (any kind, any state), with the current run of each."""
    yield READ
    return (yield from jobs_with_runs(ids))


def jobs_with_runs(ids: Sequence[int]) -> Op[list[Record]]:
    out: list[Record] = []
    for chunk, marks in in_chunks(ids):
        rows = yield (f"{_JOB_SELECT} WHERE t.id IN ({marks})", chunk)
        out.extend(_job_record(row) for row in rows)
    return out


def _job_record(row: Any) -> Record:
    record = task_record(row)
    record["intent"] = row["intent"]
    record["budget_from"] = row["budget_from"]
    record["attempts_left"] = row["retries"] + 1 - (row["attempts"] - row["budget_from"])
    record["executor"] = row["executor"]
    record["placement"] = json.loads(row["placement"])
    record["run"] = (
        None
        if row["run_id"] is None
        else {
            "id": row["run_id"],
            "attempt": row["run_attempt"],
            "pid": row["run_pid"],
            "pgid": row["run_pgid"],
            "started_at": row["run_started_at"],
            "log_path": row["run_log"],
            "executor": row["run_executor"] or "local",
            "host": row["run_host"],
        }
    )
    return record


def durations_of_ok_runs(limit: int = 20000) -> Op[list[tuple[str, str, float]]]:
    """``(command JSON, cwd, seconds)`` of recent successful runs, newest first."""
    yield READ
    rows = yield (
        """
        SELECT t.command, t.cwd, r.ended_at - r.started_at
        FROM runs r JOIN tasks t ON t.id = r.task_id
        WHERE r.result = 'ok' ORDER BY r.id DESC LIMIT ?
        """,
        (limit,),
    )
    return [(r[0], r[1] or "", float(r[2])) for r in rows]


def claim(task_id: int, now: float, log_dir: str, executor: str = "local") -> Op[Record | None]:
    """Part of a write transaction: queued -> running with a new Run; ``None`` if not queued.

    Returns the run's id, attempt and log, and the job's whole record (``job``) with the
    environment it runs with (``environ``: ``None`` for a job from before environments
    were captured)."""
    rows = yield (
        """
        UPDATE tasks SET status = 'running', attempts = attempts + 1, started_at = ?,
                         updated_at = ?, intent = NULL, rev = rev + 1
        WHERE id = ? AND status = 'queued' RETURNING attempts
        """,
        (now, now, task_id),
    )
    if not rows:
        return None
    attempt = int(rows[0][0])
    log_path = f"{log_dir}/{task_id}-{attempt}.log"
    run = yield (
        """
        INSERT INTO runs (task_id, attempt, started_at, log_path, executor)
        VALUES (?, ?, ?, ?, ?) RETURNING id
        """,
        (task_id, attempt, now, log_path, None if executor == "local" else executor),
    )
    payload = {"from": "queued", "to": "running", "attempt": attempt}
    yield from event(task_id, EventKind.STATUS, payload, now)
    [job] = yield from jobs_with_runs([task_id])
    body = yield (
        "SELECT body FROM environments WHERE id = (SELECT environ_id FROM tasks WHERE id = ?)",
        (task_id,),
    )
    job["environ"] = json.loads(body[0][0]) if body else None
    return {"run_id": int(run[0][0]), "attempt": attempt, "log_path": log_path, "job": job}


def record_spawn(run_id: int, pid: int, pgid: int, host: str | None = None) -> Op[None]:
    """Part of a write transaction: the process a run started (on ``host``: not here)."""
    yield ("UPDATE runs SET pid = ?, pgid = ?, host = ? WHERE id = ?", (pid, pgid, host, run_id))


def finish(
    task_id: int,
    run_id: int | None,
    now: float,
    *,
    result: str,
    status: TaskStatus,
    exit_code: int | None = None,
    signal: int | None = None,
    tail: str | None = None,
    reason: str | None = None,
    not_before: float | None = None,
) -> Op[bool]:
    """Part of a write transaction: end a run and move its task to ``status``.

    Guarded: only a task still running or paused changes; ``False`` if it did not.
    """
    if run_id is not None:
        yield (
            """
            UPDATE runs SET ended_at = ?, exit_code = ?, signal = ?, result = ?, tail = ?
            WHERE id = ? AND ended_at IS NULL
            """,
            (now, exit_code, signal, result, tail, run_id),
        )
    old = yield ("SELECT status, title, tags, intent FROM tasks WHERE id = ?", (task_id,))
    if not old or old[0][0] not in ("running", "paused"):
        return False
    was, title, tags, intent = old[0]
    if status in ACTIVE and (intent or "").startswith("cancel"):
        # Cancelled as the run ended, before the worker saw it: a cancel wins over a retry.
        status, result, reason, not_before = TaskStatus.CANCELLED, "cancelled", None, None
    ended = None if status in ACTIVE else now
    # Moving ``rev`` on here spares the trigger a second write of the row.
    yield (
        """
        UPDATE tasks SET status = ?, result = ?, exit_code = ?, reason = ?, intent = NULL,
                         updated_at = ?, ended_at = ?, not_before = coalesce(?, not_before),
                         rev = rev + 1
        WHERE id = ? AND status = ?
        """,
        (status.value, result, exit_code, reason, now, ended, not_before, task_id, was),
    )
    payload: dict[str, Any] = {"from": was, "to": status.value, "result": result}
    if exit_code is not None:
        payload["exit_code"] = exit_code
    if reason:
        payload["reason"] = reason
    yield from event(task_id, EventKind.STATUS, payload, now)
    if status not in ACTIVE:
        note = f"#{task_id} {title}: {result}" + (
            f" (exit {exit_code})" if exit_code not in (None, 0) else ""
        )
        # A failure of a task tagged +urgent breaks through focus and async time.
        urgent = result != "ok" and "urgent" in json.loads(tags)
        yield from interruption(note, now, "job", task_id, urgent=urgent)
    return True


def end_open_task(
    task_id: int, to: TaskStatus, now: float, *, result: str, reason: str
) -> Op[bool]:
    """Part of a write transaction: a queued, waiting or held task ends without running."""
    old = yield ("SELECT status FROM tasks WHERE id = ?", (task_id,))
    if not old or old[0][0] not in ("queued", "waiting", "held"):
        return False
    yield from move(task_id, old[0][0], to, now, result=result, reason=reason)
    return True


_ENDED_BADLY_SQL = (
    "("
    + ", ".join(sorted(f"'{state.value}'" for state in TERMINAL if state != TaskStatus.DONE))
    + ")"
)


def cancel_unstarted_in_group(group: str, failed: int, now: float, reason: str) -> Op[list[int]]:
    """Part of a write transaction: a fail-fast group's failure (job ``failed``) ends every
    member that has not started (queued, waiting, held) cancelled, the group as it stands
    when this is written (an edit or an add from a shell counts). A member an ``after:``
    dependency that ended badly already dooms is left to be skipped, as it would have been.
    Returns the ids cancelled."""
    rows = yield (
        f"""
        SELECT t.id FROM tasks t
        WHERE t.status IN ('queued', 'waiting', 'held') AND t.grp = ? AND t.id <> ?
          AND t.kind = 'mechanical'
          AND NOT EXISTS (
              SELECT 1 FROM deps d JOIN tasks o ON o.id = d.dep_id
              WHERE d.task_id = t.id AND d.kind = 'after' AND o.status IN {_ENDED_BADLY_SQL})
        ORDER BY t.id
        """,
        (group, failed),
    )
    for (task_id,) in rows:
        yield from end_open_task(
            task_id, TaskStatus.CANCELLED, now, result="cancelled", reason=reason
        )
    return [int(r[0]) for r in rows]


def skip(task_id: int, now: float, reason: str) -> Op[bool]:
    """Part of a write transaction: a queued job a failed dependency means never runs."""
    return end_open_task(task_id, TaskStatus.SKIPPED, now, result="skipped", reason=reason)


def set_paused(task_id: int, paused: bool, now: float) -> Op[bool]:
    """Part of a write transaction: running <-> paused, after the signal was sent."""
    frm, to = ("running", "paused") if paused else ("paused", "running")
    rows = yield (
        """
        UPDATE tasks SET status = ?, intent = NULL, updated_at = ?
        WHERE id = ? AND status = ? RETURNING id
        """,
        (to, now, task_id, frm),
    )
    if rows:
        yield from event(task_id, EventKind.STATUS, {"from": frm, "to": to}, now)
    return bool(rows)


def set_intent(task_id: int, intent: str) -> Op[None]:
    """Part of a write transaction: what the worker does to a running job, kept until the
    job's end is written (``cancel``: it ends cancelled, never retried)."""
    yield (
        "UPDATE tasks SET intent = ? WHERE id = ? AND status IN ('running', 'paused')",
        (intent, task_id),
    )


def clear_intent(task_id: int) -> Op[None]:
    """Part of a write transaction: an intent that no longer applies."""
    yield ("UPDATE tasks SET intent = NULL WHERE id = ?", (task_id,))


def request(
    task_id: int,
    action: str,
    now: float,
    *,
    signal: str | None = None,
    command: list[str] | None = None,
    cwd: str | None = None,
) -> Op[Record]:
    """What ``cancel``/``pause``/``resume``/``hold``/``release``/``approve``/``retry`` do.

    Changes that need no process happen here; a running job gets an intent for the worker
    (a cancel with ``signal``, e.g. ``SIGINT``, sends that first instead of SIGTERM). A
    retry may run a changed ``command`` or in another ``cwd``, written with it.
    """
    yield WRITE
    task = yield from require(task_id)
    status = task["status"]
    template = yield from recurring.series(task_id)
    if template is not None:  # hold, release, cancel pause or stop its series
        yield from recurring.act(task, template, action, now)
        return (yield from require(task_id))
    direct = _DIRECT.get((action, status))
    if direct is not None:
        to, result = direct
        if action == "release" and task["gate"] and not task["attempts"]:
            to = TaskStatus.WAITING  # never approved: holding it was no way around its gate
        ended = now if to not in ACTIVE else None
        # A retry by hand starts a fresh retry budget and clears any backoff.
        not_before = "not_before" if action != "retry" else "NULL"
        budget_from = "budget_from" if action != "retry" else "attempts"
        # A task retried after focusq clean archived it is open again: back in the lists.
        archived = "archived_at" if action != "retry" else "NULL"
        # A task released from the backlog leaves it.
        tags = (
            "tags"
            if action != "release"
            else f"(SELECT json_group_array(value) FROM json_each(tags) "
            f"WHERE value <> '{BACKLOG_TAG}')"
        )
        yield (
            f"""
            UPDATE tasks SET status = ?, result = coalesce(?, result), updated_at = ?,
                             ended_at = ?, intent = NULL, not_before = {not_before},
                             budget_from = {budget_from}, tags = {tags}, archived_at = {archived}
            WHERE id = ? AND status = ?
            """,
            (to.value, result, now, ended, task_id, status),
        )
        if action == "retry" and (command is not None or cwd is not None):
            refuse_nul([*(command or ()), cwd or ""])
            yield (
                "UPDATE tasks SET command = coalesce(?, command), cwd = coalesce(?, cwd) "
                "WHERE id = ?",
                (json.dumps(command) if command is not None else None, cwd, task_id),
            )
        payload = {"from": status, "to": to.value, "by": action}
        yield from event(task_id, EventKind.STATUS, payload, now)
    elif (action, status) in _INTENTS:
        intent = f"{action}:{signal}" if signal and action == "cancel" else action
        yield ("UPDATE tasks SET intent = ?, updated_at = ? WHERE id = ?", (intent, now, task_id))
        yield from event(task_id, EventKind.INTENT, {"intent": action}, now)
    else:
        raise UserError(_cannot(task_id, action, status, task["kind"]))
    return (yield from require(task_id))


_DIRECT: dict[tuple[str, str], tuple[TaskStatus, str | None]] = {
    ("cancel", "queued"): (TaskStatus.CANCELLED, "cancelled"),
    ("cancel", "waiting"): (TaskStatus.CANCELLED, "cancelled"),
    ("cancel", "held"): (TaskStatus.CANCELLED, "cancelled"),
    ("hold", "queued"): (TaskStatus.HELD, None),
    ("hold", "waiting"): (TaskStatus.HELD, None),
    ("release", "held"): (TaskStatus.QUEUED, None),
    ("approve", "waiting"): (TaskStatus.QUEUED, None),
    **{
        ("retry", s): (TaskStatus.QUEUED, None)
        for s in ("failed", "cancelled", "skipped", "done", "dropped")
    },
}


_INTENTS = {
    ("cancel", "running"),
    ("cancel", "paused"),
    ("pause", "running"),
    ("resume", "paused"),
}


def _cannot(task_id: int, action: str, status: str, kind: str) -> str:
    if kind == "creative" and action in ("cancel", "pause", "resume", "approve", "retry"):
        return f"task {task_id} is creative: there is no job to {action}"
    hints = {
        "approve": "only a task waiting at gate:approve can be approved",
        "resume": "only a paused job can be resumed",
        "pause": "only a running job can be paused",
        "release": "only a held task can be released",
        "retry": "only a finished job can be retried",
        "hold": "only a queued or waiting task can be held",
        "cancel": "only an open task can be cancelled",
    }
    hint = hints.get(action, f"it cannot be {action}ed")
    return f"task {task_id} is {status}; {hint}"


def runs_of(task_id: int) -> Op[list[Record]]:
    """Every run of a task, oldest first."""
    yield READ
    rows = yield ("SELECT * FROM runs WHERE task_id = ? ORDER BY attempt", (task_id,))
    return [dict(r) for r in rows]


def runnable_jobs_exist() -> Op[bool]:
    """Whether a worker has anything to do: queued, running or paused mechanical work, or a
    recurring job whose due time has passed."""
    yield READ
    rows = yield (
        f"""
        SELECT 1 FROM tasks WHERE kind = 'mechanical'
        AND status IN ('queued', 'running', 'paused')
        UNION ALL SELECT 1 WHERE {recurring.DUE_SQL}
        LIMIT 1
        """,
        (),
    )
    return bool(rows)


def lock_holders(keys: Sequence[str], exclude: int) -> Op[list[Record]]:
    """Jobs other than ``exclude`` that hold any of ``keys`` or will take it first (running,
    paused or queued: not one held or at a gate), by key: ``{id, key}``, by id."""
    yield READ
    if not keys:
        return []
    rows = yield (
        f"""
        SELECT t.id, l.value AS key FROM tasks t, json_each(t.locks) l
        WHERE t.status IN ('running', 'paused', 'queued') AND t.id <> ?
          AND l.value IN ({",".join("?" * len(keys))})
        ORDER BY t.id
        """,
        (exclude, *keys),
    )
    return [dict(r) for r in rows]


def group_starts(since: float) -> Op[dict[str, float]]:
    """Each group's latest start at or after ``since`` (a stagger outlives the worker that
    started the group's last job)."""
    yield READ
    # A run that started since then ended since then, or has not: runs_by_end finds them.
    rows = yield (
        """
        SELECT t.grp, max(r.started_at) FROM runs r JOIN tasks t ON t.id = r.task_id
        WHERE (r.ended_at IS NULL OR r.ended_at >= ?) AND r.started_at >= ?
          AND t.grp IS NOT NULL
        GROUP BY t.grp
        """,
        (since, since),
    )
    return {str(r[0]): float(r[1]) for r in rows}


def recent_durations(command: str, cwd: str | None, limit: int = 20) -> Op[list[float]]:
    """Seconds taken by the latest successful runs of ``command`` (JSON) in ``cwd``."""
    yield READ
    rows = yield (
        """
        SELECT r.ended_at - r.started_at FROM runs r JOIN tasks t ON t.id = r.task_id
        WHERE t.command = ? AND t.cwd IS ? AND r.result = 'ok'
        ORDER BY r.id DESC LIMIT ?
        """,
        (command, cwd, limit),
    )
    return [float(r[0]) for r in rows]


def write_tick(
    steps: Sequence[Op[Any]], decided: Sequence[Op[Any]], seen: int
) -> Op[tuple[list[Any], list[Any] | None, int]]:
    """One tick's writes in one transaction: ``steps`` (what happened: a job's end, a pid),
    then ``decided`` (what the worker chose on its view of the queue: skips, then starts)
    unless the queue changed unseen.

    ``seen`` is the newest event the worker has read or written. An event above it was
    written by another process (an edit, a cancel) since the worker last looked, and the
    decisions were made without it: they are left out (``None``), so the next skip or start
    always follows every change that was committed before it. Returns the steps' results,
    the decisions' results in their order, and the newest event id once this transaction's
    own are written.
    """
    yield WRITE
    newest = yield from newest_event()
    results = []
    for step in steps:
        results.append((yield from step))
    done: list[Any] | None = None
    if newest <= seen:
        done = []
        for op in decided:
            done.append((yield from op))
    after = yield from newest_event()
    return results, done, after


def blocking(dep_ids: Sequence[int]) -> Op[dict[int, Record]]:
    """What a queued job may wait on, by id: every running or paused job, and the open
    tasks among ``dep_ids`` (a dependency left out has ended)."""
    yield READ
    # A running job counts against the executor it runs on (its open run's), whatever the
    # config says now; one placed with on:NAME, against that one.
    rows = yield (
        f"SELECT {TASK_COLUMNS}, coalesce((SELECT r.executor FROM runs r "
        "WHERE r.task_id = t.id AND r.ended_at IS NULL ORDER BY r.id DESC LIMIT 1), "
        "t.executor) AS running_on FROM tasks t "
        "WHERE t.status IN ('running', 'paused') AND t.kind = 'mechanical'",
        (),
    )
    out = {r["id"]: {**task_record(r), "executor": r["running_on"]} for r in rows}
    for chunk, marks in in_chunks(sorted(set(dep_ids))):
        rows = yield (
            f"SELECT {TASK_COLUMNS} FROM tasks t WHERE t.id IN ({marks}) "
            f"AND t.status IN {OPEN_STATUSES_SQL}",
            chunk,
        )
        out.update((r["id"], task_record(r)) for r in rows)
    return out
