"""Planned against actual: each finished task's estimate (``est:``) against the time it took.

Pure. The input is what ``store.ops.review.done_history`` read: the tasks finished in a span
(a day, or a week) and every focus and status event of theirs, on any day. A creative
task's actual time is its focus (pauses, time away and trims cut out); a job's is its runs,
every attempt. Over a week the tasks are grouped by tag and by project, so the review can
say "your +writing takes 1.6x what you estimate", and quick-add can suggest an estimate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from focusq.review.sessions import focus_stretches, runs_of, sessions_of


@dataclass(frozen=True, slots=True)
class Estimated:
    """One finished task: what was planned and what it took."""

    id: int
    title: str
    kind: str
    estimate_seconds: float | None
    actual_seconds: float
    tags: tuple[str, ...] = ()
    project: str | None = None

    @property
    def ratio(self) -> float | None:
        """Actual over estimate; ``None`` without an estimate."""
        if not self.estimate_seconds:
            return None
        return self.actual_seconds / self.estimate_seconds


@dataclass(frozen=True, slots=True)
class Planned:
    """A span's finished tasks, and the totals of those that had an estimate."""

    tasks: list[Estimated]
    planned_seconds: float
    """The estimates added up."""
    actual_seconds: float
    """What the estimated tasks took."""
    unestimated: int
    """Finished tasks without an estimate."""
    unestimated_seconds: float
    """What they took."""

    @property
    def ratio(self) -> float | None:
        """Actual over planned, for the estimated tasks; ``None`` when none was."""
        return self.actual_seconds / self.planned_seconds if self.planned_seconds else None


@dataclass(frozen=True, slots=True)
class Ratio:
    """How one tag or project's finished work compares with its estimates."""

    name: str
    """``+writing``, ``project:site``, or ``all``."""
    tasks: int
    estimate_seconds: float
    actual_seconds: float

    @property
    def ratio(self) -> float:
        """Actual over estimate."""
        return self.actual_seconds / self.estimate_seconds


def actual_seconds(events: Sequence[dict[str, Any]], until: float) -> dict[int, float]:
    """Task id -> its focus time plus its runs' time in ``events`` (one still going counts
    up to ``until``)."""
    out: dict[int, float] = {}
    for session in sessions_of(events, until):
        seconds = sum(b - a for a, b in focus_stretches(session))
        out[session.task_id] = out.get(session.task_id, 0.0) + seconds
    for run in runs_of(events):
        end = run.end if run.end is not None else until
        out[run.task_id] = out.get(run.task_id, 0.0) + max(0.0, end - run.start)
    return out


def planned(history: dict[str, Any], until: float) -> Planned:
    """The planned-against-actual figures of the tasks in ``history``."""
    tasks = history.get("tasks", {})
    actual = actual_seconds(history.get("events", []), until)
    rows = [
        Estimated(
            id=task_id,
            title=task["title"],
            kind=task["kind"],
            estimate_seconds=task.get("estimate") or None,
            actual_seconds=actual.get(task_id, 0.0),
            tags=tuple(task.get("tags") or ()),
            project=task.get("project"),
        )
        for task_id, task in tasks.items()
    ]
    estimated = [t for t in rows if t.estimate_seconds]
    bare = [t for t in rows if not t.estimate_seconds]
    return Planned(
        tasks=rows,
        planned_seconds=sum(t.estimate_seconds or 0.0 for t in estimated),
        actual_seconds=sum(t.actual_seconds for t in estimated),
        unestimated=len(bare),
        unestimated_seconds=sum(t.actual_seconds for t in bare),
    )


def ratios(tasks: Iterable[Estimated]) -> list[Ratio]:
    """``all`` first, then each tag and project, largest ratio first (ties by name).

    Only tasks with an estimate and some time taken count: a task finished without focus or
    runs (ticked off by hand) says nothing about how long such work takes.
    """
    groups: dict[str, list[Estimated]] = {}
    for task in tasks:
        if not task.estimate_seconds or task.actual_seconds <= 0:
            continue
        groups.setdefault("all", []).append(task)
        for tag in task.tags:
            groups.setdefault(f"+{tag}", []).append(task)
        if task.project:
            groups.setdefault(f"project:{task.project}", []).append(task)
    out = [
        Ratio(
            name,
            len(members),
            sum(t.estimate_seconds or 0.0 for t in members),
            sum(t.actual_seconds for t in members),
        )
        for name, members in groups.items()
    ]
    out.sort(key=lambda r: (r.name != "all", -round(r.ratio, 2), r.name))
    return out


def suggestion(
    week: Sequence[Ratio], tags: Sequence[str], project: str | None, estimate: float | None
) -> tuple[Ratio, float | None] | None:
    """The ratio that speaks for a new task (its project's, else its tag's with the most
    finished tasks), and its estimate scaled by it (``None`` without one). ``None`` when
    none of its tags or project has a ratio."""
    by_name = {r.name: r for r in week}
    candidates = [by_name[f"+{tag}"] for tag in tags if f"+{tag}" in by_name]
    if project and f"project:{project}" in by_name:
        candidates.insert(0, by_name[f"project:{project}"])
    if not candidates:
        return None
    best = max(candidates, key=lambda r: (r.name.startswith("project:"), r.tasks))
    return best, (estimate * best.ratio if estimate else None)


# -- words ----------------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    from focusq.review.export import duration

    return duration(seconds)


def estimate_words(task: Estimated) -> str:
    """``est 50m, took 1h 05m (1.3x)``, or ``no estimate, took 40m``."""
    took = f"took {_duration(task.actual_seconds)}"
    if task.estimate_seconds is None or task.ratio is None:
        return f"no estimate, {took}"
    return f"est {_duration(task.estimate_seconds)}, {took} ({task.ratio:.1f}x)"


def total_words(p: Planned) -> str:
    """The span's total: ``planned 2h 00m, took 2h 30m (1.2x); 1 task without ...``."""
    parts = []
    if p.planned_seconds:
        parts.append(
            f"planned {_duration(p.planned_seconds)}, took {_duration(p.actual_seconds)}"
            f" ({p.ratio:.1f}x)"
        )
    if p.unestimated:
        many = "task" if p.unestimated == 1 else "tasks"
        parts.append(
            f"{p.unestimated} {many} without an estimate took {_duration(p.unestimated_seconds)}"
        )
    return "; ".join(parts) or "nothing finished"


def ratio_words(r: Ratio) -> str:
    """``+writing: 5 tasks, est 4h 10m, took 6h 40m: 1.6x`` and what it means."""
    many = "task" if r.tasks == 1 else "tasks"
    head = (
        f"{r.name}: {r.tasks} {many}, est {_duration(r.estimate_seconds)}, "
        f"took {_duration(r.actual_seconds)}: {r.ratio:.1f}x"
    )
    if r.name == "all" or round(r.ratio, 1) == 1.0:
        return head
    subject = r.name if r.name.startswith("+") else r.name.removeprefix("project:")
    return f"{head}  (your {subject} takes {r.ratio:.1f}x what you estimate)"


def text_lines(p: Planned) -> list[str]:
    """The day's planned-against-actual section for ``focusq review`` (none without an
    estimate among the finished tasks)."""
    if not p.planned_seconds:
        return []
    out = ["", "Planned against actual"]
    out += [f"  #{t.id:<5} {t.title}  ({estimate_words(t)})" for t in p.tasks]
    out.append(f"  total  {total_words(p)}")
    return out


def week_text(start: str, end: str, p: Planned, week: Sequence[Ratio]) -> str:
    """What ``focusq review --week`` prints."""
    out = [f"Planned against actual, {start} to {end}", f"  {total_words(p)}", ""]
    if not week:
        out.append("No finished task had an estimate and time on it: nothing to compare.")
    out += [ratio_words(r) for r in week]
    return "\n".join(out) + "\n"
