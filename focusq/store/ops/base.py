"""What every operation shares: the ``Op`` plumbing, opening a file, the task record.

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
from focusq.states import ACTIVE, EventKind, TaskStatus
from focusq.store.schema import APPLICATION_ID, LATEST, MIGRATIONS

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the quick CLI path milliseconds; annotations are strings
    from collections.abc import Generator, Iterable, Iterator, Sequence
    from typing import Any, TypeAlias, TypeVar

    T = TypeVar("T")
    Query: TypeAlias = tuple[str, Sequence[Any]]
    Rows: TypeAlias = list[Any]  # sqlite3.Row: index and name access
    Op: TypeAlias = Generator[Query, Rows, T]
    Record: TypeAlias = dict[str, Any]


WRITE: Query = ("BEGIN IMMEDIATE", ())
"""An operation that writes yields this first: its statements form one write transaction."""


READ: Query = ("BEGIN", ())
"""A read operation yields this first, to see one consistent snapshot."""


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


def _statements(script: str) -> Iterator[str]:
    """The statements of a migration, a trigger's body kept whole."""
    import sqlite3

    statement = ""
    for piece in script.split(";"):
        statement += piece + ";"
        if sqlite3.complete_statement(statement):
            if statement.strip(" \n;"):
                yield statement.strip()
            statement = ""


TASK_COLUMNS = """
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


def newest_event() -> Op[int]:
    """Part of a transaction: the newest event's id (0 for an empty log)."""
    rows = yield ("SELECT coalesce(max(id), 0) FROM events", ())
    return int(rows[0][0])


def event(task_id: int | None, kind: str, payload: dict[str, Any], now: float) -> Op[int]:
    rows = yield (
        "INSERT INTO events (at, task_id, kind, payload) VALUES (?, ?, ?, ?) RETURNING id",
        (now, task_id, kind, json.dumps(payload)),
    )
    return int(rows[0][0])


IN_CHUNK = 500
"""Ids per ``IN (...)``: well under SQLite's limit on bound parameters."""


def in_chunks(ids: Sequence[T]) -> Iterator[tuple[list[T], str]]:
    """``ids`` in slices for ``IN (...)``, each with its ``?,?,...`` placeholders."""
    for start in range(0, len(ids), IN_CHUNK):
        chunk = list(ids[start : start + IN_CHUNK])
        yield chunk, ",".join("?" * len(chunk))


def require(task_id: int) -> Op[Record]:
    rows = yield (f"SELECT {TASK_COLUMNS} FROM tasks t WHERE t.id = ?", (task_id,))
    if not rows:
        raise UserError(f"there is no task {task_id}; 'focusq ls --all' lists them")
    return task_record(rows[0])


def move(
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
    yield from event(task_id, EventKind.STATUS, payload, now)


def apply(steps: Sequence[Op[Any]]) -> Op[list[Any]]:
    """Run several worker steps in one write transaction; return each step's result."""
    yield WRITE
    results = []
    for step in steps:
        results.append((yield from step))
    return results


BACKLOG_TAG = "backlog"
"""The tag a task sent to the backlog carries (and loses when it is carried or released)."""


def database_id() -> Op[str]:
    """This database's id: jobs carry it in their run tag, ``FOCUSQ_RUN=<id>:<run>``."""
    yield READ
    rows = yield ("SELECT value FROM meta WHERE key = 'database_id'", ())
    return str(rows[0][0])


def quick_check(limit: int = 20) -> Op[list[str]]:
    """SQLite's ``quick_check``: ``["ok"]``, or up to ``limit`` problems it found."""
    yield READ
    rows = yield (f"PRAGMA quick_check({int(limit)})", ())
    return [" ".join(str(r[0]).split()) for r in rows]  # each problem on one line


def schema_version() -> Op[int]:
    """``PRAGMA user_version``: the last migration the file has (``schema.LATEST`` when
    opened by this focusq, which migrates it forward)."""
    yield READ
    rows = yield ("PRAGMA user_version", ())
    return int(rows[0][0])


def refuse_nul(parts: Iterable[str]) -> None:
    """No program takes a NUL byte in its arguments, folder or environment: refuse it when
    the task is written rather than fail at its start."""
    if any("\0" in part for part in parts):
        raise UserError("the command holds a NUL byte (\\0), which no program can take; remove it")
