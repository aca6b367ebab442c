"""What a batch of interruptions shows: the state of things now, not a log of events. Pure.

Each item was captured when something happened; by the time a batch goes out, much of it
may be settled. :func:`fold` turns the items, with the current state of the tasks they
name, into the few lines worth reading:

- An item about a task since dropped, or a gate already approved (its job no longer
  waits), is left out.
- Of several ends of one job, only the latest counts; a failure whose job has since
  succeeded is one line (``#12 build: failed, then ok at 11:38``), a failure whose job
  runs again is one line too, and neither offers a retry.
- Routine items fold: jobs that finished ok become ``7 jobs finished ok``, tasks
  quick-added during focus ``3 tasks added`` (a job added and ended since counts once,
  by its end).
- Notes, failures still failed, gates still waiting and every urgent item get a line of
  their own: they need a decision.

Nothing is lost: every item is on exactly one line or left out, and the caller marks all
of them delivered (or dismissed) together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

GONE = frozenset({"dropped"})
"""Task states that make every item about the task stale."""
OPEN = frozenset({"queued", "waiting", "held", "running", "paused"})
"""Task states of a job that will run (again)."""
ROUTINE_ENDS = frozenset({"ok", "cancelled"})
"""How a job may end without anyone having to decide anything."""
DECIDE = frozenset({"note", "failed", "gate"})
"""Kinds of lines that ask for a decision."""


@dataclass(frozen=True, slots=True)
class Item:
    """One interruption, with the state now of the task it names (if any)."""

    id: int
    at: float
    text: str
    source: str = "note"
    """``note`` (captured by hand), ``job`` (a job ended), ``gate``, ``quickadd``."""
    urgent: bool = False
    task_id: int | None = None
    result: str | None = None
    """For a job's end: how that run ended (``ok``, ``failed`` ...)."""
    task_status: str | None = None
    task_title: str | None = None
    task_ended: float | None = None


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a batch, standing for one or more items."""

    text: str
    ids: tuple[int, ...]
    at: float
    kind: str
    """``note``, ``failed``, ``gate`` (a decision), ``settled`` (a failure since dealt
    with), ``routine`` (one routine item) or ``folded`` (several)."""
    task_id: int | None = None
    urgent: bool = False
    actions: tuple[str, ...] = ("dismiss",)
    """What may be done to it: ``retry``, ``approve``, ``task``, ``open``, ``dismiss``."""

    @property
    def decision(self) -> bool:
        """Whether the line asks for a decision (everything else is for information)."""
        return self.urgent or self.kind in DECIDE


@dataclass(frozen=True, slots=True)
class Folded:
    """The lines to show, and the items left out as stale."""

    lines: tuple[Line, ...] = ()
    left_out: tuple[int, ...] = field(default=())

    @property
    def decisions(self) -> int:
        """How many lines ask for a decision."""
        return sum(line.decision for line in self.lines)


def fold(items: Sequence[Item]) -> Folded:
    """The lines a batch of ``items`` shows now, and the ids left out as stale."""
    lines: list[Line] = []
    left_out: list[int] = []
    ok: list[Item] = []
    cancelled: list[Item] = []
    added: list[Item] = []
    ends: dict[int, list[Item]] = {}
    for item in sorted(items, key=lambda i: i.id):
        if item.task_status in GONE:
            left_out.append(item.id)
        elif item.source == "job" and item.task_id is not None:
            ends.setdefault(item.task_id, []).append(item)
        elif item.source == "gate":
            if item.task_status in (None, "waiting"):
                lines.append(_own(item, "gate", ("approve", "open", "dismiss")))
            else:
                left_out.append(item.id)  # approved (or ended) since
        elif item.source == "quickadd" and not item.urgent:
            added.append(item)
        else:
            actions = ("task", "open", "dismiss") if item.task_id else ("task", "dismiss")
            lines.append(_own(item, "note", actions))
    for item in list(added):
        if item.task_id in ends:
            added.remove(item)  # the job it added has ended since: its end says more
            left_out.append(item.id)
    for job_items in ends.values():
        line, routine, stale = _job(job_items)
        left_out += stale
        if line is not None:
            lines.append(line)
        elif routine is not None:
            (ok if routine.result == "ok" else cancelled).append(routine)
    lines.sort(key=lambda line: (not line.urgent, not line.decision, line.at))
    for group, what in ((ok, "finished ok"), (cancelled, "cancelled"), (added, "added")):
        if group:
            lines.append(_folded(group, what))
    return Folded(tuple(lines), tuple(sorted(left_out)))


def _own(item: Item, kind: str, actions: tuple[str, ...]) -> Line:
    return Line(item.text, (item.id,), item.at, kind, item.task_id, item.urgent, actions)


def _job(items: list[Item]) -> tuple[Line | None, Item | None, list[int]]:
    """One job's ends: a line of its own, or the latest end if routine; the stale ids."""
    latest = items[-1]
    failures = [i for i in items if i.result not in ROUTINE_ENDS]
    status = latest.task_status
    ids = tuple(i.id for i in items)
    at = max(i.at for i in items)
    title = f"#{latest.task_id} {latest.task_title or ''}".rstrip()
    if failures and status == "done":
        was = failures[-1].result or "failed"
        when = _hhmm(latest.task_ended) if latest.task_ended else ""
        text = f"{title}: {was}, then ok" + (f" at {when}" if when else "")
        urgent = any(i.urgent for i in items)
        return Line(text, ids, at, "settled", latest.task_id, urgent, ("open", "dismiss")), None, []
    if latest.result in ROUTINE_ENDS and not latest.urgent:
        return None, latest, [i.id for i in items[:-1]]  # earlier ends are superseded
    if latest.result not in ROUTINE_ENDS and status in OPEN:
        text = f"{title}: {latest.result or 'failed'}, {_again(status)}"
        line = Line(text, ids, at, "settled", latest.task_id, latest.urgent, ("open", "dismiss"))
        return line, None, []
    actions = ("open", "dismiss") if latest.result in ROUTINE_ENDS else ("retry", "open", "dismiss")
    kind = "routine" if latest.result in ROUTINE_ENDS else "failed"
    line = Line(latest.text, (latest.id,), latest.at, kind, latest.task_id, latest.urgent, actions)
    return line, None, [i.id for i in items[:-1]]


def _again(status: str | None) -> str:
    return {"queued": "queued again", "running": "running again"}.get(status or "", "retried")


def _folded(group: list[Item], what: str) -> Line:
    ids = tuple(i.id for i in group)
    at = max(i.at for i in group)
    if len(group) == 1:
        [only] = group
        return Line(only.text, ids, at, "routine", only.task_id, False, ("open", "dismiss"))
    noun = "tasks" if what == "added" else "jobs"
    return Line(f"{len(group)} {noun} {what}", ids, at, "folded")


def _hhmm(at: float) -> str:
    return datetime.fromtimestamp(at).strftime("%H:%M")


def item_of(row: Mapping[str, Any]) -> Item:
    """An :class:`Item` from a stored interruption joined with its task (see the store's
    ``inbox.with_tasks``)."""
    return Item(
        id=int(row["id"]),
        at=float(row["at"]),
        text=str(row["text"]),
        source=str(row.get("source") or "note"),
        urgent=bool(row.get("urgent")),
        task_id=row.get("task_id"),
        result=row.get("result"),
        task_status=row.get("task_status"),
        task_title=row.get("task_title"),
        task_ended=row.get("task_ended"),
    )
