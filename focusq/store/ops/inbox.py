"""Interruptions: captured into the inbox, delivered in batches."""

from __future__ import annotations

from focusq.errors import UserError
from focusq.states import EventKind
from focusq.store.ops.base import READ, WRITE, event, in_chunks

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the quick CLI path milliseconds; annotations are strings
    from collections.abc import Sequence

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
    for chunk, marks in in_chunks(ids):
        rows = yield (
            f"UPDATE interruptions SET delivered_at = ?, batch = ? "
            f"WHERE delivered_at IS NULL AND id IN ({marks}) RETURNING id",
            (now, batch, *chunk),
        )
        delivered += [int(r[0]) for r in rows]
    if delivered:
        payload = {"action": "delivered", "batch": batch, "count": len(delivered), "reason": reason}
        yield from event(None, EventKind.INTERRUPTION, payload, now)
    return delivered
