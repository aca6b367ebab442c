"""Each task's ``--json`` record as SQLite writes it (moments in local time, as
``json_record`` writes them), and the records of open tasks kept ready in ``json_cache``.

A kept record is valid while the task's ``rev`` is the one it was written at: every change
to a task or its dependencies moves ``rev`` on (triggers, schema migration 10), whatever
statement made it. They are kept apart from the tasks, so no other read of the tasks
carries them. Records depend on the time zone too: they are kept under one
(:func:`zone_key`), and written again under another.
"""

from __future__ import annotations

import json
import os
import time

from focusq.store.ops.base import WRITE
from focusq.store.schema import OPEN_STATUSES_SQL

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from focusq.store.ops.base import Op


def offset_spans(now: float) -> list[tuple[int, int, int]]:
    """Stretches of a year either side of ``now`` with one UTC offset here, as ``(start,
    end, offset)`` in epoch seconds, the one holding ``now`` first."""
    lo, hi = int(now) - 366 * 86400, int(now) + 366 * 86400

    def offset(moment: int) -> int:
        return time.localtime(moment).tm_gmtoff

    spans, begin, current, moment = [], lo, offset(lo), lo
    while moment < hi:
        step = min(moment + 86400, hi)
        if offset(step) == current:
            moment = step
            continue
        before, after = moment, step  # the offset changes after `before`, by `after`
        while after - before > 1:
            middle = (before + after) // 2
            before, after = (middle, after) if offset(middle) == current else (before, middle)
        spans.append((begin, after, current))
        begin, current, moment = after, offset(after), after
    spans.append((begin, hi, current))
    spans.sort(key=lambda span: not span[0] <= now < span[1])
    return [span for span in spans if span[2] % 60 == 0]


def _iso(column: str, spans: Sequence[tuple[int, int, int]]) -> str:
    """SQL for ``column`` (epoch seconds) as ``json_record`` writes it: ISO 8601 in local
    time with its offset, to the second after rounding to the microsecond as
    ``datetime.fromtimestamp`` does. ``column`` is not NULL.

    A moment within ``spans`` (one offset each) is one ``strftime``; any other asks SQLite
    for its local time, three times the work.
    """
    rounded = f"({column} + 5e-7)"
    whole = f"CAST({rounded} AS INTEGER)"
    fast = "".join(
        f" WHEN {rounded} >= {start} AND {rounded} < {end} THEN "
        f"strftime('%Y-%m-%dT%H:%M:%S{_offset_text(offset)}', {whole} + {offset}, 'unixepoch')"
        for start, end, offset in spans
    )
    offset = (
        f"CAST(round((julianday({whole}, 'unixepoch', 'localtime') "
        f"- julianday({whole}, 'unixepoch')) * 86400) AS INTEGER)"
    )
    slow = (
        f"strftime('%Y-%m-%dT%H:%M:%S', {whole}, 'unixepoch', 'localtime') || "
        f"printf('%s%02d:%02d', CASE WHEN {offset} < 0 THEN '-' ELSE '+' END, "
        f"abs({offset}) / 3600, abs({offset}) % 3600 / 60)"
    )
    return f"CASE{fast} ELSE {slow} END"


def _offset_text(offset: int) -> str:
    sign = "-" if offset < 0 else "+"
    return f"{sign}{abs(offset) // 3600:02d}:{abs(offset) % 3600 // 60:02d}"


def _moment(column: str, spans: Sequence[tuple[int, int, int]]) -> str:
    """``column`` as a JSON value: a quoted ISO 8601 moment, or null."""
    return (
        f"""CASE WHEN {column} IS NULL THEN 'null' ELSE '"' || {_iso(column, spans)} || '"' END"""
    )


def _value(column: str) -> str:
    """``column`` as a JSON value (a string quoted and escaped, a number, null)."""
    return f"CASE WHEN {column} IS NULL THEN 'null' ELSE json_quote({column}) END"


def _stored_json(column: str) -> str:
    """A column holding JSON (as ``json.dumps`` wrote it), minified as ``json()`` would: text
    without a space outside a string already is, and is taken as it is."""
    return (
        f"CASE WHEN {column} IS NULL THEN 'null' "
        f"WHEN instr({column}, ' ') THEN json({column}) ELSE {column} END"
    )


def _deps_json(kind: str) -> str:
    return (
        f"(SELECT json_group_array(dep_id) FROM (SELECT dep_id FROM deps "
        f"WHERE task_id = t.id AND kind = '{kind}' ORDER BY dep_id))"
    )


_RECORD_FORMAT = (
    '{"id":%d,"title":%s,"kind":"%s","status":"%s","priority":"%s","tags":%s,"project":%s,'
    '"command":%s,"cwd":%s,"env":%s,"after":%s,"locks":%s,"estimate_s":%s,'
    '"timeout_s":%s,"retries":%d,"group":%s,"gate":%s,"at":%s,"note":%s,"attempts":%d,'
    '"result":%s,"exit_code":%s,"reason":%s,%s,"started_at":%s,"ended_at":%s,"waiting_for":'
)
"""A task's ``--json`` record up to why it waits, keys in ``json_object``'s order and
spelling as before (the ``"after"`` value runs on to hold ``"afterany"``: one look in deps
writes both)."""


def json_head(spans: Sequence[tuple[int, int, int]]) -> str:
    """SQL for one task's ``--json`` record up to its ``waiting_for`` value, written by
    SQLite's ``printf`` (``json_object`` costs twice as much for 29 keys), its moments in
    local time by ``spans`` (:func:`offset_spans`)."""
    # Most tasks have no dependency: one look in deps tells, instead of two aggregates.
    deps = (
        "CASE WHEN EXISTS (SELECT 1 FROM deps WHERE task_id = t.id) "
        f"""THEN printf('%s,"afterany":%s', {_deps_json("after")}, {_deps_json("afterany")}) """
        """ELSE '[],"afterany":[]' END"""
    )
    # A task not changed since it was added has one moment for both: written once.
    same = '"created_at":"@","updated_at":"@"'
    created, updated = _moment("t.created_at", spans), _moment("t.updated_at", spans)
    stamps = (
        f"CASE WHEN t.updated_at = t.created_at THEN replace('{same}', '@', "
        f"{_iso('t.created_at', spans)}) ELSE '\"created_at\":' || {created} "
        f"|| ',\"updated_at\":' || {updated} END"
    )
    values = [
        "t.id",
        "json_quote(t.title)",
        "t.kind",
        "t.status",
        "t.priority",
        _stored_json("t.tags"),
        _value("t.project"),
        _stored_json("t.command"),
        _value("t.cwd"),
        _stored_json("t.env"),
        deps,
        _stored_json("t.locks"),
        _value("t.estimate"),
        _value("t.timeout"),
        "t.retries",
        _value("t.grp"),
        _value("t.gate"),
        _moment("t.not_before", spans),
        "json_quote(t.note)",
        "t.attempts",
        _value("t.result"),
        _value("t.exit_code"),
        _value("t.reason"),
        stamps,
        _moment("t.started_at", spans),
        _moment("t.ended_at", spans),
    ]
    return f"printf('{_RECORD_FORMAT}', {', '.join(values)})"


KEPT_FORMAT = 1
"""The layout of a kept record: a focusq that writes them otherwise counts another, and
writes every record again rather than show one of the old layout."""


def zone_key(spans: Sequence[tuple[int, int, int]]) -> str:
    """What a kept record depends on besides its task: :data:`KEPT_FORMAT`, and for its
    local moments ``$TZ`` and the zone file the C library reads for it (its path, size and
    change time: another zone, or new rules after a tzdata update, is another key), this
    zone's names, and its changes of offset within the stretch ``spans`` covers (not the
    stretch's own ends, which move every day). Two zones alike for a year are told apart by
    their files. Records kept under another key are written again."""
    inner = sorted((start, offset) for start, _, offset in spans)
    zone = os.environ.get("TZ")
    return json.dumps(
        [
            KEPT_FORMAT,
            zone,
            _zone_file(zone),
            time.tzname,
            time.timezone,
            time.altzone,
            inner[0][1],
            inner[1:],
        ]
    )


def _zone_file(zone: str | None) -> list[object] | None:
    """The zone file ``zone`` (a ``$TZ``) names, as ``[path, size, mtime_ns]``; ``None`` when
    it names none (a POSIX rule such as ``CST6``, whose text is the whole of it)."""
    if not zone:
        path = "/etc/localtime"
    else:
        name = zone.removeprefix(":")
        path = (
            name
            if name.startswith("/")
            else os.path.join(os.environ.get("TZDIR") or "/usr/share/zoneinfo", name)
        )
    try:
        real = os.path.realpath(path)
        info = os.stat(real)
    except (OSError, ValueError):
        return None
    return [real, info.st_size, info.st_mtime_ns]


KEEP_AT_ONCE = 20_000
"""Records :func:`keep_json` writes in one go: a first listing of a huge queue stays quick,
and the next ones keep the rest."""


def keep_json(now: float | None = None, *, wait: float = 0.05) -> Op[int]:
    """Keep the ``--json`` record of every open task whose kept one is missing or stale (up
    to :data:`KEEP_AT_ONCE`), drop those of tasks no longer open; return how many it wrote.

    Waits at most ``wait`` seconds for the write lock: it is a cache, and a listing never
    waits on a busy worker for it (the next listing tries again).
    """
    before = (yield ("PRAGMA busy_timeout", ()))[0][0]
    yield (f"PRAGMA busy_timeout = {int(wait * 1000)}", ())
    yield WRITE
    spans = offset_spans(time.time() if now is None else now)
    zone = zone_key(spans)
    kept = yield ("SELECT value FROM meta WHERE key = 'json_zone'", ())
    if not kept or kept[0][0] != zone:
        yield ("DELETE FROM json_cache", ())
        yield ("INSERT OR REPLACE INTO meta (key, value) VALUES ('json_zone', ?)", (zone,))
    opened = f"status IN {OPEN_STATUSES_SQL}"
    yield (
        "DELETE FROM json_cache WHERE id NOT IN "
        f"(SELECT id FROM tasks INDEXED BY tasks_open_in_order WHERE {opened})",
        (),
    )
    yield (
        "INSERT OR REPLACE INTO json_cache (id, rev, head) "
        f"SELECT t.id, t.rev, {json_head(spans)} FROM tasks t INDEXED BY tasks_open_in_order "
        f"LEFT JOIN json_cache c ON c.id = t.id WHERE t.{opened} AND c.rev IS NOT t.rev LIMIT ?",
        (KEEP_AT_ONCE,),
    )
    kept_now = int((yield ("SELECT changes()", ()))[0][0])
    yield (f"PRAGMA busy_timeout = {int(before)}", ())
    return kept_now
