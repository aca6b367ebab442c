"""Reading the queue in bulk: the ``ls`` table and its JSON, built by SQLite a page at a time
for a queue of any length, and the light read of the jobs that wait.

Pages follow the order tasks are taken (priority, then id) by key, never by offset: each page
starts where the last one ended, so a listing of 100,000 tasks costs what its rows cost.
"""

from __future__ import annotations

import json
import time

from focusq.states import ACTIVE
from focusq.store.ops.base import READ, in_chunks
from focusq.store.ops.json_records import json_head, offset_spans, zone_key
from focusq.store.ops.tasks import where_of
from focusq.store.schema import OPEN_STATUSES_SQL

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any, TypeAlias

    from focusq.store.ops.base import Op, Query, Record

    Scope: TypeAlias = tuple[str, str, list[Any]]
    Timed: TypeAlias = list[tuple[int, float, int, str | None]]
    Said: TypeAlias = tuple[
        dict[str, str], dict[str, str], str, dict[int, str], dict[str, str], dict[str, str]
    ]
    HeldBack: TypeAlias = Callable[[dict[int, Record], dict[str, Record], Timed], Said]


UNLIMITED = 1 << 20
"""A width that means "do not cut" (output that is not a terminal)."""

RANKS = (2, 1, 0)
"""``prio_rank`` of H, M and L: the order pages walk."""


def _scope(
    statuses: Iterable[str] | None, kind: str | None, tag: str | None, archived: bool
) -> Scope:
    """The FROM of a listing (with the index that serves its order), its WHERE and params."""
    if statuses is not None and set(statuses) == ACTIVE:
        # The partial index holds open tasks in priority order; SQLite only uses it when the
        # query repeats its condition word for word.
        where, params = where_of(None, kind, tag, archived=None)
        return (
            "tasks t INDEXED BY tasks_open_in_order",
            _and(where, f"t.status IN {OPEN_STATUSES_SQL}"),
            params,
        )
    where, params = where_of(statuses, kind, tag, archived)
    if statuses is not None and len(set(statuses)) == 1:
        return "tasks t", where, params  # tasks_by_status: (status, prio_rank, id) in order
    # Several states: walk the table in id order, one pass per priority, never a sort.
    return "tasks t NOT INDEXED", where, params


def _and(where: str, condition: str) -> str:
    return f"{where} AND {condition}" if where else f"WHERE {condition}"


def _page(select: str, scope: Scope, rank: int, after: int, size: int) -> Query:
    """Up to ``size`` rows of priority ``rank`` after task ``after``, in id order."""
    source, where, params = scope
    return (
        f"SELECT {select} FROM {source} {_and(where, 't.prio_rank = ? AND t.id > ?')} "
        "ORDER BY t.id LIMIT ?",
        [*params, rank, after, size],
    )


def count_tasks(
    statuses: Iterable[str] | None = None,
    *,
    kind: str | None = None,
    tag: str | None = None,
    archived: bool = False,
) -> Op[int]:
    """How many tasks a listing holds."""
    yield READ
    source, where, params = _scope(statuses, kind, tag, archived)
    return int((yield (f"SELECT count(*) FROM {source} {where}", params))[0][0])


def task_page(
    statuses: Iterable[str] | None = None,
    *,
    kind: str | None = None,
    tag: str | None = None,
    archived: bool = False,
    width: int = 100,
    start: tuple[int, int] = (RANKS[0], 0),
    size: int = 1000,
    why: str = "NULL",
) -> Op[tuple[str, list[tuple[Any, ...]], tuple[int, int] | None]]:
    """One page of the ``focusq ls`` table: its header, up to ``size`` rows from ``start``
    (a priority rank and the id the last page ended at), and where the next page starts
    (``None`` after the last).

    A row is ``(id, head, title, why it waits)``. SQLite lays out the head (id, kind,
    priority, status) and the title with ``+tags`` and ``project:``, cut to ``width``, and
    says why with ``why`` (SQL from :func:`why_waiting` on this connection; NULL: never).
    """
    yield READ
    scope = _scope(statuses, kind, tag, archived)
    top = (yield ("SELECT coalesce(max(id), 0) FROM tasks", ()))[0][0]
    id_w = max(2, len(str(top)))
    header = f"{'ID':>{id_w}}  KIND  P  {'STATUS':<9}  "
    room = max(20, width - len(header))
    # Tags with nothing escaped in their JSON (no backslash: a quote in a tag is) and no
    # comma but the separators' are cut out of its text between the quotes; any other list
    # (none focusq writes) is read through json_each, which opens a table a row (~7% of a
    # listing's time).
    text = """
        t.title
        || CASE WHEN t.tags = '[]' THEN ''
           WHEN instr(t.tags, '\\')
                OR instr(replace(replace(t.tags, '", "', ''), '","', ''), ',') THEN
             (SELECT ' ' || group_concat('+' || value, ' ') FROM json_each(t.tags))
           ELSE ' +' || replace(replace(substr(t.tags, 3, length(t.tags) - 4),
                                        '", "', ' +'), '","', ' +')
           END
        || coalesce(' project:' || t.project, '')
    """
    # A line break in a title would split its row: shown as its control picture.
    text = f"replace(replace({text}, char(10), '\u240a'), char(13), '\u240d')"
    if width < UNLIMITED:  # a terminal: cut each title to fit, with an ellipsis
        cut = f"substr({text}, 1, {room - 1}) || '…'"
        text = f"CASE WHEN length({text}) > {room} THEN {cut} ELSE {text} END"
    select = f"""
        t.id, printf('%{id_w}d  %-4s  %s  %-9s  ', t.id,
                     CASE t.kind WHEN 'mechanical' THEN 'job' ELSE 'you' END,
                     t.priority, t.status),
        {text}, {why}
    """
    rows: list[tuple[Any, ...]] = []
    rank, after = start
    for at_rank in RANKS[RANKS.index(rank) :]:
        rows.extend(
            tuple(r) for r in (yield _page(select, scope, at_rank, after, size - len(rows)))
        )
        if len(rows) == size:
            return f"{header}TITLE", rows, (at_rank, rows[-1][0])
        after = 0  # this priority is done: the next starts at its first task
    return f"{header}TITLE", rows, None


def task_page_said(
    statuses: Iterable[str] | None, held_back: HeldBack, now: float, **page: Any
) -> Op[tuple[str, list[tuple[Any, ...]], tuple[int, int] | None]]:
    """A page of the table (:func:`task_page`'s ``page`` arguments) saying why its jobs
    wait, worked out for its rows only (a screenful of 100,000), in one snapshot."""
    yield READ
    _, rows, _ = yield from _inside(task_page(statuses, **page))
    why = yield from _inside(why_waiting(held_back, now, [row[0] for row in rows]))
    said: tuple[str, list[tuple[Any, ...]], tuple[int, int] | None]
    said = yield from _inside(task_page(statuses, why=why, **page))
    return said


def task_table(
    statuses: Iterable[str] | None = None,
    *,
    kind: str | None = None,
    tag: str | None = None,
    width: int = 100,
    archived: bool = False,
) -> Op[str]:
    """The whole ``focusq ls`` table (header first), without why jobs wait; "" if empty."""
    lines: list[str] = []
    start: tuple[int, int] | None = (RANKS[0], 0)
    while start is not None:
        header, rows, start = yield from task_page(
            statuses, kind=kind, tag=tag, archived=archived, width=width, start=start
        )
        lines.extend(row[1] + row[2] for row in rows)
    return "\n".join([header, *lines]) + "\n" if lines else ""


def _open_dep_id(kind: str) -> str:
    return f"""
        (SELECT d.dep_id FROM deps d JOIN tasks o ON o.id = d.dep_id
         WHERE d.task_id = t.id AND d.kind = '{kind}' AND o.status IN {OPEN_STATUSES_SQL}
         ORDER BY d.dep_id LIMIT 1)
    """


def _literal(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _why(now: float, *, locks: bool, groups: bool, other: str) -> str:
    """SQL for why a task waits, ``engine.waiting``'s words (NULL when nothing holds it back
    or it is not a job that has not started), from what ``temp.focusq_why`` holds: ``T`` and
    a job's id, why a job whose ``at`` is ahead waits; ``L`` and a lock, why the lock keeps
    its jobs back; ``G`` and a group, why its jobs wait (empty: they need not). ``other``
    is why any other job waits (empty: it need not), written in as it is the same for all.
    With ``locks`` (``groups``) false, no lock (group) has an entry and none is looked up.

    In ``engine.waiting``'s order: held, gated, its first open dependency, its ``at``, its
    first lock that is full, then its group and where it runs.
    """
    queued = [
        f"""CASE WHEN EXISTS (SELECT 1 FROM deps WHERE task_id = t.id)
            THEN 'after #' || coalesce({_open_dep_id("after")}, {_open_dep_id("afterany")}) END""",
        f"""CASE WHEN t.not_before > {float(now)!r}
            THEN (SELECT reason FROM temp.focusq_why WHERE key = 'T' || t.id) END""",
    ]
    if locks:
        queued.append(
            """CASE WHEN t.locks <> '[]' THEN (
                SELECT w.reason FROM json_each(t.locks) j
                JOIN temp.focusq_why w ON w.key = 'L' || j.value ORDER BY j.key LIMIT 1) END"""
        )
    placed = """coalesce(
        (SELECT nullif(reason, '') FROM temp.focusq_why WHERE key = 'g' || t.grp),
        (SELECT reason FROM temp.focusq_why WHERE key = 'E' || t.executor),
        'executor ' || t.executor || ' is not configured')"""
    elsewhere = _literal(other)
    if groups:
        elsewhere = (
            f"coalesce((SELECT reason FROM temp.focusq_why WHERE key = 'G' || t.grp), {elsewhere})"
        )
    # A job of its own executor (on:NAME): its group's own reason, then that executor's.
    queued.append(f"CASE WHEN t.executor IS NOT NULL THEN {placed} ELSE {elsewhere} END")
    return f"""CASE WHEN t.kind = 'mechanical' THEN CASE t.status
        WHEN 'held' THEN 'held' WHEN 'waiting' THEN 'gate: approve'
        WHEN 'queued' THEN nullif(coalesce({", ".join(queued)}), '') END END"""


def _inside(op: Op[Any]) -> Op[Any]:
    """``op`` run inside the caller's transaction: its own ``BEGIN`` is skipped."""
    next(op)
    return op


def why_waiting(held_back: HeldBack, now: float, ids: Sequence[int] | None = None) -> Op[str]:
    """Work out once, for a listing, what keeps jobs back (``held_back`` is asked given the
    running jobs, the groups' states and the jobs whose ``at`` is ahead: of ``ids`` only,
    when given) into the connection's ``temp.focusq_why``; return the SQL that says, from
    it, why the task ``t`` of a row waits (see :func:`_why`). Valid on this connection until
    asked again."""
    from focusq.store.ops import groups, jobs

    yield READ
    # The queued jobs whose time lies ahead, in the listing or not (a reason by id is only
    # looked up for the rows shown): the few in tasks_timed, not every queued job.
    sql = (
        "SELECT t.id, t.not_before, t.attempts, t.result FROM tasks t INDEXED BY tasks_timed "
        "WHERE t.not_before > ? AND t.status = 'queued' AND t.kind = 'mechanical'"
    )
    if ids is None:
        timed = yield (sql, (float(now),))
    else:
        timed = []
        for chunk, marks in in_chunks(sorted(set(ids))):
            timed += yield (f"{sql} AND t.id IN ({marks})", (float(now), *chunk))
    others = yield from _inside(jobs.blocking([]))
    states = yield from _inside(groups.group_states())
    locks, by_group, other, by_id, group_own, by_executor = held_back(
        others, states, [tuple(r) for r in timed]
    )
    yield from _fill_why(
        [
            *(["L" + key, why] for key, why in locks.items()),
            *(["G" + group, why] for group, why in by_group.items()),
            *([f"T{task_id}", why] for task_id, why in by_id.items()),
            *(["g" + group, why] for group, why in group_own.items()),
            *(["E" + name, why] for name, why in by_executor.items()),
        ]
    )
    return _why(now, locks=bool(locks), groups=bool(by_group), other=other)


def _fill_why(table: list[list[str]]) -> Op[None]:
    """Part of a read: ``temp.focusq_why`` holds ``table``'s ``[key, reason]`` rows only."""
    yield (
        "CREATE TEMP TABLE IF NOT EXISTS focusq_why (key TEXT PRIMARY KEY, reason TEXT) "
        "WITHOUT ROWID",
        (),
    )
    yield ("DELETE FROM temp.focusq_why", ())
    yield (
        "INSERT OR REPLACE INTO temp.focusq_why "
        "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)",
        (json.dumps(table),),
    )


def json_pages(
    statuses: Iterable[str] | None = None,
    *,
    kind: str | None = None,
    tag: str | None = None,
    archived: bool = False,
    limit: int | None = None,
    now: float | None = None,
    held_back: HeldBack | None = None,
    reasons: dict[int, str] | None = None,
    emit: Callable[[bytes], object],
    size: int = 250,
) -> Op[tuple[int, int]]:
    """``focusq ls --json`` handed to ``emit`` in pieces of UTF-8, one task a line, in the
    order tasks are taken, from one snapshot; return how many tasks it held, and how many
    open ones had no record kept ready (``json_records.keep_json`` writes them).

    SQLite writes every record: no Python object per task; an open task's record up to
    ``waiting_for`` is the one kept in ``json_cache`` while it is current. ``waiting_for``
    is worked out by SQLite too, from what ``held_back`` says once for the listing: given
    the running jobs, the groups' states and the jobs whose ``at`` is ahead (``(id, at,
    attempts, result)``), it returns why each lock that is full keeps its jobs back, why
    each group's jobs wait when that differs from the rest (empty: they need not), why any
    other job waits (empty: it need not), and why each of those timed jobs waits, by id.
    Else it comes from ``reasons`` by task id; else it is null.

    ``size`` tasks a page: a page's text (~200 KB) stays in the CPU's caches and the
    allocator's arenas, where one of 5,000 (megabytes, copied three times) does not; ~8%
    faster at 10,000 open tasks, the same at 100,000.
    """
    yield READ
    now = time.time() if now is None else now
    scope = _scope(statuses, kind, tag, archived)
    source, where, params = scope
    waiting_for = "NULL"
    if held_back is not None:
        waiting_for = yield from _inside(why_waiting(held_back, now))
    elif reasons:
        table = [[str(task_id), why] for task_id, why in reasons.items()]
        yield from _fill_why(table)
        waiting_for = "(SELECT reason FROM temp.focusq_why WHERE key = CAST(t.id AS TEXT))"
    spans = offset_spans(now)
    head = json_head(spans)
    kept = yield ("SELECT value FROM meta WHERE key = 'json_zone'", ())
    opened = f"t.status IN {OPEN_STATUSES_SQL}"
    if kept and kept[0][0] == zone_key(spans):
        # Kept apart from the tasks (json_cache): a read of the tasks never carries them.
        scope = (f"{source} LEFT JOIN json_cache c ON c.id = t.id", where, params)
        head = f"CASE WHEN c.rev = t.rev THEN c.head ELSE {head} END"
        # Only open tasks' records are kept: the open listing need not ask each row again.
        missing = "c.rev IS NOT t.rev"
        if opened not in where:
            missing = f"{missing} AND {opened}"
    else:  # none kept yet, or kept under another time zone
        missing = opened
    # json_quote writes NULL as null, and works out the reason once
    why = "'null}'" if waiting_for == "NULL" else f"json_quote({waiting_for}) || '}}'"
    item = f"{head} || {why} AS item, t.id AS id, {missing} AS missing"
    shown = stale = 0
    for rank in RANKS:
        after = 0
        while limit is None or shown < limit:
            want = size if limit is None else min(size, limit - shown)
            query, values = _page(item, scope, rank, after, want)
            rows = yield (
                "SELECT CAST(group_concat(item, ',' || char(10)) AS BLOB), max(id), count(*), "
                f"sum(missing) FROM ({query})",
                values,
            )
            chunk, last, count, lacking = rows[0]
            if not count:
                break
            emit((b",\n" if shown else b"[\n") + chunk)
            shown, after, stale = shown + count, last, stale + lacking
            if count < want:
                break
    emit(b"\n]\n" if shown else b"[]\n")
    return shown, stale


def task_json(
    statuses: Iterable[str] | None = None,
    *,
    kind: str | None = None,
    tag: str | None = None,
    archived: bool = False,
    reasons: dict[int, str] | None = None,
) -> Op[str]:
    """``focusq ls --json`` as one string, ``waiting_for`` from ``reasons`` by task id."""
    pieces: list[bytes] = []
    _ = yield from json_pages(
        statuses, kind=kind, tag=tag, archived=archived, reasons=reasons, emit=pieces.append
    )
    return b"".join(pieces).decode()


def placed(ids: Sequence[int]) -> Op[dict[int, str]]:
    """The executor each of ``ids`` was placed on with ``on:NAME``, for those that were."""
    yield READ
    out: dict[int, str] = {}
    for chunk, marks in in_chunks(sorted(set(ids))):
        rows = yield (
            f"SELECT id, executor FROM tasks WHERE id IN ({marks}) AND executor IS NOT NULL",
            chunk,
        )
        out.update((int(r[0]), str(r[1])) for r in rows)
    return out


def waiting_jobs() -> Op[list[Record]]:
    """The open jobs that have not started (queued, waiting, held), with just what says why
    they wait: lighter than full records, for a listing of any length."""
    yield READ
    rows = yield (
        """
        SELECT t.id, t.status, t.not_before, t.attempts, t.result, t.locks, t.grp, t.executor,
               (SELECT json_group_array(dep_id) FROM deps WHERE task_id = t.id AND kind = 'after')
                   AS after_ids,
               (SELECT json_group_array(dep_id) FROM deps
                WHERE task_id = t.id AND kind = 'afterany') AS afterany_ids
        FROM tasks t
        WHERE t.kind = 'mechanical' AND t.status IN ('queued', 'waiting', 'held')
        """,
        (),
    )
    return [
        {
            "id": r[0],
            "status": r[1],
            "at": r[2],
            "attempts": r[3],
            "result": r[4],
            "locks": json.loads(r[5]),
            "group": r[6],
            "executor": r[7],
            "after": json.loads(r[8]),
            "afterany": json.loads(r[9]),
        }
        for r in rows
    ]
