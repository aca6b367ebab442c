"""The end-of-day review: what a day's event log says about how it went.

Pure: :func:`figures` takes a :class:`DayLog` (the rows ``store.ops.review.day_log`` read, the
day's time blocks and the time now) and returns a :class:`Review`. Nothing here reads a
clock, a file or the database, so every figure is tested on a constructed day.

How the figures are read from the events:

- A run starts at its ``queued -> running`` event (the one with an ``attempt``) and ends at
  the next status event of its task that carries a ``result``. A paused job's time counts.
- A focus session starts at its ``start`` event and ends at its ``end``; its pauses, and the
  time away the user chose not to count, are cut out of it. A session or run still going is
  counted up to now (or the day's end, for a past day); one that began before midnight is
  counted from midnight.
- Untracked time is the time in async blocks, up to now, that was neither focus nor a rest
  the user told focusq of (a pause, or a break a session ended with): time away that was
  not counted, and the time between sessions.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from focusq.review.day import BlockSpan, DayLog
from focusq.review.planned import Planned, planned
from focusq.review.recurring import MissedTimes, missed_times
from focusq.review.sessions import (
    Interval,
    Run,
    Session,
    focus_stretches,
    rests_of,
    runs_of,
    sessions_of,
)
from focusq.review.untracked import Gap, union, untracked_gaps

CARRIED_FLAG = 3
"""Carried this many times, a task is flagged: "carried 3 times: backlog?"."""

FAILED_RESULTS = ("failed", "spawn_error", "timed_out", "interrupted")
"""Run results the review lists as failures."""


# -- what it says ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DoneTask:
    """A task finished during the day."""

    id: int
    title: str
    kind: str
    at: float
    focus_seconds: float
    """Creative: time in focus on it during the day."""
    run_seconds: float
    """Mechanical: time its runs took during the day (every attempt)."""
    runs: int
    executor: str | None = None
    """The executor its last run of the day ran on, when not this machine's."""
    host: str | None = None
    """The host that run ran on (another executor's), if known."""


@dataclass(frozen=True, slots=True)
class TaskFocus:
    """Focus time on one task."""

    id: int
    title: str
    seconds: float
    sessions: int


@dataclass(frozen=True, slots=True)
class BlockUse:
    """One planned block and how much focus went into it."""

    start: float
    end: float
    mode: str
    label: str
    planned_seconds: float
    focus_seconds: float
    untracked_seconds: float = 0.0
    """An async block's time so far that was neither focus nor a pause or break."""


@dataclass(frozen=True, slots=True)
class Focus:
    """The focus slot over the day."""

    seconds: float
    sessions: int
    longest_seconds: float
    """The longest stretch of focus without a pause, a switch or an end."""
    by_mode: dict[str, float]
    """Focus seconds in ``async`` blocks, ``sync`` blocks and ``free`` time."""
    blocks: list[BlockUse]
    tasks: list[TaskFocus]
    async_seconds: float = 0.0
    """The time in async blocks so far (up to now, or the day's end)."""
    rest_seconds: float = 0.0
    """Of that, the time paused or on a break."""
    untracked_seconds: float = 0.0
    """Of that, the time neither in focus nor paused or on a break: ``async_seconds`` is
    ``by_mode["async"] + rest_seconds + untracked_seconds``."""


@dataclass(frozen=True, slots=True)
class Interruptions:
    """What came in while the user worked, and how it was handed over."""

    captured: int
    urgent: int
    """Captured marked urgent."""
    batches: int
    """Batches of held items released at a boundary (focus ended, a sync block, the interval)."""
    delivered: int
    """Items in those batches."""
    broke_through: int
    """Urgent items that broke through focus or async time on their own."""
    at_once: int
    """Items shown as they came (sync or free time, no focus): nothing was held."""
    by_source: dict[str, int]
    from_others: int = 0
    """Captured notes (``focusq interrupt``, ``i``): what other people brought."""
    self_made: int = 0
    """Quick-adds during focus, and switches of task the user chose (not offered)."""
    from_jobs: int = 0
    """Jobs that ended or wait at a gate."""


@dataclass(frozen=True, slots=True)
class Switches:
    """Context switches: the switch prompts and their answers, and changes of focused task."""

    offered: int
    accepted: int
    declined: int
    task_switches: int
    """Times the focus slot took a different task than the session before."""


@dataclass(frozen=True, slots=True)
class FailureNote:
    """What the user wrote about a failed run."""

    at: float
    attempt: int
    text: str


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed run, with the end of its log and every note written about its task."""

    task_id: int
    title: str
    attempt: int
    result: str
    exit_code: int | None
    at: float
    tail: str
    status: str
    """The task's status now: ``queued`` again if it will be retried, ``done`` if a retry won."""
    notes: list[FailureNote]
    executor: str | None = None
    """The executor the run ran on, when not this machine's."""
    host: str | None = None
    """The host it ran on (another executor's), if known."""


@dataclass(frozen=True, slots=True)
class Jobs:
    """The mechanical side over the day."""

    runs: int
    """Runs that ended during the day, plus those still going."""
    ok: int
    failed: int
    """Ended ``failed`` or ``spawn_error``."""
    timed_out: int
    cancelled: int
    interrupted: int
    running: int
    retried: int
    """Runs that were a second or later attempt."""
    job_seconds: float
    """The runs' time added up: what they would have taken one after another."""
    wall_seconds: float
    """The time when at least one job was running."""
    parallel_gain: float | None
    """``job_seconds / wall_seconds``; ``None`` on a day without jobs."""
    failures: list[Failure]


@dataclass(frozen=True, slots=True)
class Span:
    """A bar on the timeline: a focus stretch or a run."""

    start: float
    end: float
    task_id: int
    title: str
    result: str | None = None
    """A run's result, ``None`` while it runs; ``focus`` for focus."""
    executor: str | None = None
    """The executor a run ran on; ``None`` on this machine (and for focus)."""
    host: str | None = None
    """The host a run on another executor ran on, if known."""


@dataclass(frozen=True, slots=True)
class Timeline:
    """The day drawn: the focus lane and one lane per job slot, over the time blocks.

    A lane holds the runs of one executor: this machine's lanes come first, then each
    other executor's, by name."""

    start: float
    end: float
    blocks: list[BlockSpan]
    focus: list[Span]
    slots: list[list[Span]]
    untracked: list[Gap] = dataclasses.field(default_factory=list)
    """The gaps in async blocks, drawn in the focus lane."""


@dataclass(frozen=True, slots=True)
class Unfinished:
    """Work left at the end of the day, and the review's answer for it so far."""

    id: int
    title: str
    kind: str
    status: str
    answer: str | None
    notes: list[FailureNote] = dataclasses.field(default_factory=list)
    """Failure notes written about it on any day."""
    carried: int = 0
    """Times a review carried it to the next day: at :data:`CARRIED_FLAG`, the review
    asks whether it belongs in the backlog."""


@dataclass(frozen=True, slots=True)
class Review:
    """Everything the review screen, ``focusq review`` and the Markdown export show."""

    day: str
    start: float
    end: float
    closed_at: float | None
    done: list[DoneTask]
    focus: Focus
    interruptions: Interruptions
    switches: Switches
    jobs: Jobs
    timeline: Timeline
    unfinished: list[Unfinished]
    older_failures: int = 0
    """Jobs that failed on earlier days and were never answered (``focusq clean``)."""
    planned: Planned = dataclasses.field(default_factory=lambda: Planned([], 0.0, 0.0, 0, 0.0))
    """The day's finished tasks: their estimates against the time they took."""
    recurring: list[MissedTimes] = dataclasses.field(default_factory=list)
    """Recurring jobs whose due times passed while no worker ran, and what was caught up."""


# -- computing it ---------------------------------------------------------------------------


def figures(log: DayLog) -> Review:
    """The review of ``log.day``."""
    until = min(log.now, log.end)
    runs = runs_of(log.events)
    sessions = sessions_of(log.events, until)
    # Each session's stretches of focus within the day, worked out once.
    focused = [(s, _clip(focus_stretches(s), log.start, until)) for s in sessions]
    focus_spans = [
        Span(a, b, s.task_id, _title(log, s.task_id), "focus")
        for s, stretches in focused
        for a, b in stretches
    ]
    job_spans = [
        Span(a, b, r.task_id, _title(log, r.task_id), r.result, *_ran_on(log, r))
        for r in runs
        for a, b in _clip([(r.start, r.end if r.end is not None else until)], log.start, until)
    ]
    # The day's runs: those that ended during it, and those still going at its end.
    day_runs = [r for r in runs if (r.end is None and r.start < log.end) or _ends_in(log, r)]
    notes = _notes(log)
    switches = _switches(log, sessions)
    rests = rests_of(log.events, sessions, until)
    covered = union([*((s.start, s.end) for s in focus_spans), *rests])
    gaps = untracked_gaps(log.blocks, log.start, until, covered)
    return Review(
        day=log.day.isoformat(),
        start=log.start,
        end=log.end,
        closed_at=log.closed_at,
        done=_done(log, focus_spans, job_spans, day_runs),
        focus=_focus(log, until, focused, focus_spans, gaps),
        interruptions=_interruptions(log, switches),
        switches=switches,
        jobs=_jobs(log, day_runs, job_spans, notes),
        timeline=_timeline(log, focus_spans, job_spans, gaps),
        unfinished=_unfinished(log, notes),
        older_failures=log.older_failures,
        planned=planned(log.history, until),
        recurring=missed_times(log),
    )


def _title(log: DayLog, task_id: int) -> str:
    task = log.tasks.get(task_id)
    return task["title"] if task else f"task {task_id}"


def _ran_on(log: DayLog, run: Run) -> tuple[str | None, str | None]:
    """The executor and host ``run`` ran on; ``(None, None)`` on this machine."""
    return log.elsewhere.get((run.task_id, run.attempt), (None, None))


def _in_day(log: DayLog, at: float) -> bool:
    return log.start <= at < log.end


def _ends_in(log: DayLog, run: Run) -> bool:
    return run.end is not None and _in_day(log, run.end)


def _clip(intervals: Iterable[Interval], lo: float, hi: float) -> list[Interval]:
    return [(max(a, lo), min(b, hi)) for a, b in intervals if min(b, hi) > max(a, lo)]


def _overlap(spans: Iterable[Span | Gap], lo: float, hi: float) -> float:
    return sum(max(0.0, min(s.end, hi) - max(s.start, lo)) for s in spans)


def _union_length(intervals: Iterable[Interval]) -> float:
    return sum(b - a for a, b in union(intervals))


def _done(
    log: DayLog, focus: Sequence[Span], jobs: Sequence[Span], runs: Sequence[Run]
) -> list[DoneTask]:
    finished: dict[int, float] = {}
    for e in log.events:
        if e["kind"] != "status" or not _in_day(log, e["at"]):
            continue
        if e["payload"].get("to") == "done":
            finished.pop(e["task_id"], None)  # keep the last finish, in order
            finished[e["task_id"]] = e["at"]
        elif e["payload"].get("from") == "done":
            finished.pop(e["task_id"], None)  # retried the same day: not done after all
    out = []
    for task_id, at in finished.items():
        task = log.tasks.get(task_id, {})
        own_runs = [s for s in jobs if s.task_id == task_id]
        last = max((r for r in runs if r.task_id == task_id), key=lambda r: r.start, default=None)
        executor, host = _ran_on(log, last) if last else (None, None)
        out.append(
            DoneTask(
                id=task_id,
                title=_title(log, task_id),
                kind=task.get("kind", "creative"),
                at=at,
                focus_seconds=sum(s.end - s.start for s in focus if s.task_id == task_id),
                run_seconds=sum(s.end - s.start for s in own_runs),
                runs=sum(r.task_id == task_id for r in runs),
                executor=executor,
                host=host,
            )
        )
    return out


def _focus(
    log: DayLog,
    until: float,
    focused: Sequence[tuple[Session, list[Interval]]],
    spans: Sequence[Span],
    gaps: Sequence[Gap],
) -> Focus:
    by_mode = {"async": 0.0, "sync": 0.0, "free": 0.0}
    blocks = []
    elapsed = untracked = 0.0
    for block in log.blocks:
        seconds = _overlap(spans, block.start, block.end)
        by_mode[block.mode] = by_mode.get(block.mode, 0.0) + seconds
        if block.mode == "free":
            continue
        lost = _overlap(gaps, block.start, block.end)
        if block.mode == "async":
            elapsed += max(0.0, min(block.end, until) - max(block.start, log.start))
            untracked += lost
        planned = block.end - block.start
        blocks.append(
            BlockUse(block.start, block.end, block.mode, block.label, planned, seconds, lost)
        )
    if not log.blocks:  # no plan: the whole day is free time
        by_mode["free"] = sum(s.end - s.start for s in spans)
    per_task: dict[int, list[float]] = {}
    for session, stretches in focused:
        seconds = sum(b - a for a, b in stretches)
        if seconds > 0:
            entry = per_task.setdefault(session.task_id, [0.0, 0])
            entry[0] += seconds
            entry[1] += 1
    tasks = [
        TaskFocus(task_id, _title(log, task_id), seconds, int(count))
        for task_id, (seconds, count) in sorted(per_task.items(), key=lambda kv: -kv[1][0])
    ]
    return Focus(
        seconds=sum(s.end - s.start for s in spans),
        sessions=sum(t.sessions for t in tasks),
        longest_seconds=max((s.end - s.start for s in spans), default=0.0),
        by_mode=by_mode,
        blocks=blocks,
        tasks=tasks,
        async_seconds=elapsed,
        rest_seconds=max(0.0, elapsed - by_mode["async"] - untracked),
        untracked_seconds=untracked,
    )


def _interruptions(log: DayLog, switches: Switches) -> Interruptions:
    captured = urgent = batches = delivered = broke_through = at_once = 0
    by_source: dict[str, int] = {}
    for e in log.events:
        if e["kind"] != "interruption" or not _in_day(log, e["at"]):
            continue
        p = e["payload"]
        if p.get("action") == "captured":
            captured += 1
            urgent += bool(p.get("urgent"))
            source = str(p.get("source", "note"))
            by_source[source] = by_source.get(source, 0) + 1
        elif p.get("action") == "delivered":
            count, reason = int(p.get("count", 0)), p.get("reason")
            if reason == "urgent":
                broke_through += count
            elif reason == "at once":
                at_once += count
            else:
                batches += 1
                delivered += count
    chosen = max(0, switches.task_switches - switches.accepted)
    return Interruptions(
        captured,
        urgent,
        batches,
        delivered,
        broke_through,
        at_once,
        dict(sorted(by_source.items())),
        from_others=by_source.get("note", 0),
        self_made=by_source.get("quickadd", 0) + chosen,
        from_jobs=by_source.get("job", 0) + by_source.get("gate", 0),
    )


def _switches(log: DayLog, sessions: Sequence[Session]) -> Switches:
    answers = [
        bool(e["payload"].get("accepted"))
        for e in log.events
        if e["kind"] == "switch" and _in_day(log, e["at"])
    ]
    # A switch is a session started during the day on another task than the one before it
    # (which may have begun before midnight).
    changes = sum(
        a.task_id != b.task_id and _in_day(log, b.start) for a, b in itertools.pairwise(sessions)
    )
    return Switches(len(answers), sum(answers), answers.count(False), changes)


def _notes(log: DayLog) -> dict[int, list[FailureNote]]:
    notes: dict[int, list[FailureNote]] = {}
    for n in log.notes:
        note = FailureNote(n["at"], int(n.get("attempt", 0)), n["text"])
        notes.setdefault(n["task_id"], []).append(note)
    return notes


def _jobs(
    log: DayLog,
    counted: Sequence[Run],
    spans: Sequence[Span],
    notes: dict[int, list[FailureNote]],
) -> Jobs:
    results = [r.result for r in counted]
    failures = [
        Failure(
            task_id=r.task_id,
            title=_title(log, r.task_id),
            attempt=r.attempt,
            result=r.result or "",
            exit_code=r.exit_code,
            at=r.end or log.end,
            tail=log.tails.get((r.task_id, r.attempt), ""),
            status=log.tasks.get(r.task_id, {}).get("status", ""),
            notes=notes.get(r.task_id, []),
            executor=_ran_on(log, r)[0],
            host=_ran_on(log, r)[1],
        )
        for r in counted
        if r.result in FAILED_RESULTS
    ]
    job_seconds = sum(s.end - s.start for s in spans)
    wall = _union_length((s.start, s.end) for s in spans)
    return Jobs(
        runs=len(counted),
        ok=results.count("ok"),
        failed=results.count("failed") + results.count("spawn_error"),
        timed_out=results.count("timed_out"),
        cancelled=results.count("cancelled"),
        interrupted=results.count("interrupted"),
        running=results.count(None),
        retried=sum(r.attempt > 1 for r in counted),
        job_seconds=job_seconds,
        wall_seconds=wall,
        parallel_gain=job_seconds / wall if wall > 0 else None,
        failures=failures,
    )


def _timeline(
    log: DayLog, focus: Sequence[Span], jobs: Sequence[Span], gaps: Sequence[Gap]
) -> Timeline:
    blocks = [b for b in log.blocks if b.mode != "free"]
    # Runs are packed into as few lanes as overlap needs, each executor's apart: a lane is
    # one of its slots.
    by_executor: dict[str | None, list[list[Span]]] = {}
    for span in sorted(jobs, key=lambda s: (s.start, s.end)):
        own = by_executor.setdefault(span.executor, [])
        for lane in own:
            if lane[-1].end <= span.start:
                lane.append(span)
                break
        else:
            own.append([span])
    order = sorted(by_executor, key=lambda e: (e is not None, e or ""))
    slots = [lane for executor in order for lane in by_executor[executor]]
    edges = [t for b in blocks for t in (b.start, b.end)]
    edges += [t for s in (*focus, *jobs) for t in (s.start, s.end)]
    midnight = datetime.fromtimestamp(log.start)
    if edges:
        first = datetime.fromtimestamp(min(edges)).replace(minute=0, second=0, microsecond=0)
        last = datetime.fromtimestamp(max(edges))
        if last != last.replace(minute=0, second=0, microsecond=0):
            last = last.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        lo, hi = max(first.timestamp(), log.start), min(last.timestamp(), log.end)
    else:  # nothing happened and nothing was planned: show a working day
        lo = (midnight + timedelta(hours=9)).timestamp()
        hi = (midnight + timedelta(hours=17)).timestamp()
    return Timeline(lo, max(hi, lo + 3600), blocks, list(focus), slots, list(gaps))


def _unfinished(log: DayLog, notes: dict[int, list[FailureNote]]) -> list[Unfinished]:
    """Open work and work answered today, in one order that answers do not change:
    creative first, then by priority, then by id."""
    ids = {*log.unfinished, *log.answers}
    tasks = [(i, log.tasks[i]) for i in ids if i in log.tasks]
    tasks.sort(key=lambda it: (it[1]["kind"] != "creative", -it[1].get("prio_rank", 1), it[0]))
    return [
        Unfinished(
            i,
            t["title"],
            t["kind"],
            t["status"],
            log.answers.get(i),
            notes.get(i, []),
            log.carried.get(i, 0),
        )
        for i, t in tasks
    ]
