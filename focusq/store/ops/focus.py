"""The focus slot: sessions, pauses, away time, what the focused task waits on, switches."""

from __future__ import annotations

from focusq.errors import UserError
from focusq.states import EventKind
from focusq.store.ops.base import READ, WRITE, event, require
from focusq.store.schema import OPEN_STATUSES_SQL

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the quick CLI path milliseconds; annotations are strings
    from focusq.store.ops.base import Op, Record


_FOCUS_COLUMNS = """
    f.id, f.task_id, f.started_at, f.ended_at, f.paused_at, f.paused_seconds,
    f.planned_minutes, f.outcome, t.title
"""


def current_focus() -> Op[Record | None]:
    """The open focus session with its task's title, if any."""
    yield READ
    return (yield from open_focus())


def open_focus() -> Op[Record | None]:
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
    task = yield from require(task_id)
    if task["kind"] != "creative":
        raise UserError(f"task {task_id} is a job: only creative tasks take the focus slot")
    if task["status"] not in ("queued", "held", "waiting"):
        raise UserError(f"task {task_id} is {task['status']}; focus on an open task")
    current = yield from open_focus()
    if current is not None:
        if current["task_id"] == task_id:
            raise UserError(f"task {task_id} is already in focus")
        if not switch:
            raise UserError(
                f"#{current['task_id']} {current['title']} is in focus; "
                f"'focusq focus {task_id} --switch' ends it and focuses #{task_id}"
            )
        yield from end_focus(current, now, "switched")
    rows = yield (
        "INSERT INTO focus_sessions (task_id, started_at, planned_minutes) VALUES (?, ?, ?) "
        "RETURNING id",
        (task_id, now, planned_minutes),
    )
    payload = {"action": "start", "session": rows[0][0], "planned_minutes": planned_minutes}
    yield from event(task_id, EventKind.FOCUS, payload, now)
    return (yield from open_focus())  # type: ignore[return-value]


def stop_focus(
    now: float, *, done: bool, outcome: str = "stopped", break_minutes: int | None = None
) -> Op[Record]:
    """End the focus session (``done`` also marks its task done); return the ended session.

    ``outcome`` says why it ended otherwise: ``stopped``, or ``break`` for a planned break
    of ``break_minutes`` (the review counts it as time off, not untracked time).
    """
    yield WRITE
    current = yield from open_focus()
    if current is None:
        raise UserError("nothing is in focus; 'focusq focus ID' starts a session")
    yield from end_focus(current, now, "done" if done else outcome, break_minutes)
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
            yield from event(current["task_id"], EventKind.STATUS, payload, now)
    return current


def end_focus(
    current: Record, now: float, outcome: str, break_minutes: int | None = None
) -> Op[None]:
    paused = now - current["paused_at"] if current["paused_at"] else 0.0
    yield (
        "UPDATE focus_sessions SET ended_at = ?, outcome = ?, paused_at = NULL, "
        "paused_seconds = paused_seconds + ? WHERE id = ?",
        (now, outcome, paused, current["id"]),
    )
    focused = now - current["started_at"] - current["paused_seconds"] - paused
    payload: dict[str, object] = {
        "action": "end",
        "outcome": outcome,
        "focused_seconds": round(focused, 1),
    }
    if break_minutes is not None:
        payload["break_minutes"] = break_minutes
    yield from event(current["task_id"], EventKind.FOCUS, payload, now)


def pause_focus(now: float, *, resume: bool) -> Op[Record]:
    """Pause or resume the focus session."""
    yield WRITE
    current = yield from open_focus()
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
    yield from event(current["task_id"], EventKind.FOCUS, {"action": action}, now)
    return (yield from open_focus())  # type: ignore[return-value]


def extend_focus(minutes: int, now: float) -> Op[Record]:
    """Plan ``minutes`` more for the open focus session."""
    yield WRITE
    current = yield from open_focus()
    if current is None:
        raise UserError("nothing is in focus")
    yield (
        "UPDATE focus_sessions SET planned_minutes = planned_minutes + ? WHERE id = ?",
        (minutes, current["id"]),
    )
    payload = {"action": "extend", "minutes": minutes}
    yield from event(current["task_id"], EventKind.FOCUS, payload, now)
    return (yield from open_focus())  # type: ignore[return-value]


def discount_focus(seconds: float, now: float, until: float | None = None) -> Op[None]:
    """Take ``seconds`` of away time, ending at ``until`` (default now), out of the session."""
    yield WRITE
    current = yield from open_focus()
    if current is None:
        return
    yield (
        "UPDATE focus_sessions SET paused_seconds = paused_seconds + ? WHERE id = ?",
        (seconds, current["id"]),
    )
    payload = {"action": "away", "seconds": round(seconds), "until": until or now}
    yield from event(current["task_id"], EventKind.FOCUS, payload, now)


def trim_focus(task_id: int, to: float, now: float) -> Op[Record]:
    """End ``task_id``'s latest session that began before ``to`` at ``to``, afterwards.

    For a session forgotten running: an open one is ended now (outcome ``trimmed``), and a
    ``trim`` event says the focus stopped at ``to``; the session's row and its events stay as
    they were, so the review counts up to ``to`` and the original can still be read.
    """
    yield WRITE
    yield from require(task_id)
    if to > now:
        raise UserError("--to is later than now: trim a session to a time it has passed")
    rows = yield (
        "SELECT f.*, t.title FROM focus_sessions f JOIN tasks t ON t.id = f.task_id "
        "WHERE f.task_id = ? AND f.started_at < ? ORDER BY f.started_at DESC LIMIT 1",
        (task_id, to),
    )
    if not rows:
        raise UserError(f"task {task_id} has no focus session that began before that time")
    session = dict(rows[0])
    was = session["ended_at"]
    if was is not None and was <= to:
        raise UserError(f"task {task_id}'s last session before then had already ended")
    if was is None:
        yield from end_focus(session, now, "trimmed")
    payload = {"action": "trim", "session": session["id"], "to": to, "was": was or now}
    yield from event(task_id, EventKind.FOCUS, payload, now)
    return {**session, "was": was or now, "to": to}


def last_focus_end() -> Op[float | None]:
    """When the latest focus session ended, if one has."""
    yield READ
    rows = yield ("SELECT max(ended_at) FROM focus_sessions", ())
    return None if rows[0][0] is None else float(rows[0][0])


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
    yield from event(from_id, EventKind.SWITCH, payload, now)
