"""Meetings from iCalendar files become sync blocks: the day exact, through the real CLI."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from focusq.calendar import CACHE_NAME, CalendarProblem, meeting_blocks, read_events
from focusq.focus.blocks import day_plan, make_block, meeting, next_boundary, segment_at
from focusq.paths import Paths

MONDAY = date(2026, 11, 30)
"""The day the fixtures are about."""

Result = subprocess.CompletedProcess[str]


def ics(*events: str, head: str = "") -> str:
    """A calendar of ``events`` (each the lines inside one VEVENT), CRLF as RFC 5545 says."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//focusq tests//EN"]
    lines += [line for line in head.splitlines() if line]
    for event in events:
        lines += ["BEGIN:VEVENT", *(e.strip() for e in event.strip().splitlines()), "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


WORK = ics(
    # A weekly standup from 2 Nov: the 23rd is cancelled (EXDATE), the 30th moved to 11:30.
    """UID:standup
    DTSTART:20261102T090000Z
    DTEND:20261102T093000Z
    RRULE:FREQ=WEEKLY;BYDAY=MO
    EXDATE:20261123T090000Z
    SUMMARY:Standup""",
    """UID:standup
    RECURRENCE-ID:20261130T090000Z
    DTSTART:20261130T113000Z
    DTEND:20261130T120000Z
    SUMMARY:Standup (moved)""",
    # 09:00 in New York is 14:00 UTC.
    """UID:ny
    DTSTART;TZID=America/New_York:20261130T090000
    DTEND;TZID=America/New_York:20261130T100000
    SUMMARY:Sync with New York""",
    """UID:holiday
    DTSTART;VALUE=DATE:20261130
    DTEND;VALUE=DATE:20261201
    SUMMARY:Company holiday""",
    """UID:hold
    DTSTART:20261130T160000Z
    DTEND:20261130T170000Z
    TRANSP:TRANSPARENT
    SUMMARY:Focus hold (free)""",
    """UID:declined
    DTSTART:20261130T170000Z
    DTEND:20261130T180000Z
    ORGANIZER:mailto:boss@example.com
    ATTENDEE;PARTSTAT=ACCEPTED:mailto:boss@example.com
    ATTENDEE;PARTSTAT=DECLINED;CN=Me:mailto:Me@Example.com
    SUMMARY:Optional all-hands""",
    # Someone else declined; the user did not: it stays.
    """UID:lunch
    DTSTART:20261130T120000Z
    DTEND:20261130T130000Z
    ATTENDEE;PARTSTAT=DECLINED:mailto:other@example.com
    ATTENDEE;PARTSTAT=ACCEPTED:mailto:me@example.com
    SUMMARY:Team lunch""",
    """UID:cancelled
    DTSTART:20261130T180000Z
    DTEND:20261130T190000Z
    STATUS:CANCELLED
    SUMMARY:Cancelled review""",
)

# Google's export: floating times, the zone named once for the whole calendar.
# 19:00 in Tokyo is 10:00 UTC.
GOOGLE = ics(
    """UID:tokyo
    DTSTART:20261130T190000
    DTEND:20261130T194500
    SUMMARY:Review with Tokyo""",
    head="X-WR-CALNAME:me@example.com\nX-WR-TIMEZONE:Asia/Tokyo",
)

CONFIG = """
[calendar]
ics = ["cal/work.ics", "cal/google.ics"]
me = "me@example.com"

[[blocks]]
days = "mon-fri"
start = "09:00"
end = "12:00"
mode = "async"
label = "deep work"

[[blocks]]
days = "mon-fri"
start = "13:00"
end = "13:30"
mode = "sync"
label = "email"
"""

CONFIGURED = [
    make_block("mon-fri", "09:00", "12:00", "async", "deep work"),
    make_block("mon-fri", "13:00", "13:30", "sync", "email"),
]


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process's local time is UTC."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def home(paths: Paths) -> Paths:
    """A config with both calendars and two blocks, the calendars beside it."""
    cal = Path(paths.config_dir) / "cal"
    cal.mkdir(parents=True)
    (cal / "work.ics").write_text(WORK, newline="")
    (cal / "google.ics").write_text(GOOGLE, newline="")
    Path(paths.config_file).write_text(CONFIG)
    return paths


@pytest.fixture
def blocks_cmd(tmp_path: Path) -> Callable[..., Result]:
    """``focusq blocks ARGS`` in a subprocess on the test's home, in the zone ``tz``."""

    def run(*args: str, tz: str = "UTC", importtime: bool = False) -> Result:
        flags = ["-X", "importtime"] if importtime else []
        return subprocess.run(
            [sys.executable, *flags, "-m", "focusq", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "TZ": tz},
            timeout=120,
        )

    return run


def unmarked(text: str) -> str:
    """``focusq blocks`` output without the marker of now (the fixtures' day may be today)."""
    lines = [(" " + line[1:].split("   (now;")[0]).rstrip() for line in text.splitlines()[1:]]
    return "\n".join([*text.splitlines()[:1], *lines]) + "\n"


def hm(events: list[tuple[datetime, datetime, str]]) -> list[tuple[str, str, str]]:
    return [(f"{a:%H:%M}", f"{b:%H:%M}", label) for a, b, label in events]


# -- reading a file ---------------------------------------------------------------------


def test_a_day_of_the_work_calendar_exactly(utc: None) -> None:
    days = [date(2026, 11, 16), date(2026, 11, 23), MONDAY]
    read, warning = read_events(WORK, days, ["me@example.com"])
    assert warning == ""
    assert hm(read[date(2026, 11, 16)]) == [("09:00", "09:30", "Standup")]
    assert read[date(2026, 11, 23)] == []  # the EXDATE
    assert hm(read[MONDAY]) == [
        ("11:30", "12:00", "Standup (moved)"),
        ("12:00", "13:00", "Team lunch"),
        ("14:00", "15:00", "Sync with New York"),
    ]


def test_without_me_a_declined_meeting_stays(utc: None) -> None:
    read, _ = read_events(WORK, [MONDAY])
    assert ("17:00", "18:00", "Optional all-hands") in hm(read[MONDAY])


def test_google_floating_times_take_the_calendars_zone(utc: None) -> None:
    read, _ = read_events(GOOGLE, [MONDAY])
    assert hm(read[MONDAY]) == [("10:00", "10:45", "Review with Tokyo")]


def test_a_calendar_named_with_an_address_stands_for_the_user(utc: None) -> None:
    declined = ics(
        """UID:x
        DTSTART:20261130T150000Z
        DTEND:20261130T160000Z
        ATTENDEE;PARTSTAT=DECLINED:mailto:me@example.com
        SUMMARY:Declined""",
        head="X-WR-CALNAME:me@example.com",
    )
    assert read_events(declined, [MONDAY])[0][MONDAY] == []
    assert read_events(declined, [MONDAY], ["you@example.com"])[0][MONDAY] != []


def test_a_meeting_over_midnight_is_cut_at_the_days_edges(utc: None) -> None:
    late = ics(
        """UID:late
        DTSTART:20261130T230000Z
        DURATION:PT2H
        SUMMARY:Launch\x1b[31m call"""
    )
    read, _ = read_events(late, [MONDAY, date(2026, 12, 1)])
    assert hm(read[MONDAY]) == [("23:00", "00:00", "Launch [31m call")]
    assert hm(read[date(2026, 12, 1)]) == [("00:00", "01:00", "Launch [31m call")]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("this is not a calendar\n", "not an iCalendar file"),
        ("", "not an iCalendar file"),
        (
            ics("UID:x\nDTSTART;TZID=Mars/Olympus:20261130T100000\nDTEND:20261130T110000Z"),
            "unknown time zone 'Mars/Olympus'",
        ),
        (
            ics("UID:x\nDTSTART:20261130T100000\nDTEND:20261130T110000", head="X-WR-TIMEZONE:Nope"),
            "unknown time zone",
        ),
    ],
)
def test_a_bad_file_is_one_problem(utc: None, text: str, problem: str) -> None:
    with pytest.raises(CalendarProblem, match=problem) as caught:
        read_events(text, [MONDAY])
    assert "\n" not in str(caught.value)


def test_a_broken_recurrence_is_left_out_and_named(utc: None) -> None:
    text = ics(
        "UID:bad\nDTSTART:20261102T090000Z\nDTEND:20261102T093000Z\nRRULE:FREQ=SOMETIMES\n"
        "SUMMARY:Broken",
        "UID:ok\nDTSTART:20261130T150000Z\nDTEND:20261130T153000Z\nSUMMARY:Fine",
    )
    read, warning = read_events(text, [MONDAY])
    assert hm(read[MONDAY]) == [("15:00", "15:30", "Fine")]
    assert warning.startswith("broken recurrence left out (")


# -- the day plan -----------------------------------------------------------------------


def test_meetings_win_over_configured_blocks(utc: None, home: Paths) -> None:
    from types import SimpleNamespace

    calendar = SimpleNamespace(ics=["cal/work.ics", "cal/google.ics"], me=["me@example.com"])
    meetings, problems = meeting_blocks(home.home, home.config_dir, calendar, [MONDAY])
    assert problems == []
    plan = day_plan([*CONFIGURED, *meetings], MONDAY)
    assert [(f"{s.start:%H:%M}", s.mode, s.label, s.source) for s in plan] == [
        ("00:00", "free", "", ""),
        ("09:00", "async", "deep work", "config"),
        ("10:00", "sync", "Review with Tokyo", "calendar"),
        ("10:45", "async", "deep work", "config"),
        ("11:30", "sync", "Standup (moved)", "calendar"),
        ("12:00", "sync", "Team lunch", "calendar"),
        ("13:00", "sync", "email", "config"),
        ("13:30", "free", "", ""),
        ("14:00", "sync", "Sync with New York", "calendar"),
        ("15:00", "free", "", ""),
    ]
    # A meeting is only on its date; the configured blocks go on the next Monday.
    assert [s.label for s in day_plan([*CONFIGURED, *meetings], date(2026, 12, 7))] == [
        "",
        "deep work",
        "",
        "email",
        "",
    ]
    # The gap guard and batching see the meeting as the block of its time.
    assert segment_at(meetings, datetime(2026, 11, 30, 10, 30)).label == "Review with Tokyo"
    at, following = next_boundary([*CONFIGURED, *meetings], datetime(2026, 11, 30, 9, 15))
    assert (at, following.mode, following.label) == (
        datetime(2026, 11, 30, 10, 0),
        "sync",
        "Review with Tokyo",
    )


def test_overlapping_meetings_keep_the_earlier_one_first() -> None:
    a = meeting(datetime(2026, 11, 30, 10, 0), datetime(2026, 11, 30, 11, 0), "A")
    b = meeting(datetime(2026, 11, 30, 10, 30), datetime(2026, 11, 30, 11, 30), "B")
    inside = meeting(datetime(2026, 11, 30, 10, 15), datetime(2026, 11, 30, 10, 45), "C")
    plan = day_plan([*b, *inside, *a], MONDAY)
    assert [(f"{s.start:%H:%M}", f"{s.end:%H:%M}", s.label) for s in plan] == [
        ("00:00", "10:00", ""),
        ("10:00", "11:00", "A"),
        ("11:00", "11:30", "B"),
        ("11:30", "00:00", ""),
    ]


# -- the real command -------------------------------------------------------------------

EXPECTED_DAY = """\
Mon 30 Nov 2026
  00:00-09:00  free
  09:00-10:00  async            deep work
  10:00-10:45  sync   calendar  Review with Tokyo
  10:45-11:30  async            deep work
  11:30-12:00  sync   calendar  Standup (moved)
  12:00-13:00  sync   calendar  Team lunch
  13:00-13:30  sync             email
  13:30-14:00  free
  14:00-15:00  sync   calendar  Sync with New York
  15:00-24:00  free
"""


def test_focusq_blocks_marks_the_calendars_meetings(
    home: Paths, blocks_cmd: Callable[..., Result]
) -> None:
    result = blocks_cmd("blocks", "--date", MONDAY.isoformat())
    assert (result.returncode, result.stderr) == (0, "")
    assert unmarked(result.stdout) == EXPECTED_DAY
    cache = Path(home.home) / CACHE_NAME
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    as_json = json.loads(blocks_cmd("blocks", "--date", "2026-11-30", "--json").stdout)
    assert [(s["start"][11:16], s["source"]) for s in as_json if s["source"]] == [
        ("09:00", "config"),
        ("10:00", "calendar"),
        ("10:45", "config"),
        ("11:30", "calendar"),
        ("12:00", "calendar"),
        ("13:00", "config"),
        ("14:00", "calendar"),
    ]


def test_the_machines_zone_moves_the_meetings(
    home: Paths, blocks_cmd: Callable[..., Result]
) -> None:
    result = blocks_cmd("blocks", "--date", MONDAY.isoformat(), tz="Europe/Berlin")
    assert result.returncode == 0, result.stderr
    lines = unmarked(result.stdout).splitlines()
    assert "  15:00-16:00  sync   calendar  Sync with New York" in lines
    assert "  11:00-11:45  sync   calendar  Review with Tokyo" in lines
    assert "  12:30-13:00  sync   calendar  Standup (moved)" in lines


def test_a_cached_day_reads_no_calendar_library_and_a_change_is_read(
    home: Paths, blocks_cmd: Callable[..., Result]
) -> None:
    first = blocks_cmd("blocks", "--date", "2026-11-30", importtime=True)
    assert "icalendar" in first.stderr  # a miss parses
    cached = blocks_cmd("blocks", "--date", "2026-11-30", importtime=True)
    assert cached.returncode == 0
    assert "icalendar" not in cached.stderr
    assert "recurring_ical_events" not in cached.stderr
    # The file changes: the next look reads it again.
    work = Path(home.config_dir) / "cal" / "work.ics"
    work.write_text(WORK.replace("Team lunch", "Team lunch, moved to the park"), newline="")
    changed = blocks_cmd("blocks", "--date", "2026-11-30")
    assert "  12:00-13:00  sync   calendar  Team lunch, moved to the park" in unmarked(
        changed.stdout
    )
    assert "Team lunch\n" not in unmarked(changed.stdout)


def test_bad_files_are_one_line_each_and_the_blocks_still_work(
    home: Paths, blocks_cmd: Callable[..., Result]
) -> None:
    cal = Path(home.config_dir) / "cal"
    (cal / "junk.ics").write_text("hello\n")
    (cal / "mars.ics").write_text(
        ics("UID:x\nDTSTART;TZID=Mars/Olympus:20261130T100000\nDTEND:20261130T110000Z")
    )
    (cal / "rrule.ics").write_text(
        ics("UID:x\nDTSTART:20261102T090000Z\nDTEND:20261102T093000Z\nRRULE:FREQ=SOMETIMES")
    )
    config = CONFIG.replace(
        'ics = ["cal/work.ics", "cal/google.ics"]',
        'ics = ["cal/junk.ics", "cal/mars.ics", "cal/rrule.ics", "cal/gone.ics"]',
    )
    Path(home.config_file).write_text(config)
    for _ in range(2):  # parsed, then from the cache: the same lines
        result = blocks_cmd("blocks", "--date", "2026-11-30")
        assert result.returncode == 0
        problems = result.stderr.splitlines()
        names = ("junk.ics", "mars.ics", "rrule.ics", "gone.ics")
        assert len(problems) == len(names)
        for problem, name in zip(problems, names, strict=True):
            assert problem.startswith(f"focusq: calendar file {cal / name}: ")
        assert problems[0].endswith("not an iCalendar file (" + problems[0].split("(", 1)[1])
        assert problems[1].endswith(": unknown time zone 'Mars/Olympus'")
        assert "broken recurrence left out" in problems[2]
        assert problems[3].endswith(": no such file")
        assert "Traceback" not in result.stderr
        assert "  09:00-12:00  async  deep work" in unmarked(result.stdout).splitlines()


def test_a_url_is_refused_in_the_config(paths: Paths, blocks_cmd: Callable[..., Result]) -> None:
    Path(paths.config_file).parent.mkdir(parents=True, exist_ok=True)
    Path(paths.config_file).write_text('[calendar]\nics = "https://example.com/cal.ics"\n')
    result = blocks_cmd("blocks")
    assert result.returncode != 0
    assert len(result.stderr.splitlines()) == 1
    assert "focusq fetches no URL" in result.stderr


@pytest.mark.parametrize("argv", [["add", "write the post"], ["status", "--short"]])
def test_quick_commands_never_read_the_calendar(home: Paths, argv: list[str]) -> None:
    probe = (
        "import contextlib, io, json, sys\nfrom focusq.cli.main import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()): main({argv!r})\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    subprocess.run([sys.executable, "-m", "focusq", "status"], check=True, capture_output=True)
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    modules = set(json.loads(out.stdout.splitlines()[-1]))
    assert not {"icalendar", "recurring_ical_events", "focusq.calendar"} & modules
    assert not (Path(home.home) / CACHE_NAME).exists()
