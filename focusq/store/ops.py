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
from focusq.store.schema import APPLICATION_ID, LATEST, MIGRATIONS, OPEN_STATUSES_SQL

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the quick CLI path milliseconds; annotations are strings
    from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
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


_IN_CHUNK = 500
"""Ids per ``IN (...)``: well under SQLite's limit on bound parameters."""


def _in_chunks(ids: Sequence[T]) -> Iterator[tuple[list[T], str]]:
    """``ids`` in slices for ``IN (...)``, each with its ``?,?,...`` placeholders."""
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = list(ids[start : start + _IN_CHUNK])
        yield chunk, ",".join("?" * len(chunk))


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
    """Insert several tasks in one transaction: all of them or none.

    A negative id in a draft's ``after``/``afterany`` names an earlier draft of the same
    batch: ``-1`` is the first.
    """
    yield WRITE
    ids: list[int] = []
    for draft in drafts:
        ids.append((yield from _insert(draft, now, ids)))
    return ids


def _insert(draft: TaskDraft, now: float, batch: Sequence[int] = ()) -> Op[int]:
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
    yield from _set_deps(task_id, draft, new=True, batch=batch)
    yield from _event(task_id, EventKind.ADDED, {"title": draft.title, "kind": draft.kind}, now)
    if draft.gate:
        note = f"#{task_id} {draft.title} waits for your approval"
        yield from _interruption(note, now, "gate", task_id, urgent=False)
    elif not batch and (yield ("SELECT 1 FROM focus_sessions WHERE ended_at IS NULL", ())):
        yield from _interruption(f"added #{task_id} {draft.title}", now, "quickadd", task_id)
    return task_id


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
    yield from _move(task_id, old["status"], to, now, result=result, reason=reason)
    return (yield from _require(task_id))


def _move(
    task_id: int,
    frm: str,
    to: TaskStatus,
    now: float,
    *,
    result: str | None = None,
    reason: str | None = None,
) -> Op[None]:
    """Part of a write transaction: the guarded update from ``frm`` to ``to`` and its event."""
    ended = now if to not in ACTIVE else None
    updated = yield (
        """
        UPDATE tasks SET status = ?, updated_at = ?, ended_at = coalesce(?, ended_at),
                         result = coalesce(?, result), reason = coalesce(?, reason),
                         intent = NULL
        WHERE id = ? AND status = ? RETURNING id
        """,
        (to.value, now, ended, result, reason, task_id, frm),
    )
    if not updated:  # pragma: no cover - the write lock makes this unreachable
        raise UserError(f"task {task_id} changed meanwhile; try again")
    payload = {"from": frm, "to": to.value}
    if result:
        payload["result"] = result
    if reason:
        payload["reason"] = reason
    yield from _event(task_id, EventKind.STATUS, payload, now)


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


_UNLIMITED = 1 << 20
"""A width that means "do not cut" (output that is not a terminal)."""


def task_table(
    statuses: Iterable[str] | None = None,
    *,
    kind: str | None = None,
    tag: str | None = None,
    width: int = 100,
) -> Op[str]:
    """The ``focusq ls`` table (header first), in the order tasks will be taken; "" if empty.

    SQLite lays out each line (id, kind, priority, status, title with ``+tags`` and
    ``project:``, cut to ``width``): a listing of ten thousand open tasks stays instant.
    """
    yield READ
    hint = ""
    if statuses is not None and set(statuses) == ACTIVE:
        # The partial index holds open tasks in priority order, so the common listing needs
        # no sort; SQLite only uses it when the query repeats its condition word for word.
        hint = "INDEXED BY tasks_open_in_order"
        where, params = _filters(None, kind, tag)
        where = (where + " AND " if where else "WHERE ") + f"t.status IN {OPEN_STATUSES_SQL}"
    else:
        where, params = _filters(statuses, kind, tag)
    top = (yield ("SELECT coalesce(max(id), 0) FROM tasks", ()))[0][0]
    id_w = max(2, len(str(top)))
    header = f"{'ID':>{id_w}}  KIND  P  {'STATUS':<9}  "
    room = max(20, width - len(header))
    text = """
        t.title
        || CASE WHEN t.tags = '[]' THEN '' ELSE
             (SELECT ' ' || group_concat('+' || value, ' ') FROM json_each(t.tags))
           END
        || coalesce(' project:' || t.project, '')
    """
    if width < _UNLIMITED:  # a terminal: cut each title to fit, with an ellipsis
        cut = f"substr({text}, 1, {room - 1}) || '…'"
        text = f"CASE WHEN length({text}) > {room} THEN {cut} ELSE {text} END"
    # One string for the whole table: no Python object per row. The aggregate takes the
    # rows in the subquery's order.
    rows = yield (
        f"""
        SELECT group_concat(line, char(10)) FROM (
            SELECT printf('%{id_w}d  %-4s  %s  %-9s  %s', t.id,
                          CASE t.kind WHEN 'mechanical' THEN 'job' ELSE 'make' END,
                          t.priority, t.status, {text}) AS line
            FROM tasks t {hint} {where} ORDER BY t.prio_rank DESC, t.id
        )
        """,
        params,
    )
    body = rows[0][0]
    return f"{header}TITLE\n{body}\n" if body else ""


def _filters(
    statuses: Iterable[str] | None, kind: str | None, tag: str | None
) -> tuple[str, list[Any]]:
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
    return ("WHERE " + " AND ".join(where) if where else ""), params


def list_tasks(
    statuses: Iterable[str] | None = None,
    *,
    kind: str | None = None,
    tag: str | None = None,
    limit: int | None = None,
    ended_after: float | None = None,
) -> Op[list[Record]]:
    """Tasks in scheduler order (priority, then age); ``statuses`` ``None`` means all."""
    yield READ
    where, params = _filters(statuses, kind, tag)
    if ended_after is not None:
        where = (where + " AND " if where else "WHERE ") + "t.ended_at >= ?"
        params.append(ended_after)
    sql = f"SELECT {_TASK_COLUMNS} FROM tasks t {where} ORDER BY t.prio_rank DESC, t.id"
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


# -- the worker -----------------------------------------------------------------------------

_OPEN_JOB = ("queued", "waiting", "held", "running", "paused")
_JOB_SELECT = f"""
    SELECT {_TASK_COLUMNS},
           r.id AS run_id, r.attempt AS run_attempt, r.pid AS run_pid,
           r.pgid AS run_pgid, r.started_at AS run_started_at, r.log_path AS run_log
    FROM tasks t
    LEFT JOIN runs r ON r.task_id = t.id AND r.ended_at IS NULL
"""
"""A task with its unfinished run (if any); callers add the WHERE."""


def open_jobs() -> Op[list[Record]]:
    """Every open mechanical task, with its current run when it has one."""
    yield READ
    rows = yield (
        f"""{_JOB_SELECT}
        WHERE t.kind = 'mechanical' AND t.status IN ({",".join("?" * len(_OPEN_JOB))})
        ORDER BY t.id
        """,
        _OPEN_JOB,
    )
    return [_job_record(row) for row in rows]


def jobs_by_id(ids: Sequence[int]) -> Op[list[Record]]:
    """The tasks in ``ids`` (any kind, any state), with the current run of each."""
    yield READ
    return (yield from _jobs(ids))


def _jobs(ids: Sequence[int]) -> Op[list[Record]]:
    out: list[Record] = []
    for chunk, marks in _in_chunks(ids):
        rows = yield (f"{_JOB_SELECT} WHERE t.id IN ({marks})", chunk)
        out.extend(_job_record(row) for row in rows)
    return out


def _job_record(row: Any) -> Record:
    record = task_record(row)
    record["intent"] = row["intent"]
    record["budget_from"] = row["budget_from"]
    record["attempts_left"] = row["retries"] + 1 - (row["attempts"] - row["budget_from"])
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
        }
    )
    return record


def last_event_id() -> Op[int]:
    """The newest event's id (0 for an empty log)."""
    yield READ
    rows = yield ("SELECT coalesce(max(id), 0) FROM events", ())
    return int(rows[0][0])


def changes_since(after_id: int) -> Op[tuple[int, list[Record], dict[int, str]]]:
    """What changed after event ``after_id``, in one snapshot.

    Returns the newest event id, the records (with current runs) of the tasks those
    events touched, and the states of every task their dependencies name.
    """
    yield READ
    rows = yield ("SELECT id, task_id FROM events WHERE id > ? ORDER BY id", (after_id,))
    if not rows:
        return after_id, [], {}
    ids = sorted({r["task_id"] for r in rows if r["task_id"] is not None})
    records = (yield from _jobs(ids)) if ids else []
    deps = sorted({d for r in records for d in (*r["after"], *r["afterany"])})
    statuses: dict[int, str] = {}
    for chunk, marks in _in_chunks(deps):
        found = yield (f"SELECT id, status FROM tasks WHERE id IN ({marks})", chunk)
        statuses.update((r[0], r[1]) for r in found)
    return int(rows[-1]["id"]), records, statuses


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


def claim(task_id: int, now: float, log_dir: str) -> Op[Record | None]:
    """Part of a write transaction: queued -> running with a new Run; ``None`` if not queued."""
    rows = yield (
        """
        UPDATE tasks SET status = 'running', attempts = attempts + 1, started_at = ?,
                         updated_at = ?, intent = NULL
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
        INSERT INTO runs (task_id, attempt, started_at, log_path) VALUES (?, ?, ?, ?)
        RETURNING id
        """,
        (task_id, attempt, now, log_path),
    )
    payload = {"from": "queued", "to": "running", "attempt": attempt}
    yield from _event(task_id, EventKind.STATUS, payload, now)
    return {"run_id": int(run[0][0]), "attempt": attempt, "log_path": log_path}


def record_spawn(run_id: int, pid: int, pgid: int) -> Op[None]:
    """Part of a write transaction: the process a run started."""
    yield ("UPDATE runs SET pid = ?, pgid = ? WHERE id = ?", (pid, pgid, run_id))


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
    old = yield ("SELECT status FROM tasks WHERE id = ?", (task_id,))
    if not old or old[0][0] not in ("running", "paused"):
        return False
    ended = None if status in ACTIVE else now
    yield (
        """
        UPDATE tasks SET status = ?, result = ?, exit_code = ?, reason = ?, intent = NULL,
                         updated_at = ?, ended_at = ?, not_before = coalesce(?, not_before)
        WHERE id = ? AND status = ?
        """,
        (status.value, result, exit_code, reason, now, ended, not_before, task_id, old[0][0]),
    )
    payload: dict[str, Any] = {"from": old[0][0], "to": status.value, "result": result}
    if exit_code is not None:
        payload["exit_code"] = exit_code
    if reason:
        payload["reason"] = reason
    yield from _event(task_id, EventKind.STATUS, payload, now)
    if status not in ACTIVE:
        title, tags = (yield ("SELECT title, tags FROM tasks WHERE id = ?", (task_id,)))[0]
        note = f"#{task_id} {title}: {result}" + (
            f" (exit {exit_code})" if exit_code not in (None, 0) else ""
        )
        # A failure of a task tagged +urgent breaks through focus and async time.
        urgent = result != "ok" and "urgent" in json.loads(tags)
        yield from _interruption(note, now, "job", task_id, urgent=urgent)
    return True


def end_open_task(
    task_id: int, to: TaskStatus, now: float, *, result: str, reason: str
) -> Op[bool]:
    """Part of a write transaction: a queued, waiting or held task ends without running."""
    old = yield ("SELECT status FROM tasks WHERE id = ?", (task_id,))
    if not old or old[0][0] not in ("queued", "waiting", "held"):
        return False
    yield from _move(task_id, old[0][0], to, now, result=result, reason=reason)
    return True


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
        yield from _event(task_id, EventKind.STATUS, {"from": frm, "to": to}, now)
    return bool(rows)


def clear_intent(task_id: int) -> Op[None]:
    """Part of a write transaction: an intent that no longer applies."""
    yield ("UPDATE tasks SET intent = NULL WHERE id = ?", (task_id,))


def apply(steps: Sequence[Op[Any]]) -> Op[list[Any]]:
    """Run several worker steps in one write transaction; return each step's result."""
    yield WRITE
    results = []
    for step in steps:
        results.append((yield from step))
    return results


# -- client intents -------------------------------------------------------------------------


def request(task_id: int, action: str, now: float) -> Op[Record]:
    """What ``cancel``/``pause``/``resume``/``hold``/``release``/``approve``/``retry`` do.

    Changes that need no process happen here; a running job gets an intent for the worker.
    """
    yield WRITE
    task = yield from _require(task_id)
    status = task["status"]
    direct = _DIRECT.get((action, status))
    if direct is not None:
        to, result = direct
        ended = now if to not in ACTIVE else None
        # A retry by hand starts a fresh retry budget and clears any backoff.
        not_before = "not_before" if action != "retry" else "NULL"
        budget_from = "budget_from" if action != "retry" else "attempts"
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
                             budget_from = {budget_from}, tags = {tags}
            WHERE id = ? AND status = ?
            """,
            (to.value, result, now, ended, task_id, status),
        )
        payload = {"from": status, "to": to.value, "by": action}
        yield from _event(task_id, EventKind.STATUS, payload, now)
    elif (action, status) in _INTENTS:
        yield ("UPDATE tasks SET intent = ?, updated_at = ? WHERE id = ?", (action, now, task_id))
        yield from _event(task_id, EventKind.INTENT, {"intent": action}, now)
    else:
        raise UserError(_cannot(task_id, action, status, task["kind"]))
    return (yield from _require(task_id))


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
    }
    hint = hints.get(action, f"a {status} task cannot be {action}ed")
    return f"task {task_id} is {status}; {hint}"


# -- the lease ------------------------------------------------------------------------------


def take_lease(holder: Record, now: float, alive: Callable[[Record], bool]) -> Op[Record | None]:
    """Take the worker lease unless a live holder has it; return that holder if so.

    ``alive`` decides whether the recorded holder still runs (pid, boot id, start time).
    """
    yield WRITE
    rows = yield ("SELECT * FROM lease WHERE name = 'worker'", ())
    if rows:
        current = dict(rows[0])
        if current["pid"] != holder["pid"] and alive(current):
            return current
    yield (
        """
        INSERT OR REPLACE INTO lease (name, pid, host, boot_id, proc_start, started_at, heartbeat)
        VALUES ('worker', ?, ?, ?, ?, ?, ?)
        """,
        (holder["pid"], holder["host"], holder["boot_id"], holder["proc_start"], now, now),
    )
    yield from _event(None, EventKind.WORKER, {"event": "started", "pid": holder["pid"]}, now)
    return None


def beat(pid: int, now: float) -> Op[bool]:
    """Refresh the heartbeat; ``False`` if the lease is no longer ours."""
    yield WRITE
    rows = yield (
        "UPDATE lease SET heartbeat = ? WHERE name = 'worker' AND pid = ? RETURNING pid",
        (now, pid),
    )
    return bool(rows)


def drop_lease(pid: int, now: float) -> Op[None]:
    """Give the lease up (the worker is exiting)."""
    yield WRITE
    rows = yield ("DELETE FROM lease WHERE name = 'worker' AND pid = ? RETURNING pid", (pid,))
    if rows:
        yield from _event(None, EventKind.WORKER, {"event": "stopped", "pid": pid}, now)


def lease_holder() -> Op[Record | None]:
    """The recorded worker lease, if any."""
    yield READ
    rows = yield ("SELECT * FROM lease WHERE name = 'worker'", ())
    return dict(rows[0]) if rows else None


def runs_of(task_id: int) -> Op[list[Record]]:
    """Every run of a task, oldest first."""
    yield READ
    rows = yield ("SELECT * FROM runs WHERE task_id = ? ORDER BY attempt", (task_id,))
    return [dict(r) for r in rows]


def runnable_jobs_exist() -> Op[bool]:
    """Whether a worker has anything to do: queued, running or paused mechanical work."""
    yield READ
    rows = yield (
        """
        SELECT 1 FROM tasks WHERE kind = 'mechanical'
        AND status IN ('queued', 'running', 'paused') LIMIT 1
        """,
        (),
    )
    return bool(rows)


def lock_holders(keys: Sequence[str], exclude: int) -> Op[list[Record]]:
    """Open tasks other than ``exclude`` holding any of ``keys``: ``{id, title, key}``."""
    yield READ
    if not keys:
        return []
    rows = yield (
        f"""
        SELECT t.id, t.title, l.value AS key FROM tasks t, json_each(t.locks) l
        WHERE t.status IN ({",".join("?" * len(_OPEN_JOB))}) AND t.id <> ?
          AND l.value IN ({",".join("?" * len(keys))})
        ORDER BY t.id
        """,
        (*_OPEN_JOB, exclude, *keys),
    )
    return [dict(r) for r in rows]


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


# -- the focus slot -------------------------------------------------------------------------

_FOCUS_COLUMNS = """
    f.id, f.task_id, f.started_at, f.ended_at, f.paused_at, f.paused_seconds,
    f.planned_minutes, f.outcome, t.title
"""


def current_focus() -> Op[Record | None]:
    """The open focus session with its task's title, if any."""
    yield READ
    return (yield from _open_focus())


def _open_focus() -> Op[Record | None]:
    rows = yield (
        f"SELECT {_FOCUS_COLUMNS} FROM focus_sessions f JOIN tasks t ON t.id = f.task_id "
        "WHERE f.ended_at IS NULL",
        (),
    )
    return dict(rows[0]) if rows else None


def start_focus(task_id: int, now: float, planned_minutes: int, *, switch: bool) -> Op[Record]:
    """Put a creative task in the focus slot; with ``switch``, end the one there first.

    Without ``switch`` an occupied slot is an error naming what is in focus, so of two
    starts racing from two shells one wins and the other is told.
    """
    yield WRITE
    task = yield from _require(task_id)
    if task["kind"] != "creative":
        raise UserError(f"task {task_id} is a job: only creative tasks take the focus slot")
    if task["status"] not in ("queued", "held", "waiting"):
        raise UserError(f"task {task_id} is {task['status']}; focus on an open task")
    current = yield from _open_focus()
    if current is not None:
        if current["task_id"] == task_id:
            raise UserError(f"task {task_id} is already in focus")
        if not switch:
            raise UserError(
                f"#{current['task_id']} {current['title']} is in focus; "
                f"'focusq focus {task_id} --switch' ends it and focuses #{task_id}"
            )
        yield from _end_focus(current, now, "switched")
    rows = yield (
        "INSERT INTO focus_sessions (task_id, started_at, planned_minutes) VALUES (?, ?, ?) "
        "RETURNING id",
        (task_id, now, planned_minutes),
    )
    payload = {"action": "start", "session": rows[0][0], "planned_minutes": planned_minutes}
    yield from _event(task_id, EventKind.FOCUS, payload, now)
    return (yield from _open_focus())  # type: ignore[return-value]


def stop_focus(now: float, *, done: bool, outcome: str = "stopped") -> Op[Record]:
    """End the focus session (``done`` also marks its task done); return the ended session.

    ``outcome`` says why it ended otherwise: ``stopped``, or ``break`` for a planned break.
    """
    yield WRITE
    current = yield from _open_focus()
    if current is None:
        raise UserError("nothing is in focus; 'focusq focus ID' starts a session")
    yield from _end_focus(current, now, "done" if done else outcome)
    if done:
        old = yield ("SELECT status FROM tasks WHERE id = ?", (current["task_id"],))
        moved = yield (
            "UPDATE tasks SET status = 'done', result = NULL, reason = 'focus session', "
            "updated_at = ?, ended_at = ? WHERE id = ? AND status IN ('queued', 'held', 'waiting') "
            "RETURNING id",
            (now, now, current["task_id"]),
        )
        if moved:  # a task dropped meanwhile stays dropped, and no event says otherwise
            payload = {"from": old[0][0], "to": "done", "by": "focus"}
            yield from _event(current["task_id"], EventKind.STATUS, payload, now)
    return current


def _end_focus(current: Record, now: float, outcome: str) -> Op[None]:
    paused = now - current["paused_at"] if current["paused_at"] else 0.0
    yield (
        "UPDATE focus_sessions SET ended_at = ?, outcome = ?, paused_at = NULL, "
        "paused_seconds = paused_seconds + ? WHERE id = ?",
        (now, outcome, paused, current["id"]),
    )
    focused = now - current["started_at"] - current["paused_seconds"] - paused
    payload = {"action": "end", "outcome": outcome, "focused_seconds": round(focused, 1)}
    yield from _event(current["task_id"], EventKind.FOCUS, payload, now)


def pause_focus(now: float, *, resume: bool) -> Op[Record]:
    """Pause or resume the focus session."""
    yield WRITE
    current = yield from _open_focus()
    if current is None:
        raise UserError("nothing is in focus")
    if resume:
        if not current["paused_at"]:
            raise UserError("the focus session is not paused")
        yield (
            "UPDATE focus_sessions SET paused_at = NULL, paused_seconds = paused_seconds + ? "
            "WHERE id = ?",
            (now - current["paused_at"], current["id"]),
        )
    else:
        if current["paused_at"]:
            raise UserError("the focus session is already paused")
        yield ("UPDATE focus_sessions SET paused_at = ? WHERE id = ?", (now, current["id"]))
    action = "resume" if resume else "pause"
    yield from _event(current["task_id"], EventKind.FOCUS, {"action": action}, now)
    return (yield from _open_focus())  # type: ignore[return-value]


def extend_focus(minutes: int, now: float) -> Op[Record]:
    """Plan ``minutes`` more for the open focus session."""
    yield WRITE
    current = yield from _open_focus()
    if current is None:
        raise UserError("nothing is in focus")
    yield (
        "UPDATE focus_sessions SET planned_minutes = planned_minutes + ? WHERE id = ?",
        (minutes, current["id"]),
    )
    payload = {"action": "extend", "minutes": minutes}
    yield from _event(current["task_id"], EventKind.FOCUS, payload, now)
    return (yield from _open_focus())  # type: ignore[return-value]


def discount_focus(seconds: float, now: float, until: float | None = None) -> Op[None]:
    """Take ``seconds`` of away time, ending at ``until`` (default now), out of the session."""
    yield WRITE
    current = yield from _open_focus()
    if current is None:
        return
    yield (
        "UPDATE focus_sessions SET paused_seconds = paused_seconds + ? WHERE id = ?",
        (seconds, current["id"]),
    )
    payload = {"action": "away", "seconds": round(seconds), "until": until or now}
    yield from _event(current["task_id"], EventKind.FOCUS, payload, now)


# -- interruptions --------------------------------------------------------------------------


def capture(
    text: str, now: float, *, source: str = "note", urgent: bool = False, task_id: int | None = None
) -> Op[int]:
    """Put an interruption in the inbox; return its id."""
    yield WRITE
    text = text.strip()
    if not text:
        raise UserError("the interruption is empty: focusq interrupt 'Sam asked about the invoice'")
    return (yield from _interruption(text, now, source, task_id, urgent=urgent))


def _interruption(
    text: str, now: float, source: str, task_id: int | None, *, urgent: bool = False
) -> Op[int]:
    rows = yield (
        "INSERT INTO interruptions (at, source, task_id, text, urgent) VALUES (?, ?, ?, ?, ?) "
        "RETURNING id",
        (now, source, task_id, text, int(urgent)),
    )
    payload = {"action": "captured", "id": rows[0][0], "urgent": urgent, "source": source}
    yield from _event(task_id, EventKind.INTERRUPTION, payload, now)
    return int(rows[0][0])


def last_focus_end() -> Op[float | None]:
    """When the latest focus session ended, if one has."""
    yield READ
    rows = yield ("SELECT max(ended_at) FROM focus_sessions", ())
    return None if rows[0][0] is None else float(rows[0][0])


def last_delivery() -> Op[float | None]:
    """When the latest batch of interruptions went out, if ever."""
    yield READ
    rows = yield ("SELECT max(delivered_at) FROM interruptions", ())
    return None if rows[0][0] is None else float(rows[0][0])


def inbox(*, held_only: bool = False, since: float = 0.0) -> Op[list[Record]]:
    """Interruptions captured since ``since``, oldest first (only undelivered ones if asked)."""
    yield READ
    where = "WHERE at >= ?" + (" AND delivered_at IS NULL" if held_only else "")
    rows = yield (f"SELECT * FROM interruptions {where} ORDER BY id", (since,))
    return [dict(r) for r in rows]


def deliver(ids: Sequence[int], now: float, reason: str) -> Op[list[int]]:
    """Mark ``ids`` delivered as one batch; return those this call delivered.

    An item another delivery took first is left out, so two deliveries racing (two
    screens, or a refresh that overtook another) never show one item twice.
    """
    yield WRITE
    rows = yield ("SELECT coalesce(max(batch), 0) + 1 FROM interruptions", ())
    batch = int(rows[0][0])
    delivered: list[int] = []
    for chunk, marks in _in_chunks(ids):
        rows = yield (
            f"UPDATE interruptions SET delivered_at = ?, batch = ? "
            f"WHERE delivered_at IS NULL AND id IN ({marks}) RETURNING id",
            (now, batch, *chunk),
        )
        delivered += [int(r[0]) for r in rows]
    if delivered:
        payload = {"action": "delivered", "batch": batch, "count": len(delivered), "reason": reason}
        yield from _event(None, EventKind.INTERRUPTION, payload, now)
    return delivered


def blockers(task_id: int) -> Op[list[Record]]:
    """The unfinished tasks ``task_id`` waits on (its ``after``/``afterany`` not yet ended)."""
    yield READ
    rows = yield (
        f"""
        SELECT t.id, t.title, t.status, t.estimate, r.started_at
        FROM deps d JOIN tasks t ON t.id = d.dep_id
        LEFT JOIN runs r ON r.task_id = t.id AND r.ended_at IS NULL
        WHERE d.task_id = ? AND t.status IN {OPEN_STATUSES_SQL}
        ORDER BY t.id
        """,
        (task_id,),
    )
    return [dict(r) for r in rows]


def record_switch(
    from_id: int, to_id: int, waiting_on: int, now: float, *, accepted: bool, back: bool = False
) -> Op[None]:
    """Write down a switch prompt's answer (``back``: the offer to return), for the review."""
    yield WRITE
    payload = {"to": to_id, "accepted": accepted, "waiting_on": waiting_on, "back": back}
    yield from _event(from_id, EventKind.SWITCH, payload, now)


# -- the review -----------------------------------------------------------------------------

BACKLOG_TAG = "backlog"
"""The tag a task sent to the backlog carries (and loses when it is carried or released)."""

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
    WHERE t.status IN ('waiting', 'held', 'failed') AND t.kind = 'mechanical'
      AND t.created_at < ? AND {_NOT_IN_BACKLOG}
"""
"""What a review asks about: open creative work, and jobs stopped on the user's account
(two queries, so each one walks the (status, kind) index)."""


def day_log(start: float, end: float, day: str) -> Op[Record]:
    """Everything the review of ``day`` (the span ``start``-``end``) is computed from.

    (``CROSS JOIN`` keeps SQLite's planner from scanning all events to find the few runs
    and sessions still going at midnight, and the unary ``+`` from walking every run that
    started before it: they are found by when they ended.)

    The events of the day, plus the earlier events of runs and focus sessions still going
    when it began; the tasks they name and the unfinished ones; the failed runs' last log
    lines, the failure notes ever written about those tasks; the day's answers and close.
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
    events = [
        {"at": r[1], "task_id": r[2], "kind": r[3], "payload": json.loads(r[4])} for r in rows
    ]
    unfinished = yield (_UNFINISHED, (end, end))
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
    # Notes about any task the review shows a failure of or asks about.
    noted = sorted({r["task_id"] for r in failed} | {r[0] for r in unfinished})
    notes: list[Any] = []
    for chunk, marks in _in_chunks(noted):
        notes += yield (
            f"SELECT task_id, at, payload FROM events WHERE task_id IN ({marks}) "
            "AND kind = 'failure_note' ORDER BY id",
            chunk,
        )
    return {
        "events": events,
        "tasks": tasks,
        "unfinished": [r[0] for r in unfinished],
        "answers": {r[0]: r[3] for r in answers if r[1] == "reviewed"},
        "closed_at": next((r[2] for r in answers if r[1] == "day_closed"), None),
        "tails": {(r["task_id"], r["attempt"]): r["tail"] or "" for r in failed},
        "notes": [
            {"task_id": r["task_id"], "at": r["at"], **json.loads(r["payload"])} for r in notes
        ],
    }


def _tasks_by_id(ids: Sequence[int]) -> Op[dict[int, Record]]:
    out: dict[int, Record] = {}
    for chunk, marks in _in_chunks(ids):
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
    task = yield from _require(task_id)
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
        current = yield from _open_focus()
        if current is not None and current["task_id"] == task_id:
            yield from _end_focus(current, now, "stopped")
    if to != status:
        yield from _move(task_id, status, to, now, reason=f"review {day}: {action}")
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
    yield from _event(task_id, EventKind.REVIEWED, {"day": day, "action": action}, now)
    return (yield from _require(task_id))


def note_failure(task_id: int, attempt: int, text: str, now: float) -> Op[None]:
    """Keep what the user wrote about a failed run; later reviews of the task show it."""
    yield WRITE
    yield from _require(task_id)
    text = text.strip()
    if not text:
        raise UserError("the failure note is empty")
    payload = {"attempt": attempt, "text": text}
    yield from _event(task_id, EventKind.FAILURE_NOTE, payload, now)


def close_day(day: str, now: float) -> Op[float]:
    """Close the review of ``day``; return when it was closed (the first close stands)."""
    yield WRITE
    closed = yield from _closed(day)
    if closed is not None:
        return closed
    yield from _event(None, EventKind.DAY_CLOSED, {"day": day}, now)
    return now


def _closed(day: str) -> Op[float | None]:
    rows = yield (
        "SELECT at FROM events WHERE kind IN ('reviewed', 'day_closed') "
        "AND json_extract(payload, '$.day') = ? AND kind = 'day_closed'",
        (day,),
    )
    return float(rows[0][0]) if rows else None
