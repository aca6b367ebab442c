"""When a recurring job is due: its rule (``every:``, ``cron:``) and what a late worker does.

Pure: no I/O and no clock (the caller passes ``now``). Due times are wall-clock times in
the local time zone (or the ``tz`` given), returned as epoch seconds, so ``every:1d
at:02:00`` stays at 02:00 across a change of the clocks, while ``every:2h`` is two hours
of elapsed time whatever the clocks say.

A rule's due times start at its *anchor*: the moment the series was added (or its
``at:``). ``every:1d``, ``every:mon-fri`` and ``cron:`` keep the anchor's time of day
(``cron:`` its own); ``every:2h`` counts from the anchor.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import tzinfo

CATCH_UP = ("one", "all", "none")
"""What a worker does with due times missed while none ran: one run for all of them, one
run each (the latest :data:`MAX_RUNS`), or none."""

GRACE = 60.0
"""A due time passed less than this long ago is on time, not missed."""

MAX_RUNS = 100
"""At most this many runs are added at once (``catchup:all`` after a long sleep)."""

MAX_STEPS = 10_000
"""Missed due times are counted up to this many; past it the count says "at least"."""

EXAMPLE = 'every:1d at:02:00, every:mon-fri at:08:30, every:2h or cron:"0 3 * * 1"'
"""What a refusal suggests instead."""

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_UNITS = {"s": 1, "m": 60, "h": 3600}
_EVERY = re.compile(r"(\d+)([smhdw])", re.ASCII)


class Rule:
    """A parsed ``every:`` or ``cron:`` value. ``text`` is how it is stored and shown."""

    __slots__ = ("cron", "days", "kind", "seconds", "text", "weekdays")

    def __init__(
        self,
        text: str,
        kind: str,
        *,
        seconds: float = 0.0,
        days: int = 0,
        weekdays: frozenset[int] = frozenset(),
        cron: str = "",
    ) -> None:
        self.text = text
        self.kind = kind
        """``interval`` (elapsed seconds), ``days`` (every N calendar days), ``weekdays``
        or ``cron``."""
        self.seconds = seconds
        self.days = days
        self.weekdays = weekdays
        self.cron = cron

    def __repr__(self) -> str:
        return f"Rule({self.text!r})"


MAX_PERIOD = 10 * 366 * 86400
"""The longest ``every:`` period, in seconds: dates stay far inside what Python can hold."""


def parse(text: str) -> Rule:
    """``every:2h``, ``every:1d``, ``every:mon-fri``, ``every:mon,wed``, ``cron:0 3 * * 1``
    (quotes around the cron fields allowed); :class:`ValueError` with a one-line reason."""
    key, _, value = text.partition(":")
    key = key.lower()
    value = value.strip()
    if key == "cron":
        return _parse_cron(value)
    if key != "every":
        raise ValueError(f"'{text}' is not a repeat; use {EXAMPLE}")
    lowered = value.lower()
    match = _EVERY.fullmatch(lowered)
    if match:
        count, unit = int(match[1]), match[2]
        if count <= 0:
            raise ValueError(f"'every:{value}' repeats never; use a period above 0, e.g. every:2h")
        if count * {**_UNITS, "d": 86400, "w": 7 * 86400}[unit] > MAX_PERIOD:
            raise ValueError(f"'every:{value}' is over 10 years; use a shorter period")
        if unit in "dw":
            return Rule(f"every:{lowered}", "days", days=count * (7 if unit == "w" else 1))
        return Rule(f"every:{lowered}", "interval", seconds=float(count * _UNITS[unit]))
    weekdays = _weekdays(lowered)
    if weekdays is None:
        raise ValueError(f"'every:{value}' is not a repeat; use {EXAMPLE}")
    return Rule(f"every:{lowered}", "weekdays", weekdays=weekdays)


def _weekdays(value: str) -> frozenset[int] | None:
    days: set[int] = set()
    for part in value.split(","):
        first, dash, last = part.partition("-")
        if first not in _DAYS or (dash and last not in _DAYS):
            return None
        start, stop = _DAYS.index(first), _DAYS.index(last if dash else first)
        days.update((start + i) % 7 for i in range((stop - start) % 7 + 1))
    return frozenset(days)


def _parse_cron(value: str) -> Rule:
    fields = value.strip("\"'").split()
    expression = " ".join(fields)
    if len(fields) != 5:
        raise ValueError(
            f"'cron:{value}' is not a cron expression (five fields); "
            'quote it whole, e.g. cron:"0 3 * * 1"'
        )
    from croniter import croniter  # only for cron: rules, never on the quick path

    if not croniter.is_valid(expression):
        raise ValueError(f"'cron:{value}' is not a valid cron expression; e.g. cron:\"0 3 * * 1\"")
    return Rule(f"cron:{expression}", "cron", cron=expression)


# -- due times ------------------------------------------------------------------------------


def _wall(at: float, tz: tzinfo | None) -> datetime:
    """The naive wall-clock time of ``at``."""
    return datetime.fromtimestamp(at, tz).replace(tzinfo=None)


def _epoch(wall: datetime, tz: tzinfo | None) -> float:
    """A naive wall-clock time as epoch seconds; a time skipped by a clock change counts
    as the same wall time before the change (02:30 on the spring-forward night is 03:30),
    a repeated one as its first occurrence."""
    if tz is None:
        return wall.timestamp()
    return wall.replace(tzinfo=tz, fold=0).timestamp()


def first_due(rule: Rule, anchor: float, tz: tzinfo | None = None) -> float:
    """The first due time at or after ``anchor``."""
    return due_after(rule, anchor, anchor - 1e-6, tz)


def due_after(rule: Rule, anchor: float, after: float, tz: tzinfo | None = None) -> float:
    """The first due time later than ``after`` (and not before ``anchor``)."""
    if rule.kind == "interval":
        if after < anchor:
            return anchor
        steps = int((after - anchor) // rule.seconds) + 1
        due = anchor + steps * rule.seconds
        return due if due > after else due + rule.seconds
    start = _wall(anchor, tz)
    if rule.kind == "days":
        span = max(0.0, after - anchor)
        step = max(0, int(span // (86400 * rule.days)) - 1)
        while True:
            due = _epoch(start + timedelta(days=step * rule.days), tz)
            if due > after:
                return due
            step += 1
    if rule.kind == "weekdays":
        day = _wall(max(after, anchor), tz).replace(
            hour=start.hour, minute=start.minute, second=start.second, microsecond=0
        ) - timedelta(days=1)
        for _ in range(10):
            if day.weekday() in rule.weekdays:
                due = _epoch(day, tz)
                if due > after and due >= anchor - 1e-6:
                    return due
            day += timedelta(days=1)
        raise AssertionError("a weekday rule names no day")  # pragma: no cover
    return _cron_after(rule, anchor, after, tz)


def _cron_after(rule: Rule, anchor: float, after: float, tz: tzinfo | None) -> float:
    from croniter import croniter

    # Iterated on naive wall time: croniter's own DST handling needs a zone object, and
    # the local zone is only known to the C library.
    base = _wall(max(after, anchor - 1e-6), tz).replace(microsecond=0) - timedelta(hours=3)
    it = croniter(rule.cron, base)
    while True:
        wall = it.get_next(datetime)
        due = _epoch(wall, tz)
        if due > after and due >= anchor - 1e-6:
            return due


# -- what a worker does when due times came --------------------------------------------------


class Plan:
    """What to do about a series whose due time came: the runs to add (each its due time
    and whether it is a catch-up of a missed time), the due times passed without a run,
    and the next due time (always after ``now``)."""

    __slots__ = ("next_due", "runs", "skipped")

    def __init__(self, runs: list[tuple[float, bool]], skipped: int, next_due: float) -> None:
        self.runs = runs
        self.skipped = skipped
        self.next_due = next_due

    def __repr__(self) -> str:
        return f"Plan(runs={self.runs}, skipped={self.skipped}, next_due={self.next_due})"


def plan(
    rule: Rule,
    anchor: float,
    next_due: float,
    now: float,
    catch_up: str = "one",
    *,
    going: bool = False,
    overlap: bool = False,
    tz: tzinfo | None = None,
    grace: float = GRACE,
) -> Plan:
    """The runs a series adds at ``now``, its pending due time being ``next_due``.

    Every due time from ``next_due`` to ``now`` has passed. The latest is on time if it
    passed less than ``grace`` ago; the others were missed (no worker ran). ``catch_up``
    ``one``: one run, for the latest (a catch-up if it was missed too); ``all``: one run per
    due time (the latest :data:`MAX_RUNS`); ``none``: a run only for an on-time due time.
    ``going``: a run of the series is still queued or running; unless ``overlap``, no run
    is added then (the job never overlaps itself) and the due times count as skipped.
    """
    if next_due > now:
        return Plan([], 0, next_due)
    passed = [next_due]
    due = next_due
    while len(passed) < MAX_STEPS:
        due = due_after(rule, anchor, due, tz)
        if due > now:
            break
        passed.append(due)
    else:
        due = due_after(rule, anchor, now, tz)
    latest = passed[-1]
    on_time = now - latest < grace
    if going and not overlap:
        runs: list[tuple[float, bool]] = []
    elif catch_up == "all":
        runs = [(d, d != latest or not on_time) for d in passed[-MAX_RUNS:]]
    elif catch_up == "none":
        runs = [(latest, False)] if on_time else []
    else:
        runs = [(latest, not on_time)]
    return Plan(runs, len(passed) - len(runs), due)


def describe(rule: Rule, anchor: float, tz: tzinfo | None = None) -> str:
    """The rule as a person reads it: ``every:1d at:02:00``, ``every:2h``, ``cron:0 3 * * 1``."""
    if rule.kind in ("days", "weekdays"):
        return f"{rule.text} at:{_wall(anchor, tz):%H:%M}"
    return rule.text
