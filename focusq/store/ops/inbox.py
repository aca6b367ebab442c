"""Interruptions: captured into the inbox, delivered in batches."""

from __future__ import annotations

from focusq.errors import UserError
from focusq.states import EventKind
from focusq.store.ops.base import READ, WRITE, event, in_chunks

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the quick CLI path milliseconds; annotations are strings
    from collections.abc import Sequence
    from typing import Any

    from focusq.store.ops.base import Op, Record


def capture(
    text: str, now: float, *, source: str = "note", urgent: bool = False, task_id: int | None = None
) -> Op[int]:
    """Put an interruption in the inbox; return its id."""
    yield WRITE
    text = text.strip()
    if not text:
        raise UserError("the interruption is empty: focusq interrupt 'Sam asked about the invoice'")
    return (yield from interruption(text, now, source, task_id, urgent=urgent))


def interruption(
    text: str, now: float, source: str, task_id: int | None, *, urgent: bool = False
) -> Op[int]:
    rows = yield (
        "INSERT INTO interruptions (at, source, task_id, text, urgent) VALUES (?, ?, ?, ?, ?) "
        "RETURNING id",
        (now, source, task_id, text, int(urgent)),
    )
    payload = {"action": "captured", "id": rows[0][0], "urgent": urgent, "source": source}
    yield from event(task_id, EventKind.INTERRUPTION, payload, now)
    return int(rows[0][0])


def last_delivery() -> Op[float | None]:
    """When the latest batch of interruptions went out, if ever."""
    yield READ
    rows = yield ("SELECT max(delivered_at) FROM interruptions", ())
    return None if rows[0][0] is None else float(rows[0][0])


def inbox(*, held_only: bool = False, since: float = 0.0) -> Op[list[Record]]:
    """Interruptions captured since ``since``, and every one still held however old (one
    captured before midnight and never delivered is still for later), oldest first (only
    held ones if asked).

    Held: neither delivered nor dismissed.
    """
    yield READ
    where, params = _listed(held_only, since)
    rows = yield (f"SELECT * FROM interruptions WHERE {where} ORDER BY id", params)
    return [dict(r) for r in rows]


def _held(alias: str = "") -> str:
    """SQL: the interruption (``alias.``) is neither delivered nor dismissed."""
    return f"{alias}delivered_at IS NULL AND {alias}dismissed_at IS NULL"


def _listed(held_only: bool, since: float, alias: str = "") -> tuple[str, tuple[Any, ...]]:
    """SQL and its parameters: held interruptions, or those since ``since`` and every one
    still held."""
    if held_only:
        return _held(alias), ()
    return f"({alias}at >= ? OR {_held(alias)})", (since,)


def with_tasks(
    *, ids: Sequence[int] | None = None, since: float = 0.0, held_only: bool = False
) -> Op[list[Record]]:
    """Interruptions (``ids``, or those captured since ``since`` and every one still held)
    with their tasks now.

    Each row adds ``task_status``, ``task_title`` and ``task_ended`` (the task's state now,
    ``None`` without a task) and, for a job's end, ``result``: how that run ended.
    """
    yield READ
    select = """
        SELECT i.*, t.status AS task_status, t.title AS task_title, t.ended_at AS task_ended,
               CASE WHEN i.source = 'job' THEN (
                   SELECT json_extract(e.payload, '$.result') FROM events e
                   WHERE e.task_id = i.task_id AND e.kind = 'status' AND e.at = i.at
                   ORDER BY e.id DESC LIMIT 1
               ) END AS result
        FROM interruptions i LEFT JOIN tasks t ON t.id = i.task_id
    """
    held = f" AND {_held('i.')}" if held_only else ""
    if ids is None:
        where, params = _listed(held_only, since, "i.")
        rows = yield (f"{select} WHERE {where} ORDER BY i.id", params)
        return [dict(r) for r in rows]
    out: list[Record] = []
    for chunk, marks in in_chunks(ids):
        rows = yield (f"{select} WHERE i.id IN ({marks}){held} ORDER BY i.id", tuple(chunk))
        out += [dict(r) for r in rows]
    return sorted(out, key=lambda r: int(r["id"]))


def held() -> Op[list[tuple[int, float, bool]]]:
    """``(id, at, urgent)`` of every held interruption (cheap: for ``status --short``)."""
    yield READ
    rows = yield (
        f"SELECT id, at, urgent FROM interruptions WHERE {_held()} ORDER BY id",
        (),
    )
    return [(int(r[0]), float(r[1]), bool(r[2])) for r in rows]


def dismiss(ids: Sequence[int], now: float) -> Op[list[int]]:
    """Dismiss ``ids`` (delivered or still held); return those this call dismissed."""
    yield WRITE
    dismissed: list[int] = []
    for chunk, marks in in_chunks(ids):
        rows = yield (
            f"UPDATE interruptions SET dismissed_at = ? "
            f"WHERE dismissed_at IS NULL AND id IN ({marks}) RETURNING id",
            (now, *chunk),
        )
        dismissed += [int(r[0]) for r in rows]
    if dismissed:
        payload = {"action": "dismissed", "count": len(dismissed)}
        yield from event(None, EventKind.INTERRUPTION, payload, now)
    return dismissed


def deliver(ids: Sequence[int], now: float, reason: str) -> Op[list[int]]:
    """Mark ``ids`` delivered as one batch; return those this call delivered.

    An item another delivery took first (or one dismissed meanwhile) is left out, so two
    deliveries racing (two screens, or a refresh that overtook another) never take one
    item twice.
    """
    yield WRITE
    rows = yield ("SELECT coalesce(max(batch), 0) + 1 FROM interruptions", ())
    batch = int(rows[0][0])
    delivered: list[int] = []
    for chunk, marks in in_chunks(ids):
        rows = yield (
            f"UPDATE interruptions SET delivered_at = ?, batch = ? "
            f"WHERE {_held()} AND id IN ({marks}) "
            "RETURNING id",
            (now, batch, *chunk),
        )
        delivered += [int(r[0]) for r in rows]
    if delivered:
        payload = {"action": "delivered", "batch": batch, "count": len(delivered), "reason": reason}
        yield from event(None, EventKind.INTERRUPTION, payload, now)
    return delivered
