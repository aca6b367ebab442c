"""Every query focusq runs, written once as sans-I/O operations.

An operation is a generator that yields ``(sql, params)`` and is sent back the
result rows; its return value is the operation's result. :class:`SyncStore`
(quick CLI commands, no event loop) and the aiosqlite :class:`Store` (worker, TUI)
both drive the same operations, so no SQL is written twice. A write operation first
yields :data:`WRITE` (``BEGIN IMMEDIATE``) and the driver commits when it returns: a
guarded update plus its event row commit together or not at all.
"""

from __future__ import annotations

import json

from focusq.errors import DatabaseError, UserError
from focusq.states import ACTIVE, DepKind, EventKind, Kind, TaskStatus
from focusq.store.schema import APPLICATION_ID, LATEST, MIGRATIONS

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the quick CLI path milliseconds; annotations are strings
    from collections.abc import Generator, Iterable, Sequence
    from typing import Any, TypeAlias, TypeVar

    from focusq.quickadd import TaskDraft

    T = TypeVar("T")
    Query: TypeAlias = tuple[str, Sequence[Any]]
    Rows: TypeAlias = list[Any]  # sqlite3.Row: index and name access
    Op: TypeAlias = Generator[Query, Rows, T]
    Record: TypeAlias = dict[str, Any]

WRITE: Query = ("BEGIN IMMEDIATE", ())
"""An operation that writes yields this first: its statements form one write transaction."""
READ: Query = ("BEGIN", ())
"""A read operation yields this first, to see one consistent snapshot."""


# -- opening -------------------------------------------------------------------------------


def prepare(busy_timeout: float) -> Op[None]:
    """Check the file is focusq's (never touching one that is not), then migrate it forward."""
    yield (f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}", ())
    app = (yield ("PRAGMA application_id", ()))[0][0]
    version = (yield ("PRAGMA user_version", ()))[0][0]
    if app != APPLICATION_ID:
        tables = (yield ("SELECT count(*) FROM sqlite_master", ()))[0][0]
        if app != 0 or version != 0 or tables != 0:
            raise DatabaseError("it is not a focusq database; set FOCUSQ_HOME to another folder")
    if version > LATEST:
        raise DatabaseError(
            f"it was written by a newer focusq (schema {version}, this one knows {LATEST}); "
            "upgrade focusq"
        )
    if version < LATEST:
        yield ("PRAGMA journal_mode = WAL", ())
        yield ("BEGIN IMMEDIATE", ())
        # Another process may have migrated while we waited for the lock.
        version = (yield ("PRAGMA user_version", ()))[0][0]
        for number in range(version + 1, LATEST + 1):
            for statement in _statements(MIGRATIONS[number - 1]):
                yield (statement, ())
            yield (f"PRAGMA user_version = {number}", ())
        yield (f"PRAGMA application_id = {APPLICATION_ID}", ())
        yield ("COMMIT", ())
    yield ("PRAGMA foreign_keys = ON", ())
    yield ("PRAGMA synchronous = NORMAL", ())


def _statements(script: str) -> Iterable[str]:
    return (s.strip() for s in script.split(";") if s.strip())


# -- records --------------------------------------------------------------------------------

_TASK_COLUMNS = """
    t.*,
    (SELECT json_group_array(dep_id) FROM deps WHERE task_id = t.id AND kind = 'after')
        AS after_ids,
    (SELECT json_group_array(dep_id) FROM deps WHERE task_id = t.id AND kind = 'afterany')
        AS afterany_ids
"""


def task_record(row: Any) -> Record:
    """A task row as the stable public record (the ``--json`` fields)."""
    command = row["command"]
    return {
        "id": row["id"],
        "title": row["title"],
        "kind": row["kind"],
        "status": row["status"],
        "priority": row["priority"],
        "tags": json.loads(row["tags"]),
        "project": row["project"],
        "command": json.loads(command) if command is not None else None,
        "cwd": row["cwd"],
        "env": json.loads(row["env"]),
        "after": sorted(json.loads(row["after_ids"])),
        "afterany": sorted(json.loads(row["afterany_ids"])),
        "locks": json.loads(row["locks"]),
        "estimate": row["estimate"],
        "timeout": row["timeout"],
        "retries": row["retries"],
        "group": row["grp"],
        "gate": row["gate"],
        "at": row["not_before"],
        "note": row["note"],
        "attempts": row["attempts"],
        "result": row["result"],
        "exit_code": row["exit_code"],
        "reason": row["reason"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "started_at": row["started_at"],
        "ended_at": row["ended_at"],
    }


def _event(task_id: int | None, kind: str, payload: dict[str, Any], now: float) -> Op[int]:
    rows = yield (
        "INSERT INTO events (at, task_id, kind, payload) VALUES (?, ?, ?, ?) RETURNING id",
        (now, task_id, kind, json.dumps(payload)),
    )
    return int(rows[0][0])


def _require(task_id: int) -> Op[Record]:
    rows = yield (f"SELECT {_TASK_COLUMNS} FROM tasks t WHERE t.id = ?", (task_id,))
    if not rows:
        raise UserError(f"there is no task {task_id}; 'focusq ls --all' lists them")
    return task_record(rows[0])


# -- adding and editing ---------------------------------------------------------------------


def add_task(draft: TaskDraft, now: float) -> Op[int]:
    """Insert the task in ``draft`` with its dependencies and an ``added`` event; return its id."""
    yield WRITE
    return (yield from _insert(draft, now))


def add_tasks(drafts: Sequence[TaskDraft], now: float) -> Op[list[int]]:
    """Insert several tasks in one transaction: all of them or none."""
    yield WRITE
    ids = []
    for draft in drafts:
        ids.append((yield from _insert(draft, now)))
    return ids


def _insert(draft: TaskDraft, now: float) -> Op[int]:
    assert draft.title and draft.kind
    rows = yield (
        """
        INSERT INTO tasks (title, kind, status, priority, tags, project, command, cwd, env,
                           locks, estimate, timeout, retries, grp, gate, not_before,
                           created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        RETURNING id
        """,
        (
            draft.title,
            draft.kind.value,
            (TaskStatus.WAITING if draft.gate else TaskStatus.QUEUED).value,
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
        ),
    )
    task_id = int(rows[0][0])
    yield from _set_deps(task_id, draft, new=True)
    yield from _event(task_id, EventKind.ADDED, {"title": draft.title, "kind": draft.kind}, now)
    return task_id


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _set_deps(task_id: int, draft: TaskDraft, *, new: bool) -> Op[None]:
    for kind, ids in ((DepKind.AFTER, draft.after), (DepKind.AFTERANY, draft.afterany)):
        if ids is None:
            continue
        if not new:
            yield ("DELETE FROM deps WHERE task_id = ? AND kind = ?", (task_id, kind.value))
        for dep in dict.fromkeys(ids):
            if dep == task_id:
                raise UserError(f"{kind}:{dep}: a task cannot wait on itself")
            found = yield ("SELECT id FROM tasks WHERE id = ?", (dep,))
            if not found:
                raise UserError(f"{kind}:{dep}: there is no task {dep}")
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


_EDITABLE = (TaskStatus.QUEUED, TaskStatus.WAITING, TaskStatus.HELD)


def edit_task(task_id: int, draft: TaskDraft, now: float) -> Op[Record]:
    """Apply the fields given in ``draft`` to an open task; return the new record."""
    yield WRITE
    old = yield from _require(task_id)
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
    if kind is Kind.CREATIVE:
        command = None
    tags = [t for t in _unique([*old["tags"], *draft.tags]) if t not in draft.untags]
    changes: dict[str, Any] = {
        "title": draft.title or old["title"],
        "kind": kind.value,
        "priority": draft.priority.value if draft.priority else old["priority"],
        "tags": json.dumps(tags),
        "project": draft.project if draft.project is not None else old["project"],
        "command": json.dumps(command) if command is not None else None,
        "cwd": draft.cwd if draft.command is not None else old["cwd"],
        "env": json.dumps(draft.env if draft.env is not None else old["env"]),
        "locks": json.dumps(_unique(draft.locks) if draft.locks is not None else old["locks"]),
        "estimate": _given(draft.estimate, old["estimate"]),
        "timeout": _given(draft.timeout, old["timeout"]),
        "retries": _given(draft.retries, old["retries"]),
        "grp": _given(draft.group, old["group"]),
        "gate": _given(draft.gate, old["gate"]),
        "not_before": _given(draft.not_before, old["at"]),
        "updated_at": now,
    }
    if kind is Kind.CREATIVE:
        changes["cwd"] = None
    assignments = ", ".join(f"{column} = ?" for column in changes)
    updated = yield (
        f"UPDATE tasks SET {assignments} WHERE id = ? AND status = ? RETURNING id",
        (*changes.values(), task_id, old["status"]),
    )
    if not updated:  # pragma: no cover - the write lock makes this unreachable
        raise UserError(f"task {task_id} changed while editing; try again")
    yield from _set_deps(task_id, draft, new=False)
    new = yield from _require(task_id)
    diff = {k: new[k] for k in new if new[k] != old[k] and k != "updated_at"}
    yield from _event(task_id, EventKind.EDITED, diff, now)
    return new


def _given(value: T | None, old: Any) -> Any:
    return old if value is None else value


def add_note(task_id: int, text: str, now: float) -> Op[Record]:
    """Append a line to a task's note."""
    yield WRITE
    text = text.strip()
    if not text:
        raise UserError("the note is empty: focusq note ID 'what you want to remember'")
    old = yield from _require(task_id)
    note = f"{old['note']}\n{text}" if old["note"] else text
    yield ("UPDATE tasks SET note = ?, updated_at = ? WHERE id = ?", (note, now, task_id))
    yield from _event(task_id, EventKind.NOTED, {"text": text}, now)
    return (yield from _require(task_id))


# -- state changes --------------------------------------------------------------------------


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
    old = yield from _require(task_id)
    allowed = frozenset(allowed)
    if old["status"] not in allowed:
        raise UserError(_refusal(task_id, old["status"], to))
    ended = now if to not in ACTIVE else None
    updated = yield (
        """
        UPDATE tasks SET status = ?, updated_at = ?, ended_at = coalesce(?, ended_at),
                         result = coalesce(?, result), reason = coalesce(?, reason)
        WHERE id = ? AND status = ? RETURNING id
        """,
        (to.value, now, ended, result, reason, task_id, old["status"]),
    )
    if not updated:  # pragma: no cover - the write lock makes this unreachable
        raise UserError(f"task {task_id} changed meanwhile; try again")
    payload = {"from": old["status"], "to": to.value}
    if result:
        payload["result"] = result
    if reason:
        payload["reason"] = reason
    yield from _event(task_id, EventKind.STATUS, payload, now)
    return (yield from _require(task_id))


def _refusal(task_id: int, status: str, to: TaskStatus) -> str:
    if status in ("running", "paused"):
        return f"task {task_id} is {status}; 'focusq cancel {task_id}' stops it first"
    if status == to:
        return f"task {task_id} is already {status}"
    return f"task {task_id} is {status} and cannot become {to}"


# -- reading --------------------------------------------------------------------------------


def get_task(task_id: int) -> Op[Record]:
    """One task's record; :class:`UserError` when there is no such task."""
    yield READ
    return (yield from _require(task_id))


def list_tasks(
    statuses: Iterable[str] | None = None,
    *,
    kind: str | None = None,
    tag: str | None = None,
    limit: int | None = None,
) -> Op[list[Record]]:
    """Tasks in scheduler order (priority, then age); ``statuses`` ``None`` means all."""
    yield READ
    where, params = [], []
    if statuses is not None:
        wanted = sorted(set(statuses))
        where.append(f"t.status IN ({','.join('?' * len(wanted))})")
        params.extend(wanted)
    if kind:
        where.append("t.kind = ?")
        params.append(kind)
    if tag:
        where.append("EXISTS (SELECT 1 FROM json_each(t.tags) WHERE value = ?)")
        params.append(tag)
    sql = f"SELECT {_TASK_COLUMNS} FROM tasks t"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY t.prio_rank DESC, t.id"
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
