"""The review's figures on a constructed day: known events, exact expected numbers.

The day (Tue 24 Nov 2026, local time) has blocks sync 09-10, async 10-12, sync 13-14 and
async 14-17, and it is now 16:30:

- focus: #1 10:00-11:10 with a pause 10:45-10:55 (45m + 15m); #2 11:10-11:40 with ten
  minutes away at 11:25-11:35 (15m + 5m) then done; #1 again 13:30-14:30 (60m, half of it
  in the sync block);
- jobs: #13 ran from 23:50 the night before to 00:10 (10m today); #10 09:00-09:20 ok;
  #11 failed 09:05-09:15 then its retry 09:16-09:36 was ok; #12 09:10-09:40 timed out;
  #14 started at 16:00 and still runs;
- five interruptions: one urgent broke through at once, three went out in two batches, one
  came in free time and was shown at once; three switch prompts, two taken.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from focusq.focus.blocks import make_block
from focusq.review.day import DayLog, review_day, tomorrow_start
from focusq.review.export import duration, lane_cells, text_timeline, to_markdown
from focusq.review.figures import (
    BlockUse,
    DoneTask,
    FailureNote,
    Span,
    TaskFocus,
    Unfinished,
    figures,
)

DAY = date(2026, 11, 24)
BLOCKS = [
    make_block("mon-fri", "09:00", "10:00", "sync", "standup"),
    make_block("mon-fri", "10:00", "12:00", "async", "deep"),
    make_block("mon-fri", "13:00", "14:00", "sync"),
    make_block("mon-fri", "14:00", "17:00", "async"),
]
MIN = 60.0


def at(hour: int, minute: int = 0, day: int = 24) -> float:
    return datetime(2026, 11, day, hour, minute).timestamp()


def ev(when: float, kind: str, task_id: int | None = None, **payload: Any) -> dict[str, Any]:
    return {"at": when, "task_id": task_id, "kind": kind, "payload": payload}


def run(
    task_id: int,
    attempt: int,
    start: float,
    end: float | None,
    result: str,
    to: str = "done",
    **extra: Any,
) -> list[dict[str, Any]]:
    """A run's claim event and, unless it still runs, its end with ``result``."""
    out = [ev(start, "status", task_id, **{"from": "queued", "to": "running", "attempt": attempt})]
    if end is not None:
        payload = {"from": "running", "to": to, "result": result, **extra}
        out.append(ev(end, "status", task_id, **payload))
    return out


def focus(task_id: int, when: float, action: str, **payload: Any) -> dict[str, Any]:
    return ev(when, "focus", task_id, action=action, **payload)


TASKS = {
    1: {"title": "write the launch post", "kind": "creative", "status": "queued"},
    2: {"title": "design review", "kind": "creative", "status": "done"},
    10: {"title": "make build", "kind": "mechanical", "status": "done"},
    11: {"title": "pytest -x", "kind": "mechanical", "status": "done"},
    12: {"title": "deploy prod", "kind": "mechanical", "status": "failed"},
    13: {"title": "pull crm data", "kind": "mechanical", "status": "done"},
    14: {"title": "nightly index", "kind": "mechanical", "status": "running"},
    15: {"title": "old idea", "kind": "creative", "status": "dropped"},
}


def day_events() -> list[dict[str, Any]]:
    events = [
        *run(13, 1, at(23, 50, day=23), at(0, 10), "ok"),
        *run(10, 1, at(9, 0), at(9, 20), "ok"),
        *run(11, 1, at(9, 5), at(9, 15), "failed", to="queued", exit_code=1),
        *run(12, 1, at(9, 10), at(9, 40), "timed_out", to="failed"),
        *run(11, 2, at(9, 16), at(9, 36), "ok"),
        focus(1, at(10), "start", session=1, planned_minutes=50),
        focus(1, at(10, 45), "pause"),
        ev(at(10, 50), "interruption", None, action="captured", source="note", urgent=False),
        focus(1, at(10, 55), "resume"),
        ev(at(11, 0), "interruption", None, action="captured", source="job", urgent=True),
        ev(at(11, 0), "interruption", None, action="delivered", batch=1, count=1, reason="urgent"),
        ev(at(11, 5), "switch", 1, to=2, accepted=True, waiting_on=11),
        focus(1, at(11, 10), "end", outcome="switched"),
        focus(2, at(11, 10), "start", session=2, planned_minutes=50),
        ev(at(11, 20), "interruption", None, action="captured", source="quickadd", urgent=False),
        ev(at(11, 30), "switch", 2, to=1, accepted=False, waiting_on=12),
        focus(2, at(11, 38), "away", seconds=600, until=at(11, 35)),
        focus(2, at(11, 40), "end", outcome="done"),
        ev(at(11, 40), "status", 2, **{"from": "queued", "to": "done", "by": "focus"}),
        ev(
            at(11, 40),
            "interruption",
            None,
            action="delivered",
            batch=2,
            count=2,
            reason="the focus session ended",
        ),
        ev(at(12, 0), "interruption", None, action="captured", source="note", urgent=False),
        ev(at(12, 30), "interruption", None, action="captured", source="note", urgent=False),
        ev(
            at(12, 30), "interruption", None, action="delivered", batch=3, count=1, reason="at once"
        ),
        ev(
            at(13, 0),
            "interruption",
            None,
            action="delivered",
            batch=4,
            count=1,
            reason="a sync block started",
        ),
        ev(at(13, 25), "switch", 1, to=3, accepted=True, waiting_on=12),
        focus(1, at(13, 30), "start", session=3, planned_minutes=60),
        focus(1, at(14, 30), "end", outcome="stopped"),
        *run(14, 1, at(16, 0), None, ""),
    ]
    # The store hands events in the order they were written, the carried-in run first.
    return events


def constructed_day(**overrides: Any) -> DayLog:
    fields: dict[str, Any] = {
        "events": day_events(),
        "tasks": TASKS,
        "unfinished": [1, 12],
        "answers": {12: "carry", 15: "drop"},
        "closed_at": None,
        "tails": {(11, 1): "collected 312 items\nFAILED test_api.py::test_login\n1 failed"},
        "notes": [
            {"task_id": 11, "at": at(17, 0, day=20), "attempt": 3, "text": "flaky login test"}
        ],
        **overrides,
    }
    return DayLog.of(DAY, fields, BLOCKS, now=at(16, 30))


def test_done_lists_both_kinds_with_their_time() -> None:
    review = figures(constructed_day())
    assert review.done == [
        DoneTask(13, "pull crm data", "mechanical", at(0, 10), 0.0, 10 * MIN, 1),
        DoneTask(10, "make build", "mechanical", at(9, 20), 0.0, 20 * MIN, 1),
        DoneTask(11, "pytest -x", "mechanical", at(9, 36), 0.0, 30 * MIN, 2),
        DoneTask(2, "design review", "creative", at(11, 40), 20 * MIN, 0.0, 0),
    ]


def test_focus_totals_sessions_longest_and_blocks() -> None:
    focus = figures(constructed_day()).focus
    assert focus.seconds == 140 * MIN
    assert focus.sessions == 3
    assert focus.longest_seconds == 60 * MIN
    assert focus.by_mode == {"async": 110 * MIN, "sync": 30 * MIN, "free": 0.0}
    assert focus.blocks == [
        BlockUse(at(9), at(10), "sync", "standup", 60 * MIN, 0.0),
        # Untracked: ten minutes away 11:25-11:35 and 11:40-12:00 after the last session;
        # 14:30 until now (16:30). The pause 10:45-10:55 is time off, not untracked.
        BlockUse(at(10), at(12), "async", "deep", 120 * MIN, 80 * MIN, 30 * MIN),
        BlockUse(at(13), at(14), "sync", "", 60 * MIN, 30 * MIN),
        BlockUse(at(14), at(17), "async", "", 180 * MIN, 30 * MIN, 120 * MIN),
    ]
    assert (focus.async_seconds, focus.rest_seconds, focus.untracked_seconds) == (
        270 * MIN,
        10 * MIN,
        150 * MIN,
    )
    assert focus.tasks == [
        TaskFocus(1, "write the launch post", 120 * MIN, 2),
        TaskFocus(2, "design review", 20 * MIN, 1),
    ]


def test_interruptions_and_switches() -> None:
    review = figures(constructed_day())
    i = review.interruptions
    assert (i.captured, i.urgent) == (5, 1)
    assert (i.batches, i.delivered, i.broke_through, i.at_once) == (2, 3, 1, 1)
    assert i.by_source == {"job": 1, "note": 3, "quickadd": 1}
    s = review.switches
    assert (s.offered, s.accepted, s.declined, s.task_switches) == (3, 2, 1, 2)


def test_jobs_results_time_and_parallel_gain() -> None:
    jobs = figures(constructed_day()).jobs
    assert jobs.runs == 6
    assert (jobs.ok, jobs.failed, jobs.timed_out, jobs.cancelled, jobs.interrupted) == (
        3,
        1,
        1,
        0,
        0,
    )
    assert (jobs.running, jobs.retried) == (1, 1)
    # 10 (from midnight) + 20 + 10 + 30 + 20 + 30 (running until now)
    assert jobs.job_seconds == 120 * MIN
    # 00:00-00:10, 09:00-09:40, 16:00-16:30
    assert jobs.wall_seconds == 80 * MIN
    assert jobs.parallel_gain == pytest.approx(1.5)


def test_failures_carry_their_log_tail_and_every_note() -> None:
    failures = figures(constructed_day()).jobs.failures
    assert [(f.task_id, f.attempt, f.result, f.exit_code, f.status) for f in failures] == [
        (11, 1, "failed", 1, "done"),
        (12, 1, "timed_out", None, "failed"),
    ]
    assert failures[0].tail.endswith("1 failed")
    assert failures[0].notes == [FailureNote(at(17, 0, day=20), 3, "flaky login test")]
    assert failures[1].tail == "" and failures[1].notes == []


def test_timeline_lanes_pack_runs_into_as_few_slots_as_overlap_needs() -> None:
    timeline = figures(constructed_day()).timeline
    assert (timeline.start, timeline.end) == (at(0), at(17))
    assert [b.mode for b in timeline.blocks] == ["sync", "async", "sync", "async"]
    assert [(s.task_id, s.start, s.end) for s in timeline.focus] == [
        (1, at(10), at(10, 45)),
        (1, at(10, 55), at(11, 10)),
        (2, at(11, 10), at(11, 25)),
        (2, at(11, 35), at(11, 40)),
        (1, at(13, 30), at(14, 30)),
    ]
    lanes = [[(s.task_id, s.result) for s in lane] for lane in timeline.slots]
    assert lanes == [
        [(13, "ok"), (10, "ok"), (14, None)],
        [(11, "failed"), (11, "ok")],
        [(12, "timed_out")],
    ]


def test_unfinished_keeps_answered_tasks_with_their_answer() -> None:
    assert figures(constructed_day()).unfinished == [
        Unfinished(1, "write the launch post", "creative", "queued", None),
        Unfinished(15, "old idea", "creative", "dropped", "drop"),
        Unfinished(12, "deploy prod", "mechanical", "failed", "carry"),
    ]


def test_a_past_day_counts_what_still_ran_at_midnight_up_to_midnight() -> None:
    events = [
        *run(20, 1, at(23, 0), None, ""),
        focus(1, at(23, 30), "start", session=9, planned_minutes=50),
    ]
    log = DayLog.of(DAY, {"events": events, "tasks": TASKS}, BLOCKS, now=at(10, day=26))
    review = figures(log)
    assert review.jobs.running == 1 and review.jobs.job_seconds == 60 * MIN
    assert review.focus.seconds == 30 * MIN and review.focus.by_mode["free"] == 30 * MIN
    assert review.timeline.end == at(0, day=25)


def test_an_empty_day_has_zeros_no_gain_and_a_working_day_timeline() -> None:
    log = DayLog.of(DAY, {"events": [], "tasks": {}}, [], now=at(18))
    review = figures(log)
    assert review.done == [] and review.unfinished == []
    assert review.focus.seconds == 0 and review.focus.sessions == 0
    assert review.jobs.runs == 0 and review.jobs.parallel_gain is None
    assert (review.timeline.start, review.timeline.end) == (at(9), at(17))
    assert review.timeline.slots == []


def test_pause_and_away_that_overlap_cut_the_time_once() -> None:
    events = [
        focus(1, at(10), "start", session=1, planned_minutes=50),
        focus(1, at(10, 20), "pause"),
        focus(1, at(10, 40), "resume"),
        # Twenty minutes away from 10:30 to 10:50: ten of them were already a pause.
        focus(1, at(10, 52), "away", seconds=1200, until=at(10, 50)),
        focus(1, at(11), "end", outcome="stopped"),
    ]
    review = figures(DayLog.of(DAY, {"events": events, "tasks": TASKS}, [], now=at(12)))
    assert review.focus.seconds == 30 * MIN
    assert review.focus.longest_seconds == 20 * MIN


def test_tomorrow_starts_at_its_first_block_or_midnight() -> None:
    assert tomorrow_start(DAY, BLOCKS) == at(9, day=25)
    friday = date(2026, 11, 27)
    assert tomorrow_start(friday, BLOCKS) == datetime(2026, 11, 28).timestamp()


def test_lane_cells_mark_the_span_covering_most_of_each_cell() -> None:
    spans = [Span(0, 25, 1, "a", "ok"), Span(25, 40, 2, "b", "failed")]
    cells = lane_cells(spans, 0, 60, 6)
    assert [c.task_id if c else None for c in cells] == [1, 1, 1, 2, None, None]


def test_text_timeline_draws_blocks_focus_and_failures() -> None:
    # 00:00-17:00 in 68 cells: four cells an hour.
    rows = text_timeline(figures(constructed_day()).timeline, 8 + 68)
    assert rows[0].startswith("time    00")
    assert rows[1] == "blocks  " + " " * 36 + "ssss" + "a" * 8 + " " * 4 + "ssss" + "a" * 12
    assert rows[2].startswith("focus") and rows[2][8 + 40] == "█"  # 10:00
    assert rows[2][8 + 48] == " "  # 12:00, no focus
    assert rows[4][8 + 36] == "x"  # slot 2: the failed pytest run at 09:05


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (59.6, "1m"), (61, "1m"), (3600, "1h 00m"), (7500, "2h 05m")]
)
def test_durations_read_as_a_person_would_say_them(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_markdown_export_matches_the_expected_file(request: pytest.FixtureRequest) -> None:
    expected = request.path.parent / "data" / "review-2026-11-24.md"
    text = to_markdown(figures(constructed_day(closed_at=at(17, 45))))
    if request.config.getoption("--snapshot-update", default=False):
        expected.write_text(text)
    assert text == expected.read_text()


def test_every_result_is_counted_once_and_failures_include_interrupted() -> None:
    events = [
        *run(30, 1, at(9), at(9, 10), "cancelled", to="cancelled"),
        *run(31, 1, at(9), at(9, 20), "interrupted", to="failed"),
        *run(32, 1, at(9, 30), at(9, 30), "spawn_error", to="failed", exit_code=127),
        # Paused, then cancelled while paused: the run ends from "paused".
        *run(33, 1, at(10), None, ""),
        ev(at(10, 5), "status", 33, **{"from": "running", "to": "paused"}),
        ev(
            at(10, 15), "status", 33, **{"from": "paused", "to": "cancelled", "result": "cancelled"}
        ),
        # Cancelled while queued: never a run.
        ev(at(11), "status", 34, **{"from": "queued", "to": "cancelled", "by": "cancel"}),
    ]
    log = DayLog.of(DAY, {"events": events, "tasks": {}}, [], now=at(18))
    jobs = figures(log).jobs
    assert jobs.runs == 4
    assert (jobs.ok, jobs.failed, jobs.cancelled, jobs.interrupted, jobs.running) == (0, 1, 2, 1, 0)
    assert [(f.task_id, f.result) for f in jobs.failures] == [
        (31, "interrupted"),
        (32, "spawn_error"),
    ]
    # The paused job's fifteen minutes count, pause included.
    assert jobs.job_seconds == (10 + 20 + 0 + 15) * MIN


def test_a_task_done_then_retried_the_same_day_is_not_done() -> None:
    events = [
        *run(40, 1, at(9), at(9, 10), "ok"),
        ev(at(9, 30), "status", 40, **{"from": "done", "to": "queued", "by": "retry"}),
        *run(40, 2, at(9, 31), None, ""),
    ]
    log = DayLog.of(DAY, {"events": events, "tasks": {}}, [], now=at(10))
    review = figures(log)
    assert review.done == []
    assert review.jobs.runs == 2 and review.jobs.retried == 1


def test_the_first_switch_of_the_day_counts_against_a_session_from_last_night() -> None:
    events = [
        focus(1, at(23, 0, day=23), "start", session=1, planned_minutes=50),
        focus(1, at(0, 30), "end", outcome="switched"),
        focus(2, at(0, 30), "start", session=2, planned_minutes=50),
        focus(2, at(1, 0), "end", outcome="stopped"),
        focus(2, at(9, 0), "start", session=3, planned_minutes=50),
        focus(2, at(9, 30), "end", outcome="stopped"),
    ]
    review = figures(DayLog.of(DAY, {"events": events, "tasks": TASKS}, [], now=at(18)))
    assert review.switches.task_switches == 1
    assert review.focus.sessions == 3 and review.focus.seconds == 90 * MIN


def test_a_review_opened_after_midnight_is_about_the_day_before() -> None:
    assert review_day(at(1, 30, day=25)) == DAY
    assert review_day(at(4, 0, day=25)) == date(2026, 11, 25)
    assert review_day(at(23, 59)) == DAY
