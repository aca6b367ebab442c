"""What the worker reads of the queue: what changed, in pages, and as little as it needs.

A queued job is read as a *view*: what the scheduler needs to decide when it may start
(its priority, dependencies, locks, group, time and estimate), not its whole record. The
record, with its environment, is read when the job is claimed (``jobs.claim``). So a
worker with 50,000 jobs queued holds 50,000 small views, and a refresh after a batch of
them reads them a page at a time.
"""

from __future__ import annotations

import json

from focusq.store.ops.base import READ, in_chunks, newest_event
from focusq.store.ops.jobs import OPEN_JOB, jobs_with_runs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any

    from focusq.store.ops.base import Op, Record

PAGE = 1000
"""Events, or queued jobs, read per page."""

_VIEW = """
    SELECT t.id, t.kind, t.status, t.intent, t.priority, t.created_at, t.estimate,
           t.locks, t.grp, t.not_before, t.command, t.cwd, t.executor,
           (SELECT json_group_array(dep_id) FROM deps WHERE task_id = t.id AND kind = 'after')
               AS after_ids,
           (SELECT json_group_array(dep_id) FROM deps WHERE task_id = t.id AND kind = 'afterany')
               AS afterany_ids
    FROM tasks t
"""
"""A task as the scheduler sees it; callers add the WHERE."""


def _view(row: Any) -> Record:
    return {
        "id": row["id"],
        "kind": row["kind"],
        "status": row["status"],
        "intent": row["intent"],
        "priority": row["priority"],
        "created_at": row["created_at"],
        "estimate": row["estimate"],
        "after": sorted(json.loads(row["after_ids"])),
        "afterany": sorted(json.loads(row["afterany_ids"])),
        "locks": json.loads(row["locks"]),
        "group": row["grp"],
        "at": row["not_before"],
        "executor": row["executor"],
        # What runs of the same job share (``engine.outcome.key``): command JSON and folder.
        "_key": (row["command"] or "null", row["cwd"] or ""),
    }


Changes = tuple[int, bool, list["Record"], list["Record"], dict[int, str], set[str]]


def changes_since(after_id: int, limit: int = PAGE) -> Op[Changes]:
    """A page of what changed after event ``after_id``, in one snapshot.

    Returns the newest event id read, whether more events follow it, a view of each task
    those events touched, the full record (with its current run) of each of them that is
    an open job not queued (running, paused, held, waiting), the states of every task the
    views' dependencies name, and the kinds of the events that touched no task
    (``group``: a group changed from the shell).
    """
    yield READ
    rows = yield (
        "SELECT id, task_id, kind FROM events WHERE id > ? ORDER BY id LIMIT ?",
        (after_id, limit),
    )
    if not rows:
        return after_id, False, [], [], {}, set()
    ids = sorted({r["task_id"] for r in rows if r["task_id"] is not None})
    views = yield from _views(ids)
    held = [v["id"] for v in views if v["kind"] == "mechanical" and _open_unqueued(v)]
    records = (yield from jobs_with_runs(held)) if held else []
    other = {r["kind"] for r in rows if r["task_id"] is None}
    states = yield from _dependency_states(views)
    return int(rows[-1]["id"]), len(rows) == limit, views, records, states, other


def start() -> Op[tuple[int, list[Record], dict[int, str]]]:
    """What a starting worker reads first, in one snapshot: the newest event id, every open
    job that is not queued (with its current run: the ones to recover), and the states of
    every task their dependencies name. The queued jobs follow in pages
    (:func:`queued_page`)."""
    yield READ
    newest = yield from newest_event()
    others = [s for s in OPEN_JOB if s != "queued"]
    rows = yield (
        f"SELECT id FROM tasks WHERE kind = 'mechanical' "
        f"AND status IN ({','.join('?' * len(others))}) ORDER BY id",
        others,
    )
    records = yield from jobs_with_runs([r[0] for r in rows])
    return int(newest), records, (yield from _dependency_states(records))


def queued_page(after_task: int, limit: int = PAGE) -> Op[tuple[list[Record], dict[int, str]]]:
    """Views of the queued jobs with ids above ``after_task`` (a page of ``limit``), and
    the states of every task their dependencies name (open or long finished: a
    dependency that ended before this worker started still counts)."""
    yield READ
    rows = yield (
        f"""{_VIEW} WHERE t.kind = 'mechanical' AND t.status = 'queued' AND t.id > ?
        ORDER BY t.id LIMIT ?""",
        (after_task, limit),
    )
    views = [_view(r) for r in rows]
    return views, (yield from _dependency_states(views))


def _views(ids: Sequence[int]) -> Op[list[Record]]:
    out: list[Record] = []
    for chunk, marks in in_chunks(ids):
        rows = yield (f"{_VIEW} WHERE t.id IN ({marks})", chunk)
        out.extend(_view(r) for r in rows)
    return out


def _open_unqueued(view: Record) -> bool:
    return view["status"] in OPEN_JOB and view["status"] != "queued"


def _dependency_states(records: Iterable[Record]) -> Op[dict[int, str]]:
    deps = sorted({d for r in records for d in (*r["after"], *r["afterany"])})
    statuses: dict[int, str] = {}
    for chunk, marks in in_chunks(deps):
        found = yield (f"SELECT id, status FROM tasks WHERE id IN ({marks})", chunk)
        statuses.update((r[0], r[1]) for r in found)
    return statuses
