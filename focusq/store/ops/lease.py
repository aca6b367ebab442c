"""The worker lease: one live worker per database."""

from __future__ import annotations

from focusq.states import EventKind
from focusq.store.ops.base import READ, WRITE, event, newest_event

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the quick CLI path milliseconds; annotations are strings
    from collections.abc import Callable

    from focusq.store.ops.base import Op, Record


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
    yield from event(None, EventKind.WORKER, {"event": "started", "pid": holder["pid"]}, now)
    return None


def beat(pid: int, now: float) -> Op[bool]:
    """Refresh the heartbeat; ``False`` if the lease is no longer ours."""
    yield WRITE
    rows = yield (
        "UPDATE lease SET heartbeat = ? WHERE name = 'worker' AND pid = ? RETURNING pid",
        (now, pid),
    )
    return bool(rows)


def drop_lease_if_quiet(pid: int, seen: int, now: float) -> Op[bool]:
    """Give the lease up (an idle worker exiting) unless an event newer than ``seen`` was
    committed meanwhile; ``True`` if it was given up.

    A command that adds work commits it, then looks for a live worker and starts one if
    there is none. Either this transaction comes first (the command finds no lease and
    starts a worker), or the command's does (this one sees its event and the worker stays):
    work is never left with a worker that was about to exit.
    """
    yield WRITE
    newest = yield from newest_event()
    if newest > seen:
        return False
    yield from _drop(pid, now)
    return True


def drop_lease(pid: int, now: float) -> Op[None]:
    """Give the lease up (the worker is exiting)."""
    yield WRITE
    yield from _drop(pid, now)


def _drop(pid: int, now: float) -> Op[None]:
    rows = yield ("DELETE FROM lease WHERE name = 'worker' AND pid = ? RETURNING pid", (pid,))
    if rows:
        yield from event(None, EventKind.WORKER, {"event": "stopped", "pid": pid}, now)


def lease_holder() -> Op[Record | None]:
    """The recorded worker lease, if any."""
    yield READ
    rows = yield ("SELECT * FROM lease WHERE name = 'worker'", ())
    return dict(rows[0]) if rows else None
