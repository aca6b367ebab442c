"""Meetings from iCalendar files, as sync blocks: read, expanded for a day, and cached.

A file is parsed with ``icalendar`` and its recurring events expanded (exceptions, moved
instances) with ``recurring-ical-events``; Google's ``X-WR-TIMEZONE`` gives floating times
their zone. What a day holds is cached beside the database (``calendar-cache.json``, private),
keyed by the file's path, mtime and size, the day, the local time zone and the addresses
that are the user: a command that finds the day there never imports either library.

What counts as a meeting: an event with a start and end time (all-day events are not),
not transparent (``TRANSP:TRANSPARENT``: "free" in most calendars), not cancelled, and not
declined by the user: an ``ATTENDEE`` whose address is one of ``[calendar] me`` (or, when
that is empty, the calendar's own name when it is an address, as Google names a primary
calendar) with ``PARTSTAT=DECLINED``.

A file that cannot be used yields one line naming it and what is wrong; the other files and
the configured blocks still work.
"""

from __future__ import annotations

import json
import os
import time as _time
from datetime import date, datetime, timedelta

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the quick path milliseconds; annotations are strings
    from collections.abc import Iterable, Sequence
    from typing import Any

    from focusq.focus.blocks import Block

CACHE_NAME = "calendar-cache.json"
"""The file beside the database that holds expanded days."""

RULES = 1
"""What a day's meetings are, as a number: a change to the rules here makes every cached
day stale."""

CACHED_ENTRIES = 64
"""Days of files kept in the cache (two a day per file: today and tomorrow)."""

LABEL_LENGTH = 80
"""A meeting's summary is cut to this many characters."""

Event = tuple[datetime, datetime, str]
"""A meeting: its start and end as naive local times, and its summary."""


class CalendarProblem(Exception):
    """A calendar file that cannot be used, in one line naming the file."""


def resolve(path: str, config_dir: str) -> str:
    """``~`` expanded; a relative path is taken from the config file's folder."""
    path = os.path.expanduser(path)
    return os.path.normpath(path if os.path.isabs(path) else os.path.join(config_dir, path))


def meeting_blocks(
    home: str,
    config_dir: str,
    calendar: Any,
    days: Sequence[date],
    *,
    parse: bool = True,
) -> tuple[list[Block], list[str]]:
    """The meetings of ``days`` in the files of ``calendar`` (the ``[calendar]`` settings)
    as sync blocks, and one line per file that could not be used.

    With ``parse=False`` only the cache is read: a file whose day is not cached gives none
    of its meetings and no problem (the quick path never parses).
    """
    files = list(getattr(calendar, "ics", None) or [])
    if not files:
        return [], []
    from focusq.focus.blocks import meeting

    me = sorted({address.lower() for address in getattr(calendar, "me", None) or []})
    entries = _read_cache(home)
    known = {json.dumps(e["key"]): e for e in entries}
    fresh: list[dict[str, Any]] = []
    blocks: list[Block] = []
    problems: list[str] = []
    for name in files:
        path = resolve(name, config_dir)
        shown = name if name.startswith("~") else path
        try:
            st = os.stat(path)
        except OSError as exc:
            if parse:
                why = "no such file" if isinstance(exc, FileNotFoundError) else exc.strerror
                problems.append(f"calendar file {shown}: {why}")
            continue
        keys = {day: _key(path, st, day, me) for day in days}
        found = {day: known.get(json.dumps(key)) for day, key in keys.items()}
        missing = [day for day, entry in found.items() if entry is None]
        if missing and parse:
            read, problem = _read_days(path, shown, missing, me)
            for day in missing:
                entry: dict[str, Any] = {
                    "key": keys[day],
                    "events": read.get(day, []),
                    "problem": problem,
                }
                found[day] = entry
                fresh.append(entry)
        reported = False
        for cached in found.values():
            if cached is None:
                continue
            if cached.get("problem") and not reported:
                problems.append(cached["problem"])
                reported = True
            for start, end, label in cached["events"]:
                blocks.extend(
                    meeting(datetime.fromisoformat(start), datetime.fromisoformat(end), label)
                )
    if fresh:
        _write_cache(home, fresh, entries)
    return _unique(blocks), problems


def _unique(blocks: Iterable[Block]) -> list[Block]:
    """Each meeting once (two files may hold the same one)."""
    return list(dict.fromkeys(blocks))


def _key(path: str, st: os.stat_result, day: date, me: list[str]) -> list[Any]:
    zone = [os.environ.get("TZ"), list(_time.tzname), _time.timezone, _time.altzone]
    return [RULES, path, st.st_mtime_ns, st.st_size, st.st_ino, day.isoformat(), zone, me]


def _read_days(
    path: str, shown: str, days: Sequence[date], me: Sequence[str]
) -> tuple[dict[date, list[list[str]]], str | None]:
    """Each day's meetings in the file, as cache rows, and the file's problem if any."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as exc:
        return {}, f"calendar file {shown}: cannot be read ({exc.strerror})"
    try:
        read, warning = read_events(data, days, me)
    except CalendarProblem as exc:
        return {}, f"calendar file {shown}: {exc}"
    rows = {
        day: [[a.isoformat(), b.isoformat(), label] for a, b, label in events]
        for day, events in read.items()
    }
    return rows, f"calendar file {shown}: {warning}" if warning else None


def read_events(
    data: bytes | str, days: Sequence[date], me: Sequence[str] = ()
) -> tuple[dict[date, list[Event]], str]:
    """The meetings on each of ``days`` (local time) in an iCalendar text, in order, and a
    warning (``""`` when none: a broken recurring series is left out and named there).

    Raises :class:`CalendarProblem` for a text that is not iCalendar or names an unknown
    time zone.
    """
    import icalendar

    try:
        calendar = icalendar.Calendar.from_ical(data)
    except Exception as exc:  # icalendar raises ValueError and its own kinds alike
        raise CalendarProblem(f"not an iCalendar file ({_first_line(exc)})") from None
    if not isinstance(calendar, icalendar.Calendar) or calendar.name != "VCALENDAR":
        raise CalendarProblem("not an iCalendar file (no VCALENDAR)")
    _check_zones(calendar)
    mine = {address.lower() for address in me} or _owner(calendar)
    out: dict[date, list[Event]] = {}
    warning = ""
    for day in days:
        out[day], problem = _expand(calendar, day, mine)
        warning = warning or problem
    return out, warning


def _expand(calendar: Any, day: date, me: set[str]) -> tuple[list[Event], str]:
    import recurring_ical_events  # type: ignore[import-untyped]
    from recurring_ical_events.errors import InvalidCalendar  # type: ignore[import-untyped]

    start = datetime.combine(day, datetime.min.time()).astimezone()
    end = datetime.combine(day + timedelta(days=1), datetime.min.time()).astimezone()
    warning = ""
    try:
        try:
            found = recurring_ical_events.of(calendar).between(start, end)
        except InvalidCalendar as exc:
            warning = f"broken recurrence left out ({_first_line(exc)})"
            found = recurring_ical_events.of(calendar, skip_bad_series=True).between(start, end)
    except LookupError as exc:  # ZoneInfoNotFoundError: X-WR-TIMEZONE names no zone
        raise CalendarProblem(f"unknown time zone {_first_line(exc)}") from None
    except Exception as exc:
        raise CalendarProblem(f"cannot be expanded ({_first_line(exc)})") from None
    events = []
    lo, hi = start.replace(tzinfo=None), end.replace(tzinfo=None)
    for component in found:
        event = _event(component, me)
        if event is None:
            continue
        a, b, label = event
        a, b = max(a, lo), min(b, hi)
        if b > a:
            events.append((a, b, label))
    return sorted(events), warning


def _event(component: Any, me: set[str]) -> Event | None:
    """A meeting from an expanded event, or ``None`` for one that takes no time."""
    if str(component.get("TRANSP", "")).upper() == "TRANSPARENT":
        return None
    if str(component.get("STATUS", "")).upper() == "CANCELLED":
        return None
    begin = component.get("DTSTART")
    if begin is None or not isinstance(begin.dt, datetime):
        return None  # all-day (a date, not a time)
    start = begin.dt
    if component.get("DTEND") is not None:
        stop = component["DTEND"].dt
    elif component.get("DURATION") is not None:
        stop = start + component["DURATION"].dt
    else:
        return None
    if not isinstance(stop, datetime) or _declined(component, me):
        return None
    return _local(start), _local(stop), _label(component.get("SUMMARY"))


def _local(moment: datetime) -> datetime:
    """An aware time in the machine's zone, as a naive time; a floating one as it is."""
    return moment if moment.tzinfo is None else moment.astimezone().replace(tzinfo=None)


def _declined(component: Any, me: set[str]) -> bool:
    attendees = component.get("ATTENDEE") or []
    if not isinstance(attendees, list):
        attendees = [attendees]
    for attendee in attendees:
        address = str(attendee).lower().removeprefix("mailto:")
        partstat = str(getattr(attendee, "params", {}).get("PARTSTAT", "")).upper()
        if address in me and partstat == "DECLINED":
            return True
    return False


def _owner(calendar: Any) -> set[str]:
    """Google names a primary calendar with its owner's address (``X-WR-CALNAME``)."""
    name = str(calendar.get("X-WR-CALNAME", "")).strip().lower()
    return {name} if "@" in name and " " not in name else set()


def _check_zones(calendar: Any) -> None:
    """A ``TZID`` icalendar could not resolve leaves the time floating: say so instead."""
    for component in calendar.walk("VEVENT"):
        for name in ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE"):
            values = component.get(name)
            for value in values if isinstance(values, list) else [values]:
                if value is None or "TZID" not in value.params:
                    continue
                moments = [v.dt for v in value.dts] if hasattr(value, "dts") else [value.dt]
                if any(isinstance(m, datetime) and m.tzinfo is None for m in moments):
                    raise CalendarProblem(f"unknown time zone {value.params['TZID']!r}")


def _label(summary: object) -> str:
    """The summary on one line, control characters out, at most :data:`LABEL_LENGTH`."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(summary or ""))
    text = " ".join(text.split()) or "meeting"
    return text if len(text) <= LABEL_LENGTH else text[: LABEL_LENGTH - 1] + "…"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= 120 else line[:119] + "…"


def _cache_path(home: str) -> str:
    return os.path.join(home, CACHE_NAME)


def _read_cache(home: str) -> list[dict[str, Any]]:
    try:
        with open(_cache_path(home), encoding="utf-8") as file:
            entries = json.load(file)["entries"]
        return [e for e in entries if isinstance(e, dict) and "key" in e and "events" in e]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _write_cache(home: str, fresh: list[dict[str, Any]], old: list[dict[str, Any]]) -> None:
    from focusq.paths import PRIVATE_FILE, make_private_dir

    keys = {json.dumps(e["key"]) for e in fresh}
    kept = [e for e in old if json.dumps(e["key"]) not in keys]
    entries = [*fresh, *kept][:CACHED_ENTRIES]
    tmp = f"{_cache_path(home)}.{os.getpid()}.tmp"
    try:
        make_private_dir(home)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"entries": entries}, out)
        os.replace(tmp, _cache_path(home))
    except Exception:  # a cache that cannot be written only costs speed
        try:
            os.unlink(tmp)
        except OSError:
            pass
