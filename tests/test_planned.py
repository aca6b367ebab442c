"""Planned against actual, on a constructed week in a real database: figures exact.

The week runs Sat 21 to Fri 27 Nov 2026 (local time). Finished in it, with their estimates:

| task | est | took | how |
| --- | --- | --- | --- |
| A write the intro +writing project:blog | 50m | 80m | focus Mon 60m, Tue 20m |
| B edit the chapter +writing | 60m | 96m | focus Wed 10:00-11:46, paused 10 min |
| C plan Q1 +planning | 30m | 15m | focus Thu |
| D build site +site (a job) | 10m | 12m | one run Thu |
| E reply to email +admin | – | 20m | focus Thu |
| G write the essay +writing | 60m | 60m | focus Fri 09:00, stopped at 17:00, trimmed to 10:00 |

F (+writing, est 1h) was focused on but never finished: it does not count.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime
from typing import Any

import pytest

from focusq.errors import UserError
from focusq.paths import Paths
from focusq.quickadd import parse
from focusq.review.day import DayLog, day_window
from focusq.review.export import to_markdown, to_text
from focusq.review.figures import figures
from focusq.review.planned import planned, ratio_words, ratios, suggestion
from focusq.store.ops import focus, review, tasks
from focusq.store.sync import SyncStore
from tests.engine_helpers import record_run

FRIDAY = date(2026, 11, 27)
MIN = 60.0


def at(day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, 11, day, hour, minute).timestamp()


@pytest.fixture
def store(paths: Paths):  # type: ignore[no-untyped-def]
    with SyncStore(paths.database) as s:
        yield s


def add(store: SyncStore, text: str, command: list[str] | None = None) -> int:
    draft = parse([text], command, now=at(20, 8))
    if command is not None:
        draft.cwd = "/tmp"
    return int(store.run(tasks.add_task(draft, at(20, 8))))


def session(store: SyncStore, task: int, start: float, end: float, *, done: bool) -> None:
    store.run(focus.start_focus(task, start, 50, switch=False))
    store.run(focus.stop_focus(end, done=done))


@pytest.fixture
def week(store: SyncStore) -> dict[str, int]:
    ids = {
        "A": add(store, "write the intro +writing project:blog est:50m"),
        "B": add(store, "edit the chapter +writing est:1h"),
        "C": add(store, "plan Q1 +planning est:30m"),
        "D": add(store, "build site +site est:10m", ["make"]),
        "E": add(store, "reply to email +admin"),
        "F": add(store, "write the outline +writing est:1h"),
        "G": add(store, "write the essay +writing est:1h"),
    }
    session(store, ids["A"], at(23, 9), at(23, 10), done=False)
    session(store, ids["A"], at(24, 9), at(24, 9, 20), done=True)
    store.run(focus.start_focus(ids["B"], at(25, 10), 50, switch=False))
    store.run(focus.pause_focus(at(25, 10, 30), resume=False))
    store.run(focus.pause_focus(at(25, 10, 40), resume=True))
    store.run(focus.stop_focus(at(25, 11, 46), done=True))
    session(store, ids["C"], at(26, 14), at(26, 14, 15), done=True)
    record_run(store, ids["D"], at(26, 15), at(26, 15, 12), ok=True)
    session(store, ids["E"], at(26, 16), at(26, 16, 20), done=True)
    session(store, ids["F"], at(26, 17), at(26, 17, 30), done=False)
    # Forgotten running all day, finished at 17:00, then trimmed to 10:00.
    session(store, ids["G"], at(27, 9), at(27, 17), done=True)
    store.run(focus.trim_focus(ids["G"], at(27, 10), at(27, 17, 5)))
    return ids


def week_history(store: SyncStore) -> dict[str, Any]:
    start, end = day_window(date(2026, 11, 21))[0], day_window(FRIDAY)[1]
    return store.run(review.done_history(start, end))  # type: ignore[no-any-return]


def test_the_weeks_estimates_against_the_time_taken(store: SyncStore, week: dict[str, int]) -> None:
    figured = planned(week_history(store), at(28, 12))
    took = {t.id: (t.estimate_seconds, t.actual_seconds) for t in figured.tasks}
    assert took == {
        week["A"]: (50 * MIN, 80 * MIN),
        week["B"]: (60 * MIN, 96 * MIN),
        week["C"]: (30 * MIN, 15 * MIN),
        week["D"]: (10 * MIN, 12 * MIN),
        week["E"]: (None, 20 * MIN),
        week["G"]: (60 * MIN, 60 * MIN),
    }
    assert (figured.planned_seconds, figured.actual_seconds) == (210 * MIN, 263 * MIN)
    assert (figured.unestimated, figured.unestimated_seconds) == (1, 20 * MIN)
    by_name = [
        (r.name, r.tasks, r.estimate_seconds / MIN, r.actual_seconds / MIN)
        for r in ratios(figured.tasks)
    ]
    assert by_name == [
        ("all", 5, 210, 263),
        ("project:blog", 1, 50, 80),
        ("+writing", 3, 170, 236),
        ("+site", 1, 10, 12),
        ("+planning", 1, 30, 15),
    ]
    writing = ratios(figured.tasks)[2]
    assert ratio_words(writing) == (
        "+writing: 3 tasks, est 2h 50m, took 3h 56m: 1.4x"
        "  (your +writing takes 1.4x what you estimate)"
    )
    # Quick-add suggests: a new +writing task of 50m is more like 69m.
    best, scaled = suggestion(ratios(figured.tasks), ["writing"], None, 50 * MIN)  # type: ignore[misc]
    assert best.name == "+writing"
    assert scaled == pytest.approx(50 * MIN * 236 / 170)
    assert suggestion(ratios(figured.tasks), ["garden"], None, None) is None


def test_the_days_review_shows_estimates_and_the_trimmed_session(
    store: SyncStore, week: dict[str, int]
) -> None:
    start, end = day_window(FRIDAY)
    rows = store.run(review.day_log(start, end, FRIDAY.isoformat()))
    figured = figures(DayLog.of(FRIDAY, rows, [], at(28, 12)))
    assert figured.focus.seconds == 60 * MIN  # the trim, not the 8 hours
    assert [(t.id, t.estimate_seconds, t.actual_seconds) for t in figured.planned.tasks] == [
        (week["G"], 60 * MIN, 60 * MIN)
    ]
    text = to_text(figured)
    assert "Planned against actual\n" in text
    assert f"  #{week['G']:<5} write the essay  (est 1h 00m, took 1h 00m (1.0x))\n" in text
    assert "  total  planned 1h 00m, took 1h 00m (1.0x)\n" in text
    assert "| G |" not in to_markdown(figured)
    assert f"| {week['G']} | write the essay | 1h 00m | 1h 00m | 1.0x |" in to_markdown(figured)
    # The original session stays as it was; the trim is an event of its own.
    with sqlite3.connect(store.path) as con:
        ended, outcome = con.execute(
            "SELECT ended_at, outcome FROM focus_sessions WHERE task_id = ?", (week["G"],)
        ).fetchone()
        trims = [
            json.loads(p)
            for (p,) in con.execute(
                "SELECT payload FROM events WHERE task_id = ? AND kind = 'focus' "
                "AND json_extract(payload, '$.action') = 'trim'",
                (week["G"],),
            )
        ]
    assert (ended, outcome) == (at(27, 17), "done")
    assert [(t["to"], t["was"]) for t in trims] == [(at(27, 10), at(27, 17))]


def test_a_trim_written_the_next_day_changes_yesterdays_review(store: SyncStore) -> None:
    task = add(store, "write the report +writing est:1h")
    store.run(focus.start_focus(task, at(26, 16), 50, switch=False))
    # Left running overnight; trimmed the next morning to 16:45 the day before.
    trimmed = store.run(focus.trim_focus(task, at(26, 16, 45), at(27, 9)))
    assert trimmed["was"] == at(27, 9)
    assert store.run(focus.current_focus()) is None  # the open session ended
    for day, seconds in ((date(2026, 11, 26), 45 * MIN), (FRIDAY, 0.0)):
        start, end = day_window(day)
        rows = store.run(review.day_log(start, end, day.isoformat()))
        assert figures(DayLog.of(day, rows, [], at(28, 9))).focus.seconds == seconds


@pytest.mark.parametrize(
    ("to", "now", "message"),
    [
        (at(27, 12), at(27, 11), "later than now"),
        (at(27, 8), at(27, 11), "no focus session that began before"),
        (at(27, 10, 30), at(27, 11), "had already ended"),
    ],
)
def test_a_trim_that_cannot_be_is_refused(
    store: SyncStore, to: float, now: float, message: str
) -> None:
    task = add(store, "write")
    session(store, task, at(27, 9), at(27, 10), done=False)
    with pytest.raises(UserError, match=message):
        store.run(focus.trim_focus(task, to, now))


def test_a_task_carried_three_times_is_flagged(store: SyncStore) -> None:
    task = add(store, "sort the photos")
    for day in (23, 24, 25):
        # Changing one day's answer twice still counts that day once.
        store.run(review.decide(task, "carry", f"2026-11-{day}", at(day, 18), at(day + 1, 9)))
        store.run(review.decide(task, "carry", f"2026-11-{day}", at(day, 18, 5), at(day + 1, 9)))
    day = date(2026, 11, 26)
    start, end = day_window(day)
    rows = store.run(review.day_log(start, end, day.isoformat()))
    figured = figures(DayLog.of(day, rows, [], at(27, 9)))
    assert [(u.id, u.carried) for u in figured.unfinished] == [(task, 3)]
    line = f"  #{task:<5} queued   sort the photos  (carried 3 times: backlog?)"
    assert line in to_text(figured).splitlines()
    assert "| creative | queued | not yet answered | (carried 3 times: backlog?) |" in (
        to_markdown(figured)
    )


def test_two_carries_are_not_flagged(store: SyncStore) -> None:
    task = add(store, "sort the photos")
    for day in (23, 24):
        store.run(review.decide(task, "carry", f"2026-11-{day}", at(day, 18), at(day + 1, 9)))
    start, end = day_window(FRIDAY)
    rows = store.run(review.day_log(start, end, FRIDAY.isoformat()))
    text = to_text(figures(DayLog.of(FRIDAY, rows, [], at(27, 18))))
    assert "sort the photos" in text and "backlog?" not in text


# -- the real command ---------------------------------------------------------------------


def test_review_week_through_the_cli(focusq, store: SyncStore, week: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    result = focusq("review", "--week", "--date", "2026-11-27")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Planned against actual, 2026-11-21 to 2026-11-27",
        "  planned 3h 30m, took 4h 23m (1.3x); 1 task without an estimate took 20m",
        "",
        "all: 5 tasks, est 3h 30m, took 4h 23m: 1.3x",
        "project:blog: 1 task, est 50m, took 1h 20m: 1.6x"
        "  (your blog takes 1.6x what you estimate)",
        "+writing: 3 tasks, est 2h 50m, took 3h 56m: 1.4x"
        "  (your +writing takes 1.4x what you estimate)",
        "+site: 1 task, est 10m, took 12m: 1.2x  (your +site takes 1.2x what you estimate)",
        "+planning: 1 task, est 30m, took 15m: 0.5x  (your +planning takes 0.5x what you estimate)",
    ]
    data = json.loads(focusq("review", "--week", "--date", "2026-11-27", "--json").stdout)
    assert data["planned"]["planned_s"] == 210 * MIN
    assert [(r["name"], r["ratio"]) for r in data["ratios"]][:3] == [
        ("all", round(263 / 210, 3)),
        ("project:blog", 1.6),
        ("+writing", round(236 / 170, 3)),
    ]


def test_focus_new_adds_and_focuses(focusq, paths: Paths) -> None:  # type: ignore[no-untyped-def]
    result = focusq("focus", "--new", "write the intro +blog est:50m")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["added #1", "focus on #1 write the intro for 50 min"]
    with sqlite3.connect(paths.database) as con:
        task = con.execute("SELECT kind, tags, estimate FROM tasks WHERE id = 1").fetchone()
        open_sessions = con.execute(
            "SELECT task_id FROM focus_sessions WHERE ended_at IS NULL"
        ).fetchall()
    assert task == ("creative", '["blog"]', 3000.0)
    assert open_sessions == [(1,)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["focus", "--new", "+blog est:50m"], "no title"),
        (["focus", "--trim", "1"], "--trim needs --to"),
        (["focus", "--trim", "1", "--to", "25:99"], "write a time as HH:MM"),
        (["focus", "--to", "10:00"], "--to goes with --trim"),
        (["focus", "--trim", "7", "--to", "10:00"], "7"),
    ],
)
def test_bad_focus_input_is_one_line(focusq, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    result = focusq(*args)
    assert result.returncode != 0
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_interruptions_split_by_who_made_them() -> None:
    from tests.test_review import constructed_day

    i = figures(constructed_day()).interruptions
    assert (i.from_others, i.self_made, i.from_jobs) == (3, 1, 1)
