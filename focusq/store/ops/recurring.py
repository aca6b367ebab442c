"""Recurring jobs: a template's rule, the runs its due times add, and what reads them.

A template is a task in state ``recurring`` (``held`` while its series is paused; ended
when it is dropped) with a row in ``recurring``: its rule, the anchor its due times count
from and the next due time. It never runs. At each due time the worker adds a run
(:func:`add_due_runs`): a copy of the template as a queued job, linked to it in
``recurring_runs``. Unless ``overlap:yes``, each run holds the template's own lock
(``recurring:<id>``), so two runs of a series never run at once.
"""

from __future__ import annotations

import json

from focusq.errors import UserError
from focusq.states import EventKind, Kind, TaskStatus
from focusq.store.ops.base import READ, event, in_chunks, move, require
from focusq.store.ops.inbox import interruption

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from focusq.quickadd import TaskDraft
    from focusq.store.ops.base import Op, Record

GOING = ("queued", "waiting", "running", "paused")
"""States of a run that is still to end: a due time meanwhile adds no run, unless overlap."""


def lock_key(template_id: int) -> str:
    """The lock every run of a series holds unless ``overlap:yes``."""
    return f"recurring:{template_id}"


def create(task_id: int, draft: TaskDraft, now: float) -> Op[None]:
    """Part of adding a task: ``task_id`` is a template of ``draft``'s rule. Its ``at:``
    (if any) is where the series starts, not a time of its own."""
    from focusq import recurrence

    assert draft.recur
    rule = recurrence.parse(draft.recur)
    anchor = draft.not_before if draft.not_before is not None else now
    yield (
        """
        INSERT INTO recurring (task_id, rule, anchor, catch_up, overlap, next_due)
        VALUES (?, ?, ?, ?, ?, ?)
        """,
        (
            task_id,
            rule.text,
            anchor,
            draft.catch_up,
            int(bool(draft.overlap)),
            recurrence.first_due(rule, anchor),
        ),
    )
    yield ("UPDATE tasks SET not_before = NULL WHERE id = ?", (task_id,))


def series(task_id: int) -> Op[Record | None]:
    """The ``recurring`` row of a template, or ``None`` if the task is not one."""
    rows = yield ("SELECT * FROM recurring WHERE task_id = ?", (task_id,))
    return dict(rows[0]) if rows else None


def templates_among(ids: Sequence[int]) -> Op[set[int]]:
    """Which of ``ids`` are the templates of recurring series (whatever their state)."""
    yield READ
    found: set[int] = set()
    for chunk, marks in in_chunks(sorted(set(ids))):
        rows = yield (f"SELECT task_id FROM recurring WHERE task_id IN ({marks})", chunk)
        found.update(int(r[0]) for r in rows)
    return found


def check_edit(old: Record, draft: TaskDraft) -> Op[Record | None]:
    """Part of an edit, before it: refuse what a template cannot become, and repeat
    tokens on a task that is not one. Returns the template's series (``None``: not one)."""
    found = yield from series(old["id"])
    repeats = draft.recur or draft.catch_up is not None or draft.overlap is not None
    if found is None:
        if repeats:
            raise UserError(
                f"task {old['id']} is not recurring: every:/cron: make a recurring job when "
                "it is added, e.g. focusq add backup every:1d at:02:00 -- ./backup.sh"
            )
        return None
    if draft.kind is Kind.CREATIVE:
        raise UserError(f"task {old['id']} is a recurring job's template: it stays a job")
    if draft.after or draft.afterany:
        raise UserError(
            f"task {old['id']} is a recurring job's template: it cannot wait on other tasks "
            "(drop after:/afterany:)"
        )
    return found


def edited(task_id: int, found: Record, draft: TaskDraft, now: float) -> Op[None]:
    """Part of an edit of a template: a new rule, start, catch-up or overlap applies from
    the next due time after ``now`` (an edit never runs the job at once)."""
    from focusq import recurrence

    given = (draft.recur, draft.not_before, draft.catch_up, draft.overlap)
    if all(value is None for value in given):
        return
    rule = recurrence.parse(draft.recur or found["rule"])
    if draft.not_before is not None:
        anchor = draft.not_before
    elif draft.recur is not None and rule.kind in ("interval", "days", "weekdays"):
        anchor = now  # a new period counts from the edit
    else:
        anchor = found["anchor"]
    yield (
        """
        UPDATE recurring SET rule = ?, anchor = ?, catch_up = coalesce(?, catch_up),
                             overlap = coalesce(?, overlap), next_due = ?
        WHERE task_id = ?
        """,
        (
            rule.text,
            anchor,
            draft.catch_up,
            None if draft.overlap is None else int(draft.overlap),
            recurrence.due_after(rule, anchor, max(now, anchor - 1e-6)),
            task_id,
        ),
    )
    yield ("UPDATE tasks SET not_before = NULL WHERE id = ?", (task_id,))


_TEMPLATE_ACTIONS = {
    ("hold", "recurring"): TaskStatus.HELD,
    ("release", "held"): TaskStatus.RECURRING,
    ("cancel", "recurring"): TaskStatus.CANCELLED,
    ("cancel", "held"): TaskStatus.CANCELLED,
}


def act(task: Record, found: Record, action: str, now: float) -> Op[None]:
    """Part of ``hold``/``release``/``cancel`` on a template: pause, resume or stop its
    series. A released series goes on from its next due time after ``now``: the times it
    was held through are not caught up (the hold said so)."""
    from focusq import recurrence

    to = _TEMPLATE_ACTIONS.get((action, task["status"]))
    if to is None:
        raise UserError(
            f"task {task['id']} is a recurring job's template ({task['status']}): hold, "
            "release, drop or edit it; its runs are the jobs"
        )
    if to is not TaskStatus.RECURRING:
        result = "cancelled" if to is TaskStatus.CANCELLED else None
        yield from move(task["id"], task["status"], to, now, result=result)
        return
    rule = recurrence.parse(found["rule"])
    due = recurrence.due_after(rule, found["anchor"], now)
    yield ("UPDATE recurring SET next_due = ? WHERE task_id = ?", (due, task["id"]))
    yield (
        "UPDATE tasks SET status = ?, updated_at = ?, intent = NULL WHERE id = ? AND status = ?",
        (to.value, now, task["id"], task["status"]),
    )
    payload = {"from": task["status"], "to": to.value, "by": action}
    yield from event(task["id"], EventKind.STATUS, payload, now)


def next_due() -> Op[float | None]:
    """The earliest due time of a series that is not paused or stopped."""
    yield READ
    rows = yield (
        "SELECT min(r.next_due) FROM recurring r JOIN tasks t ON t.id = r.task_id "
        "WHERE t.status = 'recurring'",
        (),
    )
    return None if rows[0][0] is None else float(rows[0][0])


DUE_SQL = """
    EXISTS (SELECT 1 FROM recurring r JOIN tasks t ON t.id = r.task_id
            WHERE t.status = 'recurring'
              AND r.next_due <= (julianday('now') - 2440587.5) * 86400.0)
"""
"""Whether a series' due time has passed (SQLite's clock): work for a worker."""


def add_due_runs(now: float, catch_up: str) -> Op[list[int]]:
    """Part of a write transaction: add the runs of every series whose due time came by
    ``now`` (``catch_up``: the default rule for missed times), move each series on to its
    next due time, and write one ``recurring`` event per series. Returns the new runs' ids."""
    from focusq import recurrence

    due = yield (
        """
        SELECT r.*, t.title, t.locks, t.gate FROM recurring r JOIN tasks t ON t.id = r.task_id
        WHERE t.status = 'recurring' AND r.next_due <= ? ORDER BY r.next_due
        """,
        (now,),
    )
    added: list[int] = []
    for row in due:
        template = row["task_id"]
        going = yield (
            f"""
            SELECT 1 FROM recurring_runs rr JOIN tasks t ON t.id = rr.task_id
            WHERE rr.template_id = ? AND t.status IN ({",".join("?" * len(GOING))}) LIMIT 1
            """,
            (template, *GOING),
        )
        try:
            plan = recurrence.plan(
                recurrence.parse(row["rule"]),
                row["anchor"],
                row["next_due"],
                now,
                row["catch_up"] or catch_up,
                going=bool(going),
                overlap=bool(row["overlap"]),
            )
        except (ValueError, OverflowError):  # a rule no date can follow (made before it was
            # refused): the series is held, saying why, and no worker stops on it
            why = "its repeat gives no next date; edit it (every: at most 10 years)"
            yield from move(template, "recurring", TaskStatus.HELD, now, reason=why)
            continue
        locks = json.loads(row["locks"])
        if not row["overlap"]:
            locks = [*locks, lock_key(template)]
        runs = []
        for at, caught_up in plan.runs:
            runs.append((yield from _add_run(row, json.dumps(locks), at, caught_up, now)))
        yield (
            "UPDATE recurring SET next_due = ?, last_run = coalesce(?, last_run) WHERE task_id = ?",
            (plan.next_due, runs[-1] if runs else None, template),
        )
        payload: dict[str, Any] = {
            "runs": runs,
            "caught_up": sum(1 for _, late in plan.runs if late),
            "skipped": plan.skipped,
            "going": bool(going) and not row["overlap"],
            "due": row["next_due"],
            "next_due": plan.next_due,
        }
        yield from event(template, EventKind.RECURRING, payload, now)
        added += runs
    return added


def _add_run(template: Any, locks: str, due: float, caught_up: bool, now: float) -> Op[int]:
    """A run of ``template`` due at ``due``: a copy of it as a job of its own."""
    rows = yield (
        """
        INSERT INTO tasks (title, kind, status, priority, tags, project, command, cwd, env,
                           locks, estimate, timeout, retries, grp, gate, created_at,
                           updated_at, environ_id)
        SELECT title, kind, CASE WHEN gate IS NULL THEN 'queued' ELSE 'waiting' END, priority,
               tags, project, command, cwd, env, ?, estimate, timeout, retries, grp, gate,
               ?, ?, environ_id
        FROM tasks WHERE id = ? RETURNING id
        """,
        (locks, now, now, template["task_id"]),
    )
    run_id = int(rows[0][0])
    yield (
        "INSERT INTO recurring_runs (task_id, template_id, due, caught_up) VALUES (?, ?, ?, ?)",
        (run_id, template["task_id"], due, int(caught_up)),
    )
    payload = {
        "title": template["title"],
        "kind": "mechanical",
        "template": template["task_id"],
        "due": due,
        "caught_up": caught_up,
    }
    yield from event(run_id, EventKind.ADDED, payload, now)
    if template["gate"]:
        note = f"#{run_id} {template['title']} waits for your approval"
        yield from interruption(note, now, "gate", run_id, urgent=False)
    return run_id


def templates(*, stopped: bool = False) -> Op[list[Record]]:
    """Every template whose series goes on or is paused (``stopped``: ended ones too), by
    next due time: its record, rule, anchor, catch-up, overlap, next due time and last run
    (``last``: its id, status, result, and when it ended)."""
    yield READ
    where = "" if stopped else "WHERE t.status IN ('recurring', 'held')"
    rows = yield (
        f"""
        SELECT r.task_id, r.rule, r.anchor, r.catch_up, r.overlap, r.next_due, r.last_run,
               l.status AS last_status, l.result AS last_result, l.ended_at AS last_ended,
               (SELECT count(*) FROM recurring_runs rr WHERE rr.template_id = r.task_id)
                   AS run_count
        FROM recurring r JOIN tasks t ON t.id = r.task_id
        LEFT JOIN tasks l ON l.id = r.last_run
        {where} ORDER BY t.status <> 'recurring', r.next_due, r.task_id
        """,
        (),
    )
    out = []
    for row in rows:
        record = yield from require(row["task_id"])
        record["recurring"] = {
            "rule": row["rule"],
            "anchor": row["anchor"],
            "catch_up": row["catch_up"],
            "overlap": bool(row["overlap"]),
            "next_due": row["next_due"],
            "runs": row["run_count"],
            "last": None
            if row["last_run"] is None
            else {
                "id": row["last_run"],
                "status": row["last_status"],
                "result": row["last_result"],
                "ended_at": row["last_ended"],
            },
        }
        out.append(record)
    return out


def runs_of(template_id: int) -> Op[list[Record]]:
    """The runs a template added, oldest first: id, due time, catch-up, status, result."""
    yield READ
    rows = yield (
        """
        SELECT rr.task_id AS id, rr.due, rr.caught_up, t.status, t.result
        FROM recurring_runs rr JOIN tasks t ON t.id = rr.task_id
        WHERE rr.template_id = ? ORDER BY rr.task_id
        """,
        (template_id,),
    )
    return [dict(r) for r in rows]
