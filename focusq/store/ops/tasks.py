"""Tasks: adding, editing, notes, guarded state changes, and reading them back."""

from __future__ import annotations

import json

from focusq.errors import UserError
from focusq.states import ACTIVE, DepKind, EventKind, Kind, TaskStatus
from focusq.store.ops.base import (
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

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the quick CLI path milliseconds; annotations are strings
    from collections.abc import Iterable, Sequence
    from typing import Any, TypeVar

    from focusq.quickadd import TaskDraft
    from focusq.store.ops.base import Op, Record

    T = TypeVar("T")


def add_task(draft: TaskDraft, now: float, *, held: bool = False) -> Op[int]:
    """Insert the task in ``draft`` with its dependencies and an ``added`` event; return its id.

    ``held``: it starts held (``focusq add --held``), in the same transaction.
    """
    yield WRITE
    return (yield from _insert(draft, now, held=held))


def add_tasks(drafts: Sequence[TaskDraft], now: float) -> Op[list[int]]:
    """Insert several tasks in one transaction: all of them or none.

    A negative id in a draft's ``after``/``afterany`` names an earlier draft of the same
    batch: ``-1`` is the first.
    """
    yield WRITE
    ids: list[int] = []
    environs: dict[int, tuple[dict[str, str], int | None]] = {}
    for draft in drafts:
        ids.append((yield from _insert(draft, now, ids, environs=environs)))
    return ids


def _insert(
    draft: TaskDraft,
    now: float,
    batch: Sequence[int] = (),
    *,
    held: bool = False,
    environs: dict[int, tuple[dict[str, str], int | None]] | None = None,
) -> Op[int]:
    """Insert one task; ``environs`` remembers the id of each environment dict already
    stored in this transaction (a batch's tasks share their shell's: stored and looked up
    once, not once per task)."""
    assert draft.title and draft.kind
    refuse_nul_in(draft)
    environ = draft.environ
    if environ is None:
        environ_id = None
    elif environs is not None and id(environ) in environs:
        environ_id = environs[id(environ)][1]
    else:
        environ_id = yield from _environment_id(environ)
        if environs is not None:  # the dict is kept with its id: no other can reuse it
            environs[id(environ)] = (environ, environ_id)
    rows = yield (
        """
        INSERT INTO tasks (title, kind, status, priority, tags, project, command, cwd, env,
                           locks, estimate, timeout, retries, grp, gate, not_before,
                           created_at, updated_at, environ_id, executor, placement)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        RETURNING id
        """,
        (
            draft.title,
            draft.kind.value,
            _first_status(draft, held).value,
            (draft.priority or "M"),
            json.dumps(_unique(draft.tags)),
            draft.project,
            json.dumps(draft.command) if draft.command is not None else None,
            draft.cwd,
            json.dumps(draft.env or {}),
            json.dumps(_unique(draft.locks or [])),
            draft.estimate,
            draft.timeout,
            draft.retries or 0,
            draft.group,
            draft.gate,
            draft.not_before,
            now,
            now,
            environ_id,
            draft.executor,
            placement_json(draft.resources, draft.hosts),
        ),
    )
    task_id = int(rows[0][0])
    yield from _set_deps(task_id, draft, new=True, batch=batch)
    added: dict[str, Any] = {"title": draft.title, "kind": draft.kind}
    if draft.recur:
        from focusq.store.ops import recurring

        yield from recurring.create(task_id, draft, now)
        added["recurring"] = draft.recur
    yield from event(task_id, EventKind.ADDED, added, now)
    if draft.gate and not draft.recur:
        note = f"#{task_id} {draft.title} waits for your approval"
        yield from interruption(note, now, "gate", task_id, urgent=False)
    elif not batch and (yield ("SELECT 1 FROM focus_sessions WHERE ended_at IS NULL", ())):
        yield from interruption(f"added #{task_id} {draft.title}", now, "quickadd", task_id)
    return task_id


def placement_json(resources: dict[str, float] | None, hosts: list[str] | None) -> str:
    """Where on its executor a job may run, as stored: ``{"resources": ..., "hosts": ...}``."""
    placed: dict[str, Any] = {}
    if resources:
        placed["resources"] = resources
    if hosts:
        placed["hosts"] = hosts
    return json.dumps(placed, sort_keys=True)


def _first_status(draft: TaskDraft, held: bool) -> TaskStatus:
    if held:
        return TaskStatus.HELD
    if draft.recur:
        return TaskStatus.RECURRING  # a template: the worker adds its runs
    return TaskStatus.WAITING if draft.gate else TaskStatus.QUEUED


def _environment_id(environ: dict[str, str] | None) -> Op[int | None]:
    """The id of ``environ`` in the environments table, stored once however many tasks
    share it (one shell adds many)."""
    if environ is None:
        return None
    body = json.dumps(environ, sort_keys=True, ensure_ascii=False)
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:  # a value's bytes no locale could read
        body = json.dumps(environ, sort_keys=True)  # escaped: they come back as they were
    rows = yield (
        "INSERT INTO environments (body) VALUES (?) ON CONFLICT (body) DO NOTHING RETURNING id",
        (body,),
    )
    if not rows:
        rows = yield ("SELECT id FROM environments WHERE body = ?", (body,))
    return int(rows[0][0])


def kinds_and_states(ids: Sequence[int]) -> Op[dict[int, tuple[str, str]]]:
    """``(kind, status)`` of each task in ``ids``, in one read; a missing one is an error."""
    yield READ
    found: dict[int, tuple[str, str]] = {}
    for chunk, marks in in_chunks(list(ids)):
        rows = yield (f"SELECT id, kind, status FROM tasks WHERE id IN ({marks})", chunk)
        found.update((r[0], (r[1], r[2])) for r in rows)
    for task_id in ids:
        if task_id not in found:
            raise UserError(f"there is no task {task_id}; 'focusq ls --all' lists them")
    return found


def environment(task_id: int) -> Op[tuple[dict[str, str] | None, dict[str, str]]]:
    """A task's captured environment (``None`` if none was) and its ``--env`` overrides."""
    yield READ
    yield from require(task_id)
    rows = yield (
        "SELECT e.body, t.env FROM tasks t LEFT JOIN environments e ON e.id = t.environ_id "
        "WHERE t.id = ?",
        (task_id,),
    )
    body, overrides = rows[0]
    return (None if body is None else json.loads(body)), json.loads(overrides)


def refuse_nul_in(draft: TaskDraft) -> None:
    """A draft's command, folder and environment, refused if any holds a NUL byte."""
    parts = [*(draft.command or ()), draft.cwd or ""]
    parts += [f"{k}={v}" for k, v in {**(draft.environ or {}), **(draft.env or {})}.items()]
    refuse_nul(parts)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _set_deps(task_id: int, draft: TaskDraft, *, new: bool, batch: Sequence[int] = ()) -> Op[None]:
    for kind, ids in ((DepKind.AFTER, draft.after), (DepKind.AFTERANY, draft.afterany)):
        if ids is None:
            continue
        if not new:
            yield ("DELETE FROM deps WHERE task_id = ? AND kind = ?", (task_id, kind.value))
        for dep in dict.fromkeys(batch[-i - 1] if i < 0 else i for i in ids):
            if dep == task_id:
                raise UserError(f"{kind}:{dep}: a task cannot wait on itself")
            found = yield (
                "SELECT id, EXISTS (SELECT 1 FROM recurring WHERE task_id = ?) FROM tasks "
                "WHERE id = ?",
                (dep, dep),
            )
            if not found:
                raise UserError(f"{kind}:{dep}: there is no task {dep}")
            if found[0][1]:  # a template never ends: its dependants would wait for ever
                raise UserError(
                    f"{kind}:{dep}: task {dep} is a recurring series, which never ends; "
                    "depend on one of its runs ('focusq ls --recurring' shows its last)"
                )
            if not new:
                loop = yield (
                    """
                    WITH RECURSIVE up(id) AS (
                        SELECT ? UNION SELECT d.dep_id FROM deps d JOIN up ON d.task_id = up.id
                    )
                    SELECT 1 FROM up WHERE id = ? LIMIT 1
                    """,
                    (dep, task_id),
                )
                if loop:
                    raise UserError(
                        f"{kind}:{dep} would make a dependency cycle: task {dep} already "
                        f"waits on task {task_id}"
                    )
            yield (
                "INSERT OR REPLACE INTO deps (task_id, dep_id, kind) VALUES (?, ?, ?)",
                (task_id, dep, kind.value),
            )


_EDITABLE = (TaskStatus.QUEUED, TaskStatus.WAITING, TaskStatus.HELD, TaskStatus.RECURRING)


def edit_task(task_id: int, draft: TaskDraft, now: float) -> Op[Record]:
    """Apply the fields given in ``draft`` to an open task; return the new record."""
    yield WRITE
    old = yield from require(task_id)
    refuse_nul_in(draft)
    from focusq.store.ops import recurring

    series = yield from recurring.check_edit(old, draft)
    if old["status"] not in _EDITABLE:
        raise UserError(
            f"task {task_id} is {old['status']}; only queued, waiting or held tasks can be edited"
        )
    kind = draft.kind or Kind(old["kind"])
    command = draft.command if draft.command is not None else old["command"]
    if kind is Kind.MECHANICAL and command is None:
        raise UserError(f"task {task_id} has no command to run: give one after '--'")
    if kind is Kind.CREATIVE and draft.command is not None:
        raise UserError(f"task {task_id} is creative and takes no command; add ~mech to change it")
    if kind is Kind.CREATIVE and (draft.cwd is not None or draft.env):
        raise UserError(f"task {task_id} is creative: only a job has a folder and variables")
    if kind is Kind.CREATIVE:
        command = None
    tags = [t for t in _unique([*old["tags"], *draft.tags]) if t not in draft.untags]
    unset = set(draft.unset_env)
    changes: dict[str, Any] = {
        "title": draft.title or old["title"],
        "kind": kind.value,
        "priority": draft.priority.value if draft.priority else old["priority"],
        "tags": json.dumps(tags),
        "project": draft.project if draft.project is not None else old["project"],
        "command": json.dumps(command) if command is not None else None,
        "cwd": draft.cwd if draft.cwd is not None else old["cwd"],
        "env": json.dumps(
            {k: v for k, v in {**old["env"], **(draft.env or {})}.items() if k not in unset}
        ),
        "locks": json.dumps(_unique(draft.locks) if draft.locks is not None else old["locks"]),
        "estimate": _given(draft.estimate, old["estimate"]),
        "timeout": _given(draft.timeout, old["timeout"]),
        "retries": _given(draft.retries, old["retries"]),
        "grp": _given(draft.group, old["group"]),
        "gate": _given(draft.gate, old["gate"]),
        "not_before": _given(draft.not_before, old["at"]),
        "updated_at": now,
    }
    # Gated now, as if it had been added so: it waits for approval (held stays held).
    gated = draft.gate is not None and not old["gate"] and old["status"] == TaskStatus.QUEUED
    if gated:
        changes["status"] = TaskStatus.WAITING.value
    if draft.executor is not None:
        changes["executor"] = None if draft.executor == "local" else draft.executor
    if draft.resources is not None or draft.hosts is not None:
        changes["placement"] = placement_json(draft.resources, draft.hosts)
    if kind is Kind.CREATIVE:
        changes["cwd"] = None
    if unset:
        rows = yield (
            "SELECT e.body FROM tasks t JOIN environments e ON e.id = t.environ_id WHERE t.id = ?",
            (task_id,),
        )
        if rows:
            kept = {k: v for k, v in json.loads(rows[0][0]).items() if k not in unset}
            changes["environ_id"] = yield from _environment_id(kept)
    assignments = ", ".join(f"{column} = ?" for column in changes)
    updated = yield (
        f"UPDATE tasks SET {assignments} WHERE id = ? AND status = ? RETURNING id",
        (*changes.values(), task_id, old["status"]),
    )
    if not updated:  # pragma: no cover - the write lock makes this unreachable
        raise UserError(f"task {task_id} changed while editing; try again")
    yield from _set_deps(task_id, draft, new=False)
    if series is not None:
        yield from recurring.edited(task_id, series, draft, now)
    if gated:
        note = f"#{task_id} {changes['title']} waits for your approval"
        yield from interruption(note, now, "gate", task_id, urgent=False)
    new = yield from require(task_id)
    diff = {k: new[k] for k in new if new[k] != old[k] and k != "updated_at"}
    yield from event(task_id, EventKind.EDITED, diff, now)
    return new


def _given(value: T | None, old: Any) -> Any:
    return old if value is None else value


def add_note(task_id: int, text: str, now: float) -> Op[Record]:
    """Append a line to a task's note."""
    yield WRITE
    text = text.strip()
    if not text:
        raise UserError("the note is empty: focusq note ID 'what you want to remember'")
    old = yield from require(task_id)
    note = f"{old['note']}\n{text}" if old["note"] else text
    yield ("UPDATE tasks SET note = ?, updated_at = ? WHERE id = ?", (note, now, task_id))
    yield from event(task_id, EventKind.NOTED, {"text": text}, now)
    return (yield from require(task_id))


def transition(
    task_id: int,
    allowed: Iterable[TaskStatus],
    to: TaskStatus,
    now: float,
    *,
    result: str | None = None,
    reason: str | None = None,
) -> Op[Record]:
    """Move a task from one of ``allowed`` to ``to``: a guarded update plus one event."""
    yield WRITE
    old = yield from require(task_id)
    allowed = frozenset(allowed)
    if old["status"] not in allowed:
        raise UserError(_refusal(task_id, old["status"], to))
    yield from move(task_id, old["status"], to, now, result=result, reason=reason)
    return (yield from require(task_id))


def _refusal(task_id: int, status: str, to: TaskStatus) -> str:
    if status in ("running", "paused"):
        return f"task {task_id} is {status}; 'focusq cancel {task_id}' stops it first"
    if status == to:
        return f"task {task_id} is already {status}"
    return f"task {task_id} is {status} and cannot become {to}"


def get_task(task_id: int) -> Op[Record]:
    """One task's record; :class:`UserError` when there is no such task."""
    yield READ
    return (yield from require(task_id))


def where_of(
    statuses: Iterable[str] | None,
    kind: str | None,
    tag: str | None,
    archived: bool | None = False,
) -> tuple[str, list[Any]]:
    """The WHERE of a listing. Archived tasks (finished, ``focusq clean``) are left out, or
    with ``archived`` are all it holds (``None``: no matter); open tasks are never archived."""
    where, params = [], []
    wanted = None if statuses is None else sorted(set(statuses))
    if archived:
        where.append("t.archived_at IS NOT NULL")
    elif archived is not None and (wanted is None or not set(wanted) <= ACTIVE):
        where.append("t.archived_at IS NULL")
    if wanted is not None:
        where.append(f"t.status IN ({','.join('?' * len(wanted))})")
        params.extend(wanted)
    if kind:
        where.append("t.kind = ?")
        params.append(kind)
    if tag:
        where.append("EXISTS (SELECT 1 FROM json_each(t.tags) WHERE value = ?)")
        params.append(tag)
    return ("WHERE " + " AND ".join(where) if where else ""), params


def list_tasks(
    statuses: Iterable[str] | None = None,
    *,
    kind: str | None = None,
    tag: str | None = None,
    limit: int | None = None,
    ended_after: float | None = None,
    archived: bool = False,
) -> Op[list[Record]]:
    """Tasks in scheduler order (priority, then age); ``statuses`` ``None`` means all but the
    archived (``archived``: only those)."""
    yield READ
    where, params = where_of(statuses, kind, tag, archived)
    if ended_after is not None:
        where = (where + " AND " if where else "WHERE ") + "t.ended_at >= ?"
        params.append(ended_after)
    sql = f"SELECT {TASK_COLUMNS} FROM tasks t {where} ORDER BY t.prio_rank DESC, t.id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    rows = yield (sql, params)
    return [task_record(row) for row in rows]


def status_counts() -> Op[dict[str, dict[str, int]]]:
    """Open tasks counted by kind and status: ``{"mechanical": {"running": 2}}``."""
    yield READ
    rows = yield (
        f"""
        SELECT kind, status, count(*) FROM tasks
        WHERE status IN ({",".join("?" * len(ACTIVE))}) GROUP BY kind, status
        """,
        sorted(ACTIVE),
    )
    counts: dict[str, dict[str, int]] = {k.value: {} for k in Kind}
    for kind, status, n in rows:
        counts[kind][status] = n
    return counts


def events_since(after_id: int, limit: int = 1000) -> Op[list[Record]]:
    """Events with an id above ``after_id``, oldest first."""
    yield READ
    rows = yield (
        "SELECT id, at, task_id, kind, payload FROM events WHERE id > ? ORDER BY id LIMIT ?",
        (after_id, limit),
    )
    return [
        {
            "id": r["id"],
            "at": r["at"],
            "task_id": r["task_id"],
            "kind": r["kind"],
            "payload": json.loads(r["payload"]),
        }
        for r in rows
    ]


def last_event_id() -> Op[int]:
    """The newest event's id (0 for an empty log)."""
    yield READ
    return (yield from newest_event())


def select(
    statuses: Iterable[str],
    *,
    group: str | None = None,
    tag: str | None = None,
    kind: str | None = None,
) -> Op[list[int]]:
    """Ids of the tasks in ``statuses`` (and ``group``, ``tag``, ``kind`` if given), in id
    order: what a command acting on many (``cancel --group build``) acts on."""
    yield READ
    where, params = where_of(statuses, kind, tag)
    if group is not None:
        where += " AND t.grp = ?"
        params.append(group)
    rows = yield (f"SELECT t.id FROM tasks t {where} ORDER BY t.id", params)
    return [int(r[0]) for r in rows]


FINISHED = ("done", "failed", "cancelled", "skipped", "dropped")


def archive(
    before: float, now: float, *, group: str | None = None
) -> Op[list[tuple[int, list[str]]]]:
    """Archive the tasks that finished before ``before`` (of ``group``): they leave the
    lists; their events stay, so every review is unchanged. Returns each one's id and the
    log files of its runs."""
    yield WRITE
    where = f"status IN ({','.join('?' * len(FINISHED))}) AND archived_at IS NULL AND ended_at < ?"
    params: list[Any] = [*FINISHED, before]
    if group is not None:
        where += " AND grp = ?"
        params.append(group)
    rows = yield (f"UPDATE tasks SET archived_at = ? WHERE {where} RETURNING id", [now, *params])
    ids = sorted(int(r[0]) for r in rows)
    logs: dict[int, list[str]] = {i: [] for i in ids}
    for chunk, marks in in_chunks(ids):
        found = yield (
            f"SELECT task_id, log_path FROM runs WHERE task_id IN ({marks}) ORDER BY id",
            chunk,
        )
        for task_id, path in found:
            logs[task_id].append(path)
    if ids:
        yield from event(None, EventKind.ARCHIVED, {"count": len(ids), "before": before}, now)
    return [(i, logs[i]) for i in ids]


def archived_logs(before: float) -> Op[list[str]]:
    """Log files of archived tasks that ended before ``before``: old enough to delete."""
    yield READ
    rows = yield (
        "SELECT r.log_path FROM runs r JOIN tasks t ON t.id = r.task_id "
        "WHERE t.archived_at IS NOT NULL AND t.ended_at < ?",
        (before,),
    )
    return [str(r[0]) for r in rows]
