"""The TUI's reads at any queue size: the task list a page at a time, in the order shown, and
the board's few figures counted by SQLite.

A list is one or two *segments*, each in the order tasks will be taken (priority, then
age): the open tasks first, then (in the ``all`` and ``mechanical`` views) the jobs that
failed or were cancelled today. A row's place in the list is its segment's offset plus its
place in the segment, so a page is an ``OFFSET``/``LIMIT`` on the partial index
``tasks_open_in_order`` and where a task is (the cursor following it) is a count.
"""

from __future__ import annotations

from dataclasses import dataclass

from focusq.store.ops.base import READ, TASK_COLUMNS, task_record
from focusq.store.ops.jobs import OPEN_JOB, jobs_with_runs
from focusq.store.schema import OPEN_STATUSES_SQL

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence
    from typing import Any

    from focusq.store.ops.base import Op, Record


_OPEN = f"t.status IN {OPEN_STATUSES_SQL}"
"""Open tasks, spelled as the partial index ``tasks_open_in_order`` is (so SQLite uses it)."""

_ENDED_TODAY = (
    "t.kind = 'mechanical' AND t.status IN ('cancelled', 'failed') "
    "AND t.archived_at IS NULL AND t.ended_at >= ?"
)
"""Jobs that failed or were cancelled since midnight: one key from a retry."""

_DONE_TODAY = "t.status = 'done' AND t.archived_at IS NULL AND t.ended_at >= ?"

_HAYSTACK = (
    "lower(t.title || coalesce((SELECT group_concat(' +' || value, '') "
    "FROM json_each(t.tags)), '') || ' ' || coalesce(t.project, ''))"
)
"""What a filter looks in: the title, `` +tag`` for each tag and the project, lower case."""

_ORDER = "ORDER BY t.prio_rank DESC, t.id"


@dataclass(frozen=True)
class Listing:
    """Which tasks a list shows: a view, a filter (words in the title, ``+tag``, project)
    and the day's start (what "today" means for finished tasks)."""

    view: str = "all"
    query: str = ""
    midnight: float = 0.0

    def segments(self) -> list[tuple[str, list[Any]]]:
        """Each segment's WHERE condition and its parameters, in the order shown."""
        if self.view == "done":
            parts: list[tuple[str, list[Any]]] = [(_DONE_TODAY, [self.midnight])]
        elif self.view == "creative":
            parts = [(f"{_OPEN} AND t.kind = 'creative'", [])]
        elif self.view == "mechanical":
            parts = [(f"{_OPEN} AND t.kind = 'mechanical'", []), (_ENDED_TODAY, [self.midnight])]
        else:
            parts = [(_OPEN, []), (_ENDED_TODAY, [self.midnight])]
        if self.query:
            needle = self.query.lower()
            parts = [(f"{where} AND instr({_HAYSTACK}, ?) > 0", [*p, needle]) for where, p in parts]
        return parts


@dataclass(frozen=True)
class Summary:
    """How long a list is, per segment, and what its columns must fit."""

    sizes: tuple[int, ...]
    """Rows in each segment."""
    top_id: int
    """The highest id listed (0 when empty): the ID column's width."""
    statuses: frozenset[str]
    """The statuses listed: the Status column's width."""

    @property
    def count(self) -> int:
        """Rows in the whole list."""
        return sum(self.sizes)


def summary(listing: Listing) -> Op[Summary]:
    """The list's length (each segment's) and what its columns must fit, counted by SQLite."""
    yield READ
    sizes: list[int] = []
    statuses: set[str] = set()
    top = 0
    for where, params in listing.segments():
        rows = yield (
            f"SELECT count(*), coalesce(max(t.id), 0), group_concat(DISTINCT t.status) "
            f"FROM tasks t WHERE {where}",
            params,
        )
        count, most, seen = rows[0]
        sizes.append(int(count))
        top = max(top, int(most))
        statuses.update((seen or "").split(",") if seen else ())
    return Summary(tuple(sizes), top, frozenset(statuses))


def page(listing: Listing, sizes: Sequence[int], offset: int, limit: int) -> Op[list[Record]]:
    """Up to ``limit`` task records from row ``offset`` of the list, in the order shown.

    ``sizes``: each segment's length (:func:`summary`), to know which segment row
    ``offset`` falls in.
    """
    yield READ
    out: list[Record] = []
    start = 0
    for (where, params), size in zip(listing.segments(), sizes, strict=True):
        end = start + size
        if offset < end and len(out) < limit:
            rows = yield (
                f"SELECT {TASK_COLUMNS} FROM tasks t WHERE {where} {_ORDER} LIMIT ? OFFSET ?",
                [*params, limit - len(out), max(0, offset - start)],
            )
            out.extend(task_record(r) for r in rows)
            offset = max(offset, end)
        start = end
    return out


def position(listing: Listing, sizes: Sequence[int], task_id: int) -> Op[int | None]:
    """Where ``task_id`` is in the list (its row index), or ``None`` if it is not listed."""
    yield READ
    start = 0
    for (where, params), size in zip(listing.segments(), sizes, strict=True):
        found = yield (
            f"SELECT t.prio_rank FROM tasks t WHERE t.id = ? AND {where}",
            [task_id, *params],
        )
        if found:
            rank = found[0][0]
            rows = yield (
                f"SELECT count(*) FROM tasks t WHERE {where} "
                "AND (t.prio_rank > ? OR (t.prio_rank = ? AND t.id < ?))",
                [*params, rank, rank, task_id],
            )
            return start + int(rows[0][0])
        start += size
    return None


def first_open(kind: str, limit: int) -> Op[list[Record]]:
    """The first ``limit`` open tasks of ``kind``, in the order they will be taken."""
    yield READ
    rows = yield (
        f"SELECT {TASK_COLUMNS} FROM tasks t WHERE {_OPEN} AND t.kind = ? {_ORDER} LIMIT ?",
        (kind, limit),
    )
    return [task_record(r) for r in rows]


def running_jobs() -> Op[list[Record]]:
    """The running and paused jobs, each with its current run."""
    yield READ
    rows = yield (
        "SELECT id FROM tasks WHERE kind = 'mechanical' AND status IN ('paused', 'running') "
        "ORDER BY id",
        (),
    )
    return (yield from jobs_with_runs([int(r[0]) for r in rows]))


def _held_back(
    now: float,
    full_locks: Collection[str],
    blocked_groups: Collection[str],
    blocked_executors: Collection[str] = (),
    placed: tuple[Mapping[str, str], str] = ({}, "local"),
) -> tuple[str, list[Any]]:
    """SQL for an open job that has not started and is held back by something besides the
    global cap, as ``engine.waiting.waiting_for`` says: held, at its gate, after an open job,
    not before a time, a lock at its cap, a group paused or full, an executor other than
    this machine full or not answering (``placed``: each group's executor and the default,
    for a job with no ``on:NAME``)."""
    where = f"""t.kind = 'mechanical' AND t.status IN ('held', 'queued', 'waiting') AND (
        t.status <> 'queued'
        OR EXISTS (SELECT 1 FROM deps d JOIN tasks u ON u.id = d.dep_id WHERE d.task_id = t.id
                   AND u.kind = 'mechanical' AND u.status IN ({",".join("?" * len(OPEN_JOB))}))
        OR coalesce(t.not_before, 0) > ?"""
    params: list[Any] = [*OPEN_JOB, now]
    if full_locks:
        marks = ",".join("?" * len(full_locks))
        where += (
            " OR (t.locks <> '[]' AND EXISTS "
            f"(SELECT 1 FROM json_each(t.locks) WHERE value IN ({marks})))"
        )
        params.extend(sorted(full_locks))
    if blocked_groups:
        where += f" OR t.grp IN ({','.join('?' * len(blocked_groups))})"
        params.extend(sorted(blocked_groups))
    if blocked_executors:
        by_group, default = placed
        whens = " ".join("WHEN ? THEN ?" for _ in by_group)
        where += (
            f" OR coalesce(t.executor, {f'CASE t.grp {whens} END, ' if by_group else ''}?)"
            f" IN ({','.join('?' * len(blocked_executors))})"
        )
        params.extend(x for pair in sorted(by_group.items()) for x in pair)
        params.append(default)
        params.extend(sorted(blocked_executors))
    return where + ")", params


def held_back(
    now: float,
    full_locks: Collection[str],
    blocked_groups: Collection[str],
    limit: int,
    blocked_executors: Collection[str] = (),
    placed: tuple[Mapping[str, str], str] = ({}, "local"),
) -> Op[tuple[int, list[Record]]]:
    """How many jobs wait on something besides the global cap, and the first ``limit`` of
    them by id (with their runs), for the board to say why. ``full_locks``: the lock keys
    at their cap; ``blocked_groups``: the groups paused or full; ``blocked_executors``: the
    executors other than this machine that are full or do not answer."""
    yield READ
    where, params = _held_back(now, full_locks, blocked_groups, blocked_executors, placed)
    rows = yield (f"SELECT count(*) FROM tasks t WHERE {where}", params)
    count = int(rows[0][0])
    rows = yield (f"SELECT t.id FROM tasks t WHERE {where} ORDER BY t.id LIMIT ?", [*params, limit])
    records = yield from jobs_with_runs([int(r[0]) for r in rows])
    return count, sorted(records, key=lambda r: int(r["id"]))
