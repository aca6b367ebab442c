"""The runs and focus sessions an event log holds, with their stretches of focus.

Pure. A run starts at its ``queued -> running`` event (the one with an ``attempt``) and ends
at the next status event of its task that carries a ``result``. A focus session starts at
its ``start`` event and ends at its ``end``; its pauses, the time away the user chose not to
count, and the time after a trim (``focusq focus --trim``) are cut out of it.

Pauses and breaks are the time off the user told focusq of: a session's pauses, and the
break a session ended with (``b`` when the planned time is up), for the minutes it was
taken for or until the next session began. The review counts what is neither focus nor
such a rest, in async blocks, as untracked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

Interval = tuple[float, float]

DEFAULT_BREAK_MINUTES = 10
"""A break's length when its ``end`` event does not say (written before it did): the
default of ``[focus] break_minutes``."""


@dataclass(slots=True)
class Run:
    """One attempt of a job: when it started and ended, and how."""

    task_id: int
    attempt: int
    start: float
    end: float | None = None
    result: str | None = None
    exit_code: int | None = None


@dataclass(slots=True)
class Session:
    """One focus session: its stretches of focus, and the time cut out of them."""

    task_id: int
    start: float
    resumed: float | None
    stretches: list[Interval] = dataclasses.field(default_factory=list)
    away: list[Interval] = dataclasses.field(default_factory=list)
    number: int | None = None
    """The session's id (its ``start`` event's ``session``): what a trim names."""
    pauses: list[Interval] = dataclasses.field(default_factory=list)
    """When it was paused (a pause still on at its end lasts until then)."""
    paused: float | None = None


def runs_of(events: Iterable[dict[str, Any]]) -> list[Run]:
    """The runs in ``events``, in the order they started."""
    runs: list[Run] = []
    open_runs: dict[int, Run] = {}
    for e in events:
        if e["kind"] != "status" or e["task_id"] is None:
            continue
        p = e["payload"]
        if p.get("to") == "running" and "attempt" in p:
            run = Run(e["task_id"], int(p["attempt"]), e["at"])
            open_runs[e["task_id"]] = run
            runs.append(run)
        elif p.get("from") in ("running", "paused") and "result" in p:
            run_or_none = open_runs.pop(e["task_id"], None)
            if run_or_none is not None:
                run_or_none.end, run_or_none.result = e["at"], p["result"]
                run_or_none.exit_code = p.get("exit_code")
    return runs


def sessions_of(events: Sequence[dict[str, Any]], until: float) -> list[Session]:
    """The focus sessions in ``events``, one still going counted up to ``until``; a trimmed
    session loses what came after the time it was trimmed to."""
    sessions: list[Session] = []
    current: Session | None = None

    def stop(at: float) -> None:
        if current is not None and current.resumed is not None:
            current.stretches.append((current.resumed, at))
            current.resumed = None
        if current is not None and current.paused is not None:
            current.pauses.append((current.paused, at))
            current.paused = None

    for e in events:
        if e["kind"] != "focus":
            continue
        action, at = e["payload"].get("action"), e["at"]
        if action == "start":
            stop(at)
            current = Session(e["task_id"], at, at, number=e["payload"].get("session"))
            sessions.append(current)
        elif current is None:
            continue
        elif action == "pause":
            stop(at)
            current.paused = at
        elif action == "resume" and current.resumed is None:
            stop(at)
            current.resumed = at
        elif action == "away":
            back = float(e["payload"].get("until") or at)
            current.away.append((back - float(e["payload"]["seconds"]), back))
        elif action == "end":
            stop(at)
            current = None
    if current is not None:
        stop(until)
    trims = trimmed_to(events)
    for session in sessions:
        if session.number in trims:
            session.away.append((trims[session.number], float("inf")))
            # Forgotten running: after the trim it was no more a pause than focus.
            session.pauses = cut(session.pauses, trims[session.number], float("inf"))
    return sessions


def rests_of(
    events: Iterable[dict[str, Any]], sessions: Iterable[Session], until: float
) -> list[Interval]:
    """The pauses of ``sessions`` and the breaks in ``events`` (up to ``until``): the time
    off the user told focusq of. A break lasts the minutes its ``end`` event names
    (:data:`DEFAULT_BREAK_MINUTES` if none) or until the next session began."""
    breaks: list[Interval] = []
    for e in events:
        if e["kind"] != "focus":
            continue
        action, at = e["payload"].get("action"), e["at"]
        if action == "start" and breaks and breaks[-1][1] > at:
            breaks[-1] = (breaks[-1][0], at)  # back to work before the break was over
        elif action == "end" and e["payload"].get("outcome") == "break":
            minutes = e["payload"].get("break_minutes") or DEFAULT_BREAK_MINUTES
            breaks.append((at, min(at + float(minutes) * 60, until)))
    pauses = [p for s in sessions for p in s.pauses]
    return [(a, b) for a, b in (*pauses, *breaks) if b > a]


def trimmed_to(events: Iterable[dict[str, Any]]) -> dict[int, float]:
    """Session id -> the time it was trimmed to (the last trim of a session stands)."""
    return {
        int(e["payload"]["session"]): float(e["payload"]["to"])
        for e in events
        if e["kind"] == "focus" and e["payload"].get("action") == "trim"
    }


def focus_stretches(session: Session) -> list[Interval]:
    """The session's stretches of focus with the time away cut out."""
    stretches = session.stretches
    for cut_a, cut_b in session.away:
        stretches = cut(stretches, cut_a, cut_b)
    return stretches


def cut(intervals: Iterable[Interval], cut_a: float, cut_b: float) -> list[Interval]:
    """``intervals`` without the time from ``cut_a`` to ``cut_b``."""
    kept: list[Interval] = []
    for a, b in intervals:
        if cut_b <= a or cut_a >= b:
            kept.append((a, b))
            continue
        if a < cut_a:
            kept.append((a, cut_a))
        if cut_b < b:
            kept.append((cut_b, b))
    return kept
