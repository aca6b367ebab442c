"""The end-of-day review: the day's log, the answers for unfinished work, closing."""

from __future__ import annotations

import json

from focusq.errors import UserError
from focusq.states import EventKind, Kind, TaskStatus
from focusq.store.ops.base import BACKLOG_TAG, READ, WRITE, event, in_chunks, move, require
from focusq.store.ops.focus import end_focus, open_focus

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the quick CLI path milliseconds; annotations are strings
    from collections.abc import Sequence
    from typing import Any

    from focusq.store.ops.base import Op, Record


_NOT_IN_BACKLOG = f"""
    (t.tags = '[]'
     OR NOT EXISTS (SELECT 1 FROM json_each(t.tags) WHERE value = '{BACKLOG_TAG}'))
"""


_UNFINISHED = f"""
    SELECT t.id FROM tasks t
    WHERE t.status IN ('queued', 'waiting', 'held') AND t.kind = 'creative'
      AND t.created_at < ? AND {_NOT_IN_BACKLOG}
    UNION ALL
    SELECT t.id FROM tasks t
    WHERE t.status IN ('waiting', 'held') AND t.kind = 'mechanical'
      AND t.created_at < ? AND {_NOT_IN_BACKLOG}
    UNION ALL
    SELECT t.id FROM tasks t
    WHERE t.status = 'failed' AND t.kind = 'mechanical' AND t.ended_at >= ? AND t.ended_at < ?
      AND {_NOT_IN_BACKLOG}
"""
"""What a review asks about: open creative work, jobs stopped on the user's account, and
the jobs that failed that day, archived or not: a day's review stays what it was (each
query walks the (status, kind) index)."""

_OLDER_FAILURES = f"""
    SELECT count(*) FROM tasks t
    WHERE t.status = 'failed' AND t.kind = 'mechanical' AND t.ended_at < ?
      AND t.archived_at IS NULL AND {_NOT_IN_BACKLOG}
"""
"""Jobs that failed on earlier days and were never answered nor archived: counted, not
listed (``focusq clean`` archives them)."""


def day_log(start: float, end: float, day: str) -> Op[Record]:
    """Everything the review of ``day`` (the span ``start``-``end``) is computed from.

    (``CROSS JOIN`` keeps SQLite's planner from scanning all events to find the few runs
    and sessions still going at midnight, and the unary ``+`` from walking every run that
    started before it: they are found by when they ended.)

    The events of the day, plus the earlier events of runs and focus sessions still going
    when it began; the tasks they name and the unfinished ones; the failed runs' last log
    lines, the failure notes ever written about those tasks; the day's answers and close;
    where the runs that did not run on this machine ran.
    """
    yield READ
    rows = yield (
        """
        SELECT id, at, task_id, kind, payload FROM events WHERE at >= ? AND at < ?
        UNION ALL
        SELECT e.id, e.at, e.task_id, e.kind, e.payload
        FROM runs r CROSS JOIN events e ON e.task_id = r.task_id
        WHERE +r.started_at < ? AND (r.ended_at IS NULL OR r.ended_at >= ?)
          AND e.kind = 'status' AND e.at >= r.started_at AND e.at < ?
        UNION ALL
        SELECT e.id, e.at, e.task_id, e.kind, e.payload
        FROM focus_sessions f CROSS JOIN events e ON e.task_id = f.task_id
        WHERE +f.started_at < ? AND (f.ended_at IS NULL OR f.ended_at >= ?)
          AND e.kind = 'focus' AND e.at >= f.started_at AND e.at < ?
        ORDER BY 1
        """,
        (start, end, start, start, start, start, start, start),
    )
    focused = sorted({r[2] for r in rows if r[3] == "focus" and r[2] is not None})
    trims = yield from _trims(focused, {r[0] for r in rows})
    events = [
        {"at": r[1], "task_id": r[2], "kind": r[3], "payload": json.loads(r[4])}
        for r in sorted([*map(tuple, rows), *trims])
    ]
    unfinished = yield (_UNFINISHED, (end, end, start, end))
    older = yield (_OLDER_FAILURES, (start,))
    answers = yield (
        """
        SELECT task_id, kind, at, json_extract(payload, '$.action') FROM events
        WHERE kind IN ('reviewed', 'day_closed') AND json_extract(payload, '$.day') = ?
        ORDER BY id
        """,
        (day,),
    )
    ids = {e["task_id"] for e in events if e["task_id"] is not None}
    ids.update(r[0] for r in unfinished)
    ids.update(r[0] for r in answers if r[0] is not None)
    tasks = yield from _tasks_by_id(sorted(ids))
    failed = yield (
        """
        SELECT task_id, attempt, result, exit_code, tail FROM runs
        WHERE ended_at >= ? AND ended_at < ? AND result NOT IN ('ok', 'cancelled')
        ORDER BY ended_at
        """,
        (start, end),
    )
    carried = yield from _carried([r[0] for r in unfinished])
    started = {e["task_id"] for e in events if e["kind"] == "status" and "attempt" in e["payload"]}
    elsewhere = yield from _elsewhere(sorted(started))
    history = yield from _done_history(start, end)
    # Notes about any task the review shows a failure of or asks about.
    noted = sorted({r["task_id"] for r in failed} | {r[0] for r in unfinished})
    notes: list[Any] = []
    for chunk, marks in in_chunks(noted):
        notes += yield (
            f"SELECT task_id, at, payload FROM events WHERE task_id IN ({marks}) "
            "AND kind = 'failure_note' ORDER BY id",
            chunk,
        )
    return {
        "events": events,
        "tasks": tasks,
        "unfinished": [r[0] for r in unfinished],
        "older_failures": int(older[0][0]) if older else 0,
        "answers": {r[0]: r[3] for r in answers if r[1] == "reviewed"},
        "closed_at": next((r[2] for r in answers if r[1] == "day_closed"), None),
        "tails": {(r["task_id"], r["attempt"]): r["tail"] or "" for r in failed},
        "notes": [
            {"task_id": r["task_id"], "at": r["at"], **json.loads(r["payload"])} for r in notes
        ],
        "carried": carried,
        "history": history,
        "elsewhere": elsewhere,
    }


def _trims(task_ids: Sequence[int], seen: set[int]) -> Op[list[Any]]:
    """The trims of these tasks' sessions not among the rows ``seen`` (a trim is often
    written a day after its session)."""
    out: list[Any] = []
    for chunk, marks in in_chunks(task_ids):
        rows = yield (
            f"SELECT id, at, task_id, kind, payload FROM events WHERE task_id IN ({marks}) "
            "AND kind = 'focus' AND json_extract(payload, '$.action') = 'trim'",
            chunk,
        )
        out += [tuple(r) for r in rows if r[0] not in seen]
    return out


def _elsewhere(task_ids: Sequence[int]) -> Op[dict[tuple[int, int], tuple[str, str | None]]]:
    """(task, attempt) -> executor and host of these tasks' runs that ran on another
    executor than this machine's (found by task: the day's runs, not every run since)."""
    out: dict[tuple[int, int], tuple[str, str | None]] = {}
    for chunk, marks in in_chunks(task_ids):
        rows = yield (
            f"SELECT task_id, attempt, executor, host FROM runs WHERE task_id IN ({marks}) "
            "AND executor IS NOT NULL",
            chunk,
        )
        out.update(((int(r[0]), int(r[1])), (str(r[2]), r[3])) for r in rows)
    return out


def _carried(task_ids: Sequence[int]) -> Op[dict[int, int]]:
    """On how many days a review carried each task to the next (one answer a day counts)."""
    out: dict[int, int] = {}
    for chunk, marks in in_chunks(task_ids):
        rows = yield (
            "SELECT task_id, count(DISTINCT json_extract(payload, '$.day')) FROM events "
            f"WHERE task_id IN ({marks}) "
            "AND kind = 'reviewed' AND json_extract(payload, '$.action') = 'carry' "
            "GROUP BY task_id",
            chunk,
        )
        out.update((int(r[0]), int(r[1])) for r in rows)
    return out


def done_history(start: float, end: float) -> Op[Record]:
    """The tasks finished between ``start`` and ``end`` (estimate, tags, project) and every
    focus and status event of theirs: what planned-against-actual is computed from."""
    yield READ
    return (yield from _done_history(start, end))


def _done_history(start: float, end: float) -> Op[Record]:
    rows = yield (
        "SELECT id, title, kind, estimate, tags, project, ended_at FROM tasks "
        "WHERE ended_at >= ? AND ended_at < ? AND status = 'done' ORDER BY ended_at, id",
        (start, end),
    )
    tasks = {r["id"]: {**dict(r), "tags": json.loads(r["tags"])} for r in rows}
    events: list[Any] = []
    for chunk, marks in in_chunks(list(tasks)):
        events += yield (
            f"SELECT id, at, task_id, kind, payload FROM events WHERE task_id IN ({marks}) "
            "AND kind IN ('focus', 'status') ORDER BY id",
            chunk,
        )
    return {
        "tasks": tasks,
        "events": [
            {"at": r[1], "task_id": r[2], "kind": r[3], "payload": json.loads(r[4])}
            for r in sorted(map(tuple, events))
        ],
    }


def _tasks_by_id(ids: Sequence[int]) -> Op[dict[int, Record]]:
    out: dict[int, Record] = {}
    for chunk, marks in in_chunks(ids):
        rows = yield (
            "SELECT id, title, kind, status, prio_rank, result, exit_code, tags FROM tasks "
            f"WHERE id IN ({marks})",
            chunk,
        )
        out.update((r["id"], {**dict(r), "tags": json.loads(r["tags"])}) for r in rows)
    return out


REVIEW_ACTIONS = ("carry", "backlog", "drop")
"""A review's answers for an unfinished task: tomorrow, some day, or never."""


def decide(task_id: int, action: str, day: str, now: float, tomorrow: float) -> Op[Record]:
    """A review's answer for one task, written with its ``reviewed`` event.

    ``carry``: on tomorrow's list: a held creative task is queued again; a held or failed
    job is queued (a failed one with a fresh retry budget) to start no earlier than
    ``tomorrow``, a job at its gate waits for approval and then for ``tomorrow``.
    ``backlog``: held, tagged ``backlog``, and no longer asked about. ``drop``: dropped.
    An answer may be changed while the day is reviewed, so each one starts from any of
    the unfinished states and from ``dropped``.
    """
    yield WRITE
    if action not in REVIEW_ACTIONS:
        raise UserError(f"{action!r} is not an answer; use one of {', '.join(REVIEW_ACTIONS)}")
    closed = yield from _closed(day)
    if closed is not None:
        raise UserError(f"the review of {day} is closed; its answers stand")
    task = yield from require(task_id)
    status, job = task["status"], task["kind"] == Kind.MECHANICAL
    if status not in ("queued", "waiting", "held", "failed", "dropped"):
        raise UserError(f"task {task_id} is {status}; only unfinished work can be {action}")
    tags = [t for t in task["tags"] if t != BACKLOG_TAG]
    not_before = task["at"]
    if action == "carry":
        # A gated job that never ran was never approved: it waits for approval again.
        unapproved = status == "waiting" or (job and task["gate"] and not task["attempts"])
        to = TaskStatus.WAITING if unapproved else TaskStatus.QUEUED
        if job:  # never earlier than a start time it already had
            not_before = max(tomorrow, now, task["at"] or 0.0)
    elif action == "backlog":
        to, tags = TaskStatus.HELD, [*tags, BACKLOG_TAG]
    else:
        to = TaskStatus.DROPPED
    if to != TaskStatus.QUEUED and status != "dropped":
        # Work put aside leaves the focus slot: its session ends here.
        current = yield from open_focus()
        if current is not None and current["task_id"] == task_id:
            yield from end_focus(current, now, "stopped")
    if to != status:
        yield from move(task_id, status, to, now, reason=f"review {day}: {action}")
    if status in ("failed", "dropped") and to != TaskStatus.DROPPED:
        # Back from an end: a fresh retry budget, and no end time.
        yield (
            "UPDATE tasks SET budget_from = attempts, ended_at = NULL, result = NULL WHERE id = ?",
            (task_id,),
        )
    yield (
        "UPDATE tasks SET tags = ?, not_before = ?, updated_at = ? WHERE id = ?",
        (json.dumps(tags), not_before, now, task_id),
    )
    yield from event(task_id, EventKind.REVIEWED, {"day": day, "action": action}, now)
    return (yield from require(task_id))


def note_failure(task_id: int, attempt: int, text: str, now: float) -> Op[None]:
    """Keep what the user wrote about a failed run; later reviews of the task show it."""
    yield WRITE
    yield from require(task_id)
    text = text.strip()
    if not text:
        raise UserError("the failure note is empty")
    payload = {"attempt": attempt, "text": text}
    yield from event(task_id, EventKind.FAILURE_NOTE, payload, now)


def close_day(day: str, now: float) -> Op[float]:
    """Close the review of ``day``; return when it was closed (the first close stands)."""
    yield WRITE
    closed = yield from _closed(day)
    if closed is not None:
        return closed
    yield from event(None, EventKind.DAY_CLOSED, {"day": day}, now)
    return now


WORK_DONE = """
    kind IN ('added', 'edited', 'noted', 'focus', 'switch')
    AND NOT (kind = 'added' AND json_extract(payload, '$.template') IS NOT NULL)
"""
"""Events that say the user worked that day: a task added (not a recurring job's run),
edited or noted, a focus session, a switch prompt answered."""


def unclosed_day_before(start: float) -> Op[str | None]:
    """The last day before ``start`` the user worked on (as ``YYYY-MM-DD``, local time),
    if its review was never closed: what the TUI offers to review when it opens.

    (The events are walked back from ``start`` by time, and the walk stops at the first
    that counts.)
    """
    from datetime import date  # not on the quick path's import list

    yield READ
    rows = yield (
        f"SELECT at FROM events WHERE at < ? AND {WORK_DONE} ORDER BY at DESC LIMIT 1",
        (start,),
    )
    if not rows:
        return None
    day = date.fromtimestamp(float(rows[0][0])).isoformat()
    closed = yield from _closed(day)
    return day if closed is None else None


def _closed(day: str) -> Op[float | None]:
    rows = yield (
        "SELECT at FROM events WHERE kind IN ('reviewed', 'day_closed') "
        "AND json_extract(payload, '$.day') = ? AND kind = 'day_closed'",
        (day,),
    )
    return float(rows[0][0]) if rows else None
