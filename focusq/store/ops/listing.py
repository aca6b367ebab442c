"""Reading the queue in bulk: the ``ls`` table and its JSON, built by SQLite for any length,
and the light read of the jobs that wait."""

from __future__ import annotations

import json

from focusq.states import ACTIVE
from focusq.store.ops.base import READ
from focusq.store.ops.tasks import where_of
from focusq.store.schema import OPEN_STATUSES_SQL

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from focusq.store.ops.base import Op, Record


_UNLIMITED = 1 << 20
"""A width that means "do not cut" (output that is not a terminal)."""


def task_table(
    statuses: Iterable[str] | None = None,
    *,
    kind: str | None = None,
    tag: str | None = None,
    width: int = 100,
    archived: bool = False,
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
        where, params = where_of(None, kind, tag, archived=None)
        where = (where + " AND " if where else "WHERE ") + f"t.status IN {OPEN_STATUSES_SQL}"
    else:
        where, params = where_of(statuses, kind, tag, archived)
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
    # A line break in a title would split its row: shown as its control picture.
    text = f"replace(replace({text}, char(10), '\u240a'), char(13), '\u240d')"
    if width < _UNLIMITED:  # a terminal: cut each title to fit, with an ellipsis
        cut = f"substr({text}, 1, {room - 1}) || '…'"
        text = f"CASE WHEN length({text}) > {room} THEN {cut} ELSE {text} END"
    # One string for the whole table: no Python object per row. The aggregate takes the
    # rows in the subquery's order.
    rows = yield (
        f"""
        SELECT group_concat(line, char(10)) FROM (
            SELECT printf('%{id_w}d  %-4s  %s  %-9s  %s', t.id,
                          CASE t.kind WHEN 'mechanical' THEN 'job' ELSE 'you' END,
                          t.priority, t.status, {text}) AS line
            FROM tasks t {hint} {where} ORDER BY t.prio_rank DESC, t.id
        )
        """,
        params,
    )
    body = rows[0][0]
    return f"{header}TITLE\n{body}\n" if body else ""


def _iso(column: str) -> str:
    """SQL for ``column`` (epoch seconds) as ISO 8601 in local time with its offset, as
    ``json_record`` writes it; NULL stays NULL."""
    offset = (
        f"CAST(round((julianday({column}, 'unixepoch', 'localtime') "
        f"- julianday({column}, 'unixepoch')) * 86400) AS INTEGER)"
    )
    return (
        f"CASE WHEN {column} IS NULL THEN NULL ELSE "
        f"strftime('%Y-%m-%dT%H:%M:%S', {column}, 'unixepoch', 'localtime') || "
        f"printf('%s%02d:%02d', CASE WHEN {offset} < 0 THEN '-' ELSE '+' END, "
        f"abs({offset}) / 3600, abs({offset}) % 3600 / 60) END"
    )


def _deps_json(kind: str) -> str:
    return (
        f"(SELECT json_group_array(dep_id) FROM (SELECT dep_id FROM deps "
        f"WHERE task_id = t.id AND kind = '{kind}' ORDER BY dep_id))"
    )


_JSON_OBJECT = f"""
    json_object(
        'id', t.id, 'title', t.title, 'kind', t.kind, 'status', t.status,
        'priority', t.priority, 'tags', json(t.tags), 'project', t.project,
        'command', json(t.command), 'cwd', t.cwd, 'env', json(t.env),
        'after', json({_deps_json("after")}), 'afterany', json({_deps_json("afterany")}),
        'locks', json(t.locks), 'estimate_s', t.estimate, 'timeout_s', t.timeout,
        'retries', t.retries, 'group', t.grp, 'gate', t.gate, 'at', {_iso("t.not_before")},
        'note', t.note, 'attempts', t.attempts, 'result', t.result,
        'exit_code', t.exit_code, 'reason', t.reason,
        'created_at', {_iso("t.created_at")}, 'updated_at', {_iso("t.updated_at")},
        'started_at', {_iso("t.started_at")}, 'ended_at', {_iso("t.ended_at")},
        'waiting_for', json_extract(?, '$."' || t.id || '"')
    )
"""
"""One task as the ``--json`` record, built by SQLite (the reasons passed as a JSON map)."""


def task_json(
    statuses: Iterable[str] | None = None,
    *,
    kind: str | None = None,
    tag: str | None = None,
    archived: bool = False,
    reasons: dict[int, str] | None = None,
) -> Op[str]:
    """``focusq ls --json`` as one string built by SQLite, one task a line, in the order
    ``list_tasks`` gives: no Python object per task, however many there are."""
    yield READ
    where, params = where_of(statuses, kind, tag, archived)
    rows = yield (
        f"""
        SELECT group_concat(item, ',' || char(10)) FROM (
            SELECT {_JSON_OBJECT} AS item FROM tasks t {where}
            ORDER BY t.prio_rank DESC, t.id
        )
        """,
        [json.dumps({str(k): v for k, v in (reasons or {}).items()}), *params],
    )
    body = rows[0][0]
    return f"[\n{body}\n]\n" if body else "[]\n"


def waiting_jobs() -> Op[list[Record]]:
    """The open jobs that have not started (queued, waiting, held), with just what says why
    they wait: lighter than full records, for a listing of any length."""
    yield READ
    rows = yield (
        """
        SELECT t.id, t.status, t.not_before, t.attempts, t.result, t.locks, t.grp,
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
            "after": json.loads(r[7]),
            "afterany": json.loads(r[8]),
        }
        for r in rows
    ]
