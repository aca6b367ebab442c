"""Recurring jobs: due times on a fake clock (catch-up through a sleep gap, clock changes,
weekdays, intervals, cron, no self-overlap), then real workers adding real runs."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from focusq import recurrence
from focusq.errors import UserError
from focusq.quickadd import parse as quickadd
from focusq.recurrence import due_after, first_due, parse, plan
from tests.engine_helpers import Focusq, db_rows, poll, processes_of, task

BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str) -> float:
    """A Berlin wall time as epoch seconds."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).timestamp()


def wall(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, BERLIN).strftime("%a %Y-%m-%d %H:%M")


def dues(text: str, anchor: float, count: int) -> list[str]:
    rule = parse(text)
    out, due = [], first_due(rule, anchor, BERLIN)
    for _ in range(count):
        out.append(wall(due))
        due = due_after(rule, anchor, due, BERLIN)
    return out


# -- rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("every:2h", "interval"),
        ("every:2s", "interval"),
        ("every:90m", "interval"),
        ("every:1d", "days"),
        ("every:2w", "days"),
        ("every:mon-fri", "weekdays"),
        ("every:sat,sun", "weekdays"),
        ("every:fri-mon", "weekdays"),
        ("cron:0 3 * * 1", "cron"),
        ('cron:"0 3 * * 1"', "cron"),
    ],
)
def test_rules_parse(text: str, kind: str) -> None:
    assert parse(text).kind == kind


def test_weekday_ranges_wrap() -> None:
    assert parse("every:fri-mon").weekdays == {4, 5, 6, 0}
    assert parse("every:mon-fri").weekdays == {0, 1, 2, 3, 4}


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("every:xx", "'every:xx' is not a repeat"),
        ("every:0h", "repeats never"),
        ("every:3000000d", "over 10 years"),
        ("every:999999999999999999999999h", "over 10 years"),
        ("every:600w", "over 10 years"),
        ("every:mon-funday", "is not a repeat"),
        ("cron:0 3 * *", "five fields"),
        ("cron:0 99 * * 1", "not a valid cron expression"),
    ],
)
def test_bad_rules_name_the_token_and_an_example(text: str, said: str) -> None:
    with pytest.raises(ValueError, match=said) as caught:
        parse(text)
    assert "\n" not in str(caught.value)
    assert "every:" in str(caught.value) or "cron:" in str(caught.value)


# -- due times ------------------------------------------------------------------------------


def test_every_day_at_two_stays_at_two_across_both_clock_changes() -> None:
    spring = dues("every:1d", at("2026-03-27T02:00"), 4)
    assert spring == [
        "Fri 2026-03-27 02:00",
        "Sat 2026-03-28 02:00",
        "Sun 2026-03-29 03:00",  # 02:00 does not exist that night: the same moment as 03:00
        "Mon 2026-03-30 02:00",
    ]
    autumn_anchor = at("2026-10-24T02:00")
    rule = parse("every:1d")
    times = [first_due(rule, autumn_anchor, BERLIN)]
    for _ in range(3):
        times.append(due_after(rule, autumn_anchor, times[-1], BERLIN))
    assert [wall(t) for t in times] == [
        "Sat 2026-10-24 02:00",
        "Sun 2026-10-25 02:00",  # once, though 02:00 comes twice
        "Mon 2026-10-26 02:00",
        "Tue 2026-10-27 02:00",
    ]
    assert times[1] - times[0] == 86400
    assert times[2] - times[1] == 25 * 3600


def test_every_two_hours_is_elapsed_time_across_a_clock_change() -> None:
    rule = parse("every:2h")
    anchor = at("2026-03-28T23:00")
    times = [first_due(rule, anchor, BERLIN)]
    for _ in range(3):
        times.append(due_after(rule, anchor, times[-1], BERLIN))
    assert [b - a for a, b in pairwise(times)] == [7200.0] * 3
    assert [wall(t) for t in times][1:3] == ["Sun 2026-03-29 01:00", "Sun 2026-03-29 04:00"]


def test_mon_fri_skips_the_weekend() -> None:
    # Added on a Saturday for 08:30: the first run is Monday.
    assert dues("every:mon-fri", at("2026-11-21T08:30"), 7) == [
        "Mon 2026-11-23 08:30",
        "Tue 2026-11-24 08:30",
        "Wed 2026-11-25 08:30",
        "Thu 2026-11-26 08:30",
        "Fri 2026-11-27 08:30",
        "Mon 2026-11-30 08:30",
        "Tue 2026-12-01 08:30",
    ]


def test_cron_is_local_time_across_a_clock_change() -> None:
    assert dues("cron:0 3 * * 1", at("2026-03-20T12:00"), 3) == [
        "Mon 2026-03-23 03:00",
        "Mon 2026-03-30 03:00",  # after the change: still 03:00 on the wall
        "Mon 2026-04-06 03:00",
    ]
    assert dues('cron:"30 2 * * *"', at("2026-03-28T12:00"), 3) == [
        "Sun 2026-03-29 03:30",  # 02:30 was skipped by the clocks: run as they reach it
        "Mon 2026-03-30 02:30",
        "Tue 2026-03-31 02:30",
    ]


@given(
    seconds=st.integers(1, 10**6),
    anchor=st.floats(1.7e9, 1.9e9),
    after=st.floats(1.7e9, 1.9e9),
)
def test_an_interval_due_time_is_later_and_on_the_grid(
    seconds: int, anchor: float, after: float
) -> None:
    rule = parse(f"every:{seconds}s")
    due = due_after(rule, anchor, after)
    assert due > after and due >= anchor
    steps = (due - anchor) / seconds
    assert abs(steps - round(steps)) < 1e-6
    assert due - seconds <= max(after, anchor - seconds) + 1e-3


@given(
    days=st.sampled_from(["every:1d", "every:3d", "every:mon-fri", "every:sun"]),
    anchor=st.floats(1.7e9, 1.9e9),
    after=st.floats(1.7e9, 1.9e9),
)
def test_a_calendar_due_time_keeps_the_anchors_time_of_day(
    days: str, anchor: float, after: float
) -> None:
    rule = parse(days)
    due = due_after(rule, anchor, after, BERLIN)
    assert due > after and due >= anchor - 1e-6
    start = datetime.fromtimestamp(anchor, BERLIN)
    got = datetime.fromtimestamp(due, BERLIN)
    if got.dst() == start.dst():  # off by the change's hour only on a day of a change
        assert (got.hour, got.minute) == (start.hour, start.minute)


# -- catch-up and overlap on a fake clock ---------------------------------------------------


def simulate(
    text: str,
    catch_up: str,
    *,
    asleep: tuple[str, str] | None = None,
    takes: float = 0.0,
    overlap: bool = False,
) -> list[tuple[str, str, bool]]:
    """A worker ticking every minute through a week (none while ``asleep``), each run
    taking ``takes`` seconds: (run started, due time, caught up) per run."""
    rule = parse(text)
    anchor = at("2026-11-23T02:00")  # a Monday
    next_due = first_due(rule, anchor, BERLIN)
    now, end = at("2026-11-23T00:00"), at("2026-11-30T00:00")
    sleep = (at(asleep[0]), at(asleep[1])) if asleep else (0.0, 0.0)
    busy_until = 0.0
    started: list[tuple[str, str, bool]] = []
    while now < end:
        if not sleep[0] <= now < sleep[1]:
            going = now < busy_until
            step = plan(
                rule, anchor, next_due, now, catch_up, going=going, overlap=overlap, tz=BERLIN
            )
            assert step.next_due > now
            for due, late in step.runs:
                started.append((wall(now), wall(due), late))
                busy_until = max(busy_until, now) + takes
            next_due = step.next_due
        now += 60
    return started


ASLEEP = ("2026-11-24T22:00", "2026-11-27T08:00")  # Tue night to Fri morning


def test_a_week_on_time_runs_once_a_day() -> None:
    runs = simulate("every:1d", "one")
    assert [r[0] for r in runs] == [f"{d} 2026-11-{n} 02:00" for d, n in _WEEK]
    assert not any(late for *_, late in runs)


_WEEK = [("Mon", 23), ("Tue", 24), ("Wed", 25), ("Thu", 26), ("Fri", 27), ("Sat", 28), ("Sun", 29)]


def test_catch_up_one_runs_once_for_three_missed_days() -> None:
    runs = simulate("every:1d", "one", asleep=ASLEEP)
    assert runs == [
        ("Mon 2026-11-23 02:00", "Mon 2026-11-23 02:00", False),
        ("Tue 2026-11-24 02:00", "Tue 2026-11-24 02:00", False),
        ("Fri 2026-11-27 08:00", "Fri 2026-11-27 02:00", True),
        ("Sat 2026-11-28 02:00", "Sat 2026-11-28 02:00", False),
        ("Sun 2026-11-29 02:00", "Sun 2026-11-29 02:00", False),
    ]


def test_catch_up_all_runs_each_missed_day() -> None:
    runs = simulate("every:1d", "all", asleep=ASLEEP)
    woke = [r for r in runs if r[0] == "Fri 2026-11-27 08:00"]
    assert woke == [
        ("Fri 2026-11-27 08:00", "Wed 2026-11-25 02:00", True),
        ("Fri 2026-11-27 08:00", "Thu 2026-11-26 02:00", True),
        ("Fri 2026-11-27 08:00", "Fri 2026-11-27 02:00", True),
    ]
    assert len(runs) == 7


def test_catch_up_none_skips_missed_days() -> None:
    runs = simulate("every:1d", "none", asleep=ASLEEP)
    assert [r[1][:3] for r in runs] == ["Mon", "Tue", "Sat", "Sun"]


def test_mon_fri_through_a_week_with_a_gap() -> None:
    runs = simulate("every:mon-fri", "one", asleep=("2026-11-25T01:00", "2026-11-25T09:00"))
    assert [(r[0], r[2]) for r in runs] == [
        ("Mon 2026-11-23 02:00", False),
        ("Tue 2026-11-24 02:00", False),
        ("Wed 2026-11-25 09:00", True),
        ("Thu 2026-11-26 02:00", False),
        ("Fri 2026-11-27 02:00", False),
    ]


def test_a_slow_run_never_overlaps_the_next() -> None:
    # Every 2 hours, each run takes 3: every other due time comes while one still runs.
    runs = simulate("every:2h", "one", takes=3 * 3600)
    starts = [at(datetime.strptime(r[0], "%a %Y-%m-%d %H:%M").isoformat()) for r in runs]
    assert all(b - a >= 3 * 3600 for a, b in pairwise(starts))
    due_times = 7 * 12 - 1  # Monday 02:00 to Sunday 22:00
    assert len(runs) == (due_times + 1) // 2  # every other one: the one between is skipped
    overlapping = simulate("every:2h", "one", takes=3 * 3600, overlap=True)
    assert len(overlapping) == due_times


def test_a_due_time_a_little_late_is_on_time() -> None:
    rule = parse("every:1d")
    anchor = at("2026-11-23T02:00")
    assert plan(rule, anchor, anchor, anchor + 30, "none", tz=BERLIN).runs == [(anchor, False)]
    late = plan(rule, anchor, anchor, anchor + 3600, "none", tz=BERLIN)
    assert late.runs == [] and late.skipped == 1
    assert late.next_due == anchor + 86400


def test_a_long_gap_adds_a_bounded_number_of_runs() -> None:
    rule = parse("every:1s")
    anchor = 1.8e9
    step = plan(rule, anchor, anchor, anchor + 3 * 86400, "all")
    assert len(step.runs) == recurrence.MAX_RUNS
    assert step.next_due > anchor + 3 * 86400
    assert step.skipped >= recurrence.MAX_STEPS - recurrence.MAX_RUNS


# -- quick-add ------------------------------------------------------------------------------


def test_quick_add_tokens() -> None:
    draft = quickadd(["backup every:1d at:02:00 catchup:all overlap:yes"], ["./b"], now=1.8e9)
    assert (draft.recur, draft.catch_up, draft.overlap) == ("every:1d", "all", True)
    assert draft.not_before is not None
    # A cron expression whole in one argument (the shell's quotes), or quoted in a line.
    assert quickadd(["b", "cron:0 3 * * 1"], ["x"], now=0).recur == "cron:0 3 * * 1"
    assert quickadd(['b cron:"0 3 * * 1" pri:H'], ["x"], now=0).recur == "cron:0 3 * * 1"
    assert quickadd(['b cron:"0 3 * * 1" pri:H'], ["x"], now=0).title == "b"


@pytest.mark.parametrize(
    ("words", "command", "said"),
    [
        (["write every:1d"], None, "a creative task cannot recur"),
        (["b every:often"], ["x"], "'every:often' is not a repeat; use every:1d"),
        (["b catchup:all"], ["x"], "go with a repeat"),
        (["b every:1d catchup:some"], ["x"], "catchup:one, all or none"),
        (["b every:1d overlap:maybe"], ["x"], "overlap:yes or overlap:no"),
        (["b every:1d after:3"], ["x"], "cannot wait on other tasks"),
        (["b every:1d at:9999-12-31T23:59"], ["x"], "out of range; give a year before 9000"),
        (["b every:1h at:9999-12-31T23:30"], ["x"], "out of range"),
    ],
)
def test_quick_add_refusals(words: list[str], command: list[str] | None, said: str) -> None:
    with pytest.raises(UserError, match=said):
        quickadd(words, command, now=0)


def test_an_ordinary_add_never_loads_the_recurrence_module() -> None:
    import subprocess
    import sys

    probe = (
        "import sys\nfrom focusq.quickadd import parse\n"
        "parse(['build pri:H at:14:00'], ['make'], now=0)\n"
        "print('focusq.recurrence' in sys.modules, 'croniter' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.stdout.split() == ["False", "False"]


# -- real workers ---------------------------------------------------------------------------


def series_runs(fq: Focusq, template: int) -> list[tuple[int, str, str]]:
    """(id, status, command) of each run a template added, oldest first."""
    rows = db_rows(
        fq.home,
        "SELECT t.id, t.status, t.command FROM recurring_runs r JOIN tasks t ON t.id = r.task_id "
        "WHERE r.template_id = ? ORDER BY t.id",
        template,
    )
    return [(int(i), str(s), str(c)) for i, s, c in rows]


def done_runs(fq: Focusq, template: int) -> int:
    return sum(1 for _, status, _ in series_runs(fq, template) if status == "done")


def test_bad_input_is_one_line_and_writes_nothing(fq: Focusq) -> None:
    for args in (
        ["write the post", "every:1d"],
        ["b", "every:sometimes", "--", "true"],
        ["b", "cron:0 3 * *", "--", "true"],
    ):
        result = fq("add", *args)
        assert result.returncode == 2, result
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert "every:" in result.stderr or "cron:" in result.stderr
    assert db_rows(fq.home, "SELECT count(*) FROM tasks") in ([], [(0,)])


def test_a_template_adds_runs_each_its_own_task(fq: Focusq) -> None:
    template = fq.add("tick", "every:1s", "retry:1", "--", "sh", "-c", "echo run $FOCUSQ_TASK_ID")
    assert fq.status(template) == "recurring"
    fq.start_worker()
    poll(lambda: done_runs(fq, template) >= 2, what="two runs done")
    runs = series_runs(fq, template)
    first = fq.show(runs[0][0])
    assert first["status"] == "done" and first["retries"] == 1
    assert f"recurring:{template}" in first["locks"]
    log = fq("log", str(runs[0][0]))
    assert f"run {runs[0][0]}" in log.stdout
    assert fq.status(template) == "recurring"  # the template itself never runs
    assert db_rows(fq.home, "SELECT count(*) FROM runs WHERE task_id = ?", template) == [(0,)]
    listed = fq("ls", "--recurring")
    assert "every:1s" in listed.stdout and "tick" in listed.stdout
    shown = json.loads(fq("ls", "--recurring", "--json").stdout)
    assert shown[0]["id"] == template and shown[0]["recurring"]["rule"] == "every:1s"
    # The open tasks never include the template; every task does, and its runs.
    assert template not in [t["id"] for t in json.loads(fq("ls", "--json").stdout)]
    every = {t["id"]: t["status"] for t in json.loads(fq("ls", "--all", "--json").stdout)}
    assert every[template] == "recurring" and every[runs[0][0]] == "done"


def test_a_series_is_never_waited_on_nor_depended_on(fq: Focusq) -> None:
    """A template never ends (held or not): wait --all leaves it out, and waiting on it or
    depending on it is refused in one line instead of hanging for ever."""
    series = fq.add("tick", "every:1h", "--", "true")
    job = fq.add("build", "--", "true")
    assert fq("hold", str(series)).returncode == 0
    fq.start_worker()
    assert fq("wait", "--all", "--timeout", "20").returncode == 0
    assert fq.status(job) == "done"
    refused = fq("wait", str(series), "--timeout", "1")
    assert refused.returncode == 2 and "recurring series" in refused.stderr
    later = fq.add("later", "--held", "--", "true")
    for word in (f"after:{series}", f"afterany:{series}"):
        added = fq("add", "report", word, "--", "true")
        assert added.returncode == 2 and "recurring series" in added.stderr
        edited = fq("edit", str(later), word)
        assert edited.returncode == 2 and "recurring series" in edited.stderr


def test_hold_release_drop_and_edit_the_series(fq: Focusq) -> None:
    clock = fq.add("clock", "every:1s", "--", "true")
    series = fq.add("series", "every:1s", "--", "sh", "-c", "echo first")
    fq.start_worker()
    poll(lambda: done_runs(fq, series) >= 1, what="a first run")

    assert fq("hold", str(series)).returncode == 0
    held_at = len(series_runs(fq, series))
    ticks = done_runs(fq, clock)
    poll(lambda: done_runs(fq, clock) >= ticks + 3, what="three more seconds of the clock")
    assert len(series_runs(fq, series)) == held_at
    assert "held" in fq("ls", "--recurring").stdout

    assert fq("release", str(series)).returncode == 0
    poll(lambda: len(series_runs(fq, series)) > held_at, what="a run after release")

    edited = fq("edit", str(series), "--", "sh", "-c", "echo second")
    assert edited.returncode == 0, edited.stderr
    poll(lambda: "second" in series_runs(fq, series)[-1][2], what="a run of the edited command")
    commands = [c for _, _, c in series_runs(fq, series)]
    changed = next(i for i, c in enumerate(commands) if "second" in c)
    assert all("first" in c for c in commands[:changed])
    assert all("second" in c for c in commands[changed:])  # every later run is the new one

    assert fq("drop", str(series)).returncode == 0
    dropped_at = len(series_runs(fq, series))
    ticks = done_runs(fq, clock)
    poll(lambda: done_runs(fq, clock) >= ticks + 3, what="three more seconds of the clock")
    assert len(series_runs(fq, series)) == dropped_at
    assert fq.status(series) == "dropped"

    refused = fq("retry", str(series))
    assert refused.returncode == 2 and "template" in refused.stderr


def test_a_slow_job_never_overlaps_itself(fq: Focusq) -> None:
    slow = fq.add("slow", "every:1s", "--", "sleep", "1.5")
    free = fq.add("free", "every:1s", "overlap:yes", "--", "sleep", "1.5")
    fq.start_worker(FOCUSQ_ENGINE__MAX_PARALLEL="8")
    poll(lambda: done_runs(fq, slow) >= 3, what="three slow runs")
    spans = db_rows(
        fq.home,
        "SELECT r.started_at, r.ended_at FROM runs r "
        "JOIN recurring_runs s ON s.task_id = r.task_id "
        "WHERE s.template_id = ? AND r.ended_at IS NOT NULL ORDER BY r.started_at",
        slow,
    )
    assert all(b[0] >= a[1] for a, b in pairwise(spans)), spans
    skipped = db_rows(
        fq.home,
        "SELECT count(*) FROM events WHERE kind = 'recurring' AND task_id = ? "
        "AND json_extract(payload, '$.going')",
        slow,
    )
    assert skipped[0][0] >= 1  # a due time came while a run was going: no second run
    together = db_rows(
        fq.home,
        "SELECT count(*) FROM runs a JOIN runs b ON a.id < b.id "
        "JOIN recurring_runs x ON x.task_id = a.task_id "
        "JOIN recurring_runs y ON y.task_id = b.task_id "
        "WHERE x.template_id = ? AND y.template_id = ? AND b.started_at < a.ended_at",
        free,
        free,
    )
    assert together[0][0] >= 1  # overlap:yes lets them run side by side


def _backdate(home: Path, template: int, seconds: float) -> None:
    """As if the series was added ``seconds`` ago and no worker ran since."""
    con = sqlite3.connect(home / "focusq.db")
    with con:
        past = time.time() - seconds
        con.execute(
            "UPDATE recurring SET anchor = ?, next_due = ? WHERE task_id = ?",
            (past, past, template),
        )
    con.close()


def test_catch_up_after_the_worker_was_down(fq: Focusq) -> None:
    one = fq.add("one", "every:1h", "--", "true")
    every = fq.add("all", "every:1h", "catchup:all", "--", "true")
    none = fq.add("none", "every:1h", "catchup:none", "--", "true")
    for template in (one, every, none):
        _backdate(fq.home, template, 5 * 3600 + 600)  # six due times passed, the last 10 min ago
    fq.start_worker()
    poll(lambda: done_runs(fq, every) == 6, what="six catch-up runs")
    poll(lambda: done_runs(fq, one) == 1, what="one catch-up run")
    assert series_runs(fq, none) == []
    caught = db_rows(
        fq.home,
        "SELECT r.template_id, count(*), sum(r.caught_up) FROM recurring_runs r GROUP BY 1",
    )
    assert sorted(caught) == sorted([(one, 1, 1), (every, 6, 6)])
    events = db_rows(fq.home, "SELECT task_id, at, payload FROM events WHERE kind = 'recurring'")
    said = {task_id: json.loads(payload) for task_id, _, payload in events}
    assert (said[one]["caught_up"], said[one]["skipped"]) == (1, 5)
    assert (said[none]["caught_up"], said[none]["skipped"]) == (0, 6)
    # The review of the day the worker said it (without --date, until 04:00 the review is
    # of the day before, which has none of it).
    day = date.fromtimestamp(next(when for task_id, when, _ in events if task_id == one))
    review = fq("review", "--date", day.isoformat())
    assert f"#{one} one: 6 due times missed while no worker ran, 1 caught up" in review.stdout
    assert f"#{none} none: 6 due times missed while no worker ran, 0 caught up" in review.stdout
    # Each series moved on to its next due time, in the future.
    for (next_due,) in db_rows(fq.home, "SELECT next_due FROM recurring"):
        assert next_due > time.time()


def test_status_starts_a_worker_when_a_due_time_passed(fq: Focusq) -> None:
    # Without at: a series is due the moment it is added; this one starts in an hour (a
    # moment with its offset: an at:HH:MM would be read against the wall clock).
    start = datetime.fromtimestamp(time.time() + 3600).astimezone()
    template = fq.add("due", "every:1h", f"at:{start.isoformat(timespec='seconds')}", "--", "true")
    assert db_rows(fq.home, "SELECT pid FROM lease") == []
    fq("status", "--short", FOCUSQ_WORKER__AUTOSTART="true")
    # Not due yet: no worker was started (a started one is alive before it takes the lease).
    assert processes_of(fq.home) == []
    assert db_rows(fq.home, "SELECT pid FROM lease") == []
    _backdate(fq.home, template, 60)
    fq("status", "--short", FOCUSQ_WORKER__AUTOSTART="true")
    try:
        poll(lambda: done_runs(fq, template) == 1, what="a run from a revived worker")
    finally:
        for (pid,) in db_rows(fq.home, "SELECT pid FROM lease"):
            os.kill(pid, signal.SIGTERM)


def test_install_timer_writes_the_units(fq: Focusq, tmp_path: Path) -> None:
    config = tmp_path / "xdg-config-home"
    result = fq("install-timer", XDG_CONFIG_HOME=str(config))
    assert result.returncode == 0, result.stderr
    folder = config / "systemd" / "user"
    service = (folder / "focusq-recurring.service").read_text()
    timer = (folder / "focusq-recurring.timer").read_text()
    assert "Type=oneshot" in service and "KillMode=process" in service
    assert f"Environment=FOCUSQ_HOME={fq.home}\n" in service
    assert "FOCUSQ_CONFIG_FILE" not in service  # beside the database, as FOCUSQ_HOME says
    exec_start = next(line for line in service.splitlines() if line.startswith("ExecStart="))
    assert exec_start.endswith(" -m focusq status --short")
    assert os.path.isabs(exec_start.removeprefix("ExecStart=").split()[0].strip('"'))
    assert "OnCalendar=*-*-* *:*:00" in timer and "Persistent=true" in timer
    assert "WantedBy=timers.target" in timer
    assert "systemctl --user enable --now focusq-recurring.timer" in result.stdout
    removed = fq("install-timer", "--remove", XDG_CONFIG_HOME=str(config))
    assert removed.returncode == 0
    assert not any(folder.iterdir())


def test_a_unit_file_keeps_an_odd_path_as_it_is(tmp_path: Path) -> None:
    from focusq.cli.recurring import units
    from focusq.paths import Paths

    odd = tmp_path / 'my "queue" 100%'
    service = units(Paths(str(odd), str(odd / "config.toml")), "/usr/bin/python3")[
        "focusq-recurring.service"
    ]
    home = str(odd).replace("%", "%%").replace('"', '\\"')
    assert f'Environment="FOCUSQ_HOME={home}"\n' in service
    xdg = units(Paths.from_env({"HOME": str(odd)}), "/usr/bin/python3")["focusq-recurring.service"]
    assert "FOCUSQ_HOME" not in xdg  # it would move the config beside the database
    assert "XDG_DATA_HOME=" in xdg and "XDG_CONFIG_HOME=" in xdg


def test_the_review_says_what_was_missed_and_caught_up() -> None:
    from datetime import date

    from focusq.review.day import DayLog
    from focusq.review.export import summary
    from focusq.review.figures import figures
    from focusq.review.recurring import missed_times

    start = at("2026-11-24T00:00")

    def said(payload: dict[str, object], task_id: int = 7) -> dict[str, object]:
        return {"at": start + 3600, "task_id": task_id, "kind": "recurring", "payload": payload}

    log = DayLog(
        day=date(2026, 11, 24),
        start=start,
        end=start + 86400,
        now=start + 86400,
        events=[
            said({"runs": [8], "caught_up": 1, "skipped": 5, "going": False}),
            said({"runs": [], "caught_up": 0, "skipped": 2, "going": True}, 9),  # on time
            said({"runs": [10], "caught_up": 0, "skipped": 0, "going": False}, 11),
        ],
        tasks={7: {"title": "backup", "kind": "mechanical", "status": "recurring"}},
    )
    assert [(m.task_id, m.missed, m.caught_up) for m in missed_times(log)] == [(7, 6, 1)]
    lines = dict(summary(figures(log)))
    assert lines["Recurring"] == "#7 backup: 6 due times missed while no worker ran, 1 caught up"


def test_a_rule_no_date_can_follow_holds_its_series_and_stops_no_worker(fq: Focusq) -> None:
    """A rule stored before such periods were refused: the worker holds the series, saying
    why, and goes on running the rest."""
    template = fq.add("r", "every:1d", "--", "true")
    con = sqlite3.connect(fq.home / "focusq.db")
    with con:  # as an older focusq could have written it, and due now
        con.execute(
            "UPDATE recurring SET rule = 'every:3000000d', next_due = ? WHERE task_id = ?",
            (time.time() - 1, template),
        )
    con.close()
    other = fq.add("--", "true")
    worker = fq.start_worker()
    assert fq.wait(other).returncode == 0
    poll(lambda: fq.status(template) == "held", what="the series held")
    assert "no next date" in (task(fq.home, template)["reason"] or "")
    assert worker.poll() is None
