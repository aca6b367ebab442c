"""Groups as the shell changed them: a cap set at once, a group paused (over the config)."""

from __future__ import annotations

from focusq.states import EventKind
from focusq.store.ops.base import READ, WRITE, event

TYPE_CHECKING = False
if TYPE_CHECKING:
    from focusq.store.ops.base import Op, Record


def group_states() -> Op[dict[str, Record]]:
    """Each group the shell changed: ``{"parallel": 2 or None, "paused": bool}``."""
    yield READ
    rows = yield ("SELECT name, parallel, paused FROM groups ORDER BY name", ())
    return {r[0]: {"parallel": r[1], "paused": bool(r[2])} for r in rows}


def set_group(
    name: str, now: float, *, parallel: int | None = None, paused: bool | None = None
) -> Op[Record]:
    """Set a group's cap (``parallel``) and/or pause it; return its new state."""
    yield WRITE
    yield (
        """
        INSERT INTO groups (name, parallel, paused, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET
            parallel = coalesce(excluded.parallel, parallel),
            paused = CASE WHEN ? IS NULL THEN paused ELSE excluded.paused END,
            updated_at = excluded.updated_at
        """,
        (name, parallel, int(bool(paused)), now, paused),
    )
    payload: Record = {"group": name}
    if parallel is not None:
        payload["parallel"] = parallel
    if paused is not None:
        payload["paused"] = paused
    yield from event(None, EventKind.GROUP, payload, now)
    rows = yield ("SELECT parallel, paused FROM groups WHERE name = ?", (name,))
    return {"name": name, "parallel": rows[0][0], "paused": bool(rows[0][1])}


def group_counts() -> Op[dict[str, dict[str, int]]]:
    """Open jobs by group and state: ``{"build": {"running": 2, "queued": 5}}``."""
    yield READ
    rows = yield (
        """
        SELECT grp, status, count(*) FROM tasks
        WHERE grp IS NOT NULL AND kind = 'mechanical'
          AND status IN ('queued', 'waiting', 'held', 'running', 'paused')
        GROUP BY grp, status
        """,
        (),
    )
    counts: dict[str, dict[str, int]] = {}
    for group, status, n in rows:
        counts.setdefault(group, {})[status] = n
    return counts
