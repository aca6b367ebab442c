"""The review of a day with runs on another executor, read from a real database: each run
says where it ran (text, Markdown, SVG, JSON), and the timeline gives every executor lanes
of its own, named after it. A day of local runs only reads as it always did."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any

import pytest

from focusq.paths import Paths
from focusq.quickadd import parse
from focusq.review.day import DayLog, day_window
from focusq.review.export import timeline_svg, to_json, to_markdown, to_text
from focusq.review.figures import Review, figures
from focusq.review.timeline import LANE_NAME_MAX, label_width, lane_name, lanes, text_timeline
from focusq.store.ops import review as review_ops
from focusq.store.ops import tasks
from focusq.store.sync import SyncStore
from tests.engine_helpers import record_run, start_run
from tests.test_review import constructed_day

DAY = date(2026, 11, 24)
START, END = day_window(DAY)


def at(hour: int, minute: int = 0) -> float:
    return datetime(2026, 11, 24, hour, minute).timestamp()


@pytest.fixture
def store(paths: Paths):  # type: ignore[no-untyped-def]
    with SyncStore(paths.database) as s:
        yield s


def add(store: SyncStore, title: str, command: list[str]) -> int:
    draft = parse([title], command, now=at(8))
    draft.cwd = "/tmp"
    return int(store.run(tasks.add_task(draft, at(8))))


def review_of(store: SyncStore, now: float = at(18)) -> Review:
    rows = store.run(review_ops.day_log(START, END, DAY.isoformat()))
    return figures(DayLog.of(DAY, rows, [], now))


@pytest.fixture
def mixed_day(store: SyncStore, paths: Paths) -> dict[str, int]:
    """A local build 09:00-09:10; on ``farm``: a pull at vm3 09:20-09:30 (ok), tests at vm4
    09:25-09:50 (failed); an index started on ``farm`` at 10:00, its host not yet known."""
    build = add(store, "make build", ["make"])
    pull = add(store, "pull crm data", ["./pull"])
    tests = add(store, "run tests", ["pytest"])
    index = add(store, "nightly index", ["./index"])
    record_run(store, build, at(9), at(9, 10), ok=True, logs=paths.logs)
    record_run(
        store, pull, at(9, 20), at(9, 30), ok=True, executor="farm", host="vm3", logs=paths.logs
    )
    record_run(
        store,
        tests,
        at(9, 25),
        at(9, 50),
        ok=False,
        executor="farm",
        host="vm4",
        tail="FAILED test_login\n",
        logs=paths.logs,
    )
    start_run(store, index, at(10), executor="farm", host=None, logs=paths.logs)
    return {"build": build, "pull": pull, "tests": tests, "index": index}


def test_the_day_log_says_where_each_remote_run_ran(
    store: SyncStore, mixed_day: dict[str, int]
) -> None:
    rows = store.run(review_ops.day_log(START, END, DAY.isoformat()))
    assert rows["elsewhere"] == {
        (mixed_day["pull"], 1): ("farm", "vm3"),
        (mixed_day["tests"], 1): ("farm", "vm4"),
        (mixed_day["index"], 1): ("farm", None),
    }


def test_failures_and_done_jobs_carry_their_executor_and_host(
    store: SyncStore, mixed_day: dict[str, int]
) -> None:
    review = review_of(store)
    [failure] = review.jobs.failures
    assert (failure.task_id, failure.executor, failure.host) == (mixed_day["tests"], "farm", "vm4")
    done = {t.id: (t.executor, t.host) for t in review.done}
    assert done == {mixed_day["build"]: (None, None), mixed_day["pull"]: ("farm", "vm3")}


def test_text_and_markdown_say_where_a_run_ran_and_nothing_for_a_local_one(
    store: SyncStore, mixed_day: dict[str, int]
) -> None:
    review = review_of(store)
    text = to_text(review)
    assert f"#{mixed_day['pull']:<5} pull crm data  (10m run on farm (vm3))" in text
    assert f"#{mixed_day['build']:<5} make build  (10m run)\n" in text
    assert "attempt 1 failed (exit 1) at 09:50 on farm (vm4); now failed" in text
    markdown = to_markdown(review)
    pull = f"| {mixed_day['pull']} | pull crm data | mechanical | 09:30 | 10m run on farm (vm3) |"
    assert pull in markdown
    assert f"| {mixed_day['build']} | make build | mechanical | 09:10 | 10m run |" in markdown
    assert "attempt 1 failed (exit 1) at 09:50 on farm (vm4); now failed." in markdown


def test_json_runs_have_executor_and_host_null_for_local(
    store: SyncStore, mixed_day: dict[str, int]
) -> None:
    data = to_json(review_of(store))
    bars = {bar["task_id"]: bar for lane in data["timeline"]["slots"] for bar in lane}
    assert (bars[mixed_day["build"]]["executor"], bars[mixed_day["build"]]["host"]) == (None, None)
    assert (bars[mixed_day["pull"]]["executor"], bars[mixed_day["pull"]]["host"]) == ("farm", "vm3")
    assert (bars[mixed_day["index"]]["executor"], bars[mixed_day["index"]]["host"]) == (
        "farm",
        None,
    )
    [failure] = data["jobs"]["failures"]
    assert (failure["executor"], failure["host"]) == ("farm", "vm4")
    done = {t["id"]: (t["executor"], t["host"]) for t in data["done"]}
    assert done[mixed_day["build"]] == (None, None)


def test_runs_of_different_executors_never_share_a_lane(
    store: SyncStore, mixed_day: dict[str, int]
) -> None:
    timeline = review_of(store).timeline
    # The local build ended before the pull began: one lane would have held both.
    named = [(name, [s.task_id for s in spans]) for name, spans in lanes(timeline)[1:]]
    assert named == [
        ("slot 1", [mixed_day["build"]]),
        ("farm 1", [mixed_day["pull"], mixed_day["index"]]),
        ("farm 2", [mixed_day["tests"]]),
    ]
    rows = text_timeline(timeline, 8 + 48)
    assert [r[:8] for r in rows[3:]] == ["slot 1  ", "farm 1  ", "farm 2  "]
    svg = timeline_svg(timeline)
    assert ">farm 2</text>" in svg
    assert "failed 09:25-09:50 on farm (vm4)</title>" in svg


def test_each_executor_has_lanes_of_its_own_this_machine_first() -> None:
    review = figures(constructed_day())
    # The same day with #10 and #12 run elsewhere: they leave this machine's lanes.
    where = {(10, 1): ("farm", "vm1"), (12, 1): ("a-very-long-executor-name", "gpu")}
    moved = figures(dataclasses.replace(constructed_day(), elsewhere=where))
    assert [[s.task_id for s in lane] for lane in review.timeline.slots] == [
        [13, 10, 14],
        [11, 11],
        [12],
    ]
    # What is left here fits one lane; each executor's runs come after, by its name.
    assert [[s.task_id for s in lane] for lane in moved.timeline.slots] == [
        [13, 11, 11, 14],
        [12],
        [10],
    ]
    names = [name for name, _ in lanes(moved.timeline)]
    assert names == ["focus", "slot 1", "a-very-lon… 1", "farm 1"]
    assert len(names[2]) == LANE_NAME_MAX
    # The label column widens for the long name only.
    assert label_width(review.timeline) == 8
    assert label_width(moved.timeline) == LANE_NAME_MAX + 1
    rows = text_timeline(moved.timeline, 14 + 68)
    assert rows[-2].startswith("a-very-lon… 1 ") and rows[-1].startswith("farm 1        ")


def test_a_local_day_reads_as_it_always_did() -> None:
    day = constructed_day()
    review = figures(day)
    rows = text_timeline(review.timeline, 8 + 68)
    assert [r[:8] for r in rows] == [
        "time    ",
        "blocks  ",
        "focus   ",
        "slot 1  ",
        "slot 2  ",
        "slot 3  ",
    ]
    assert '<text x="4" y="37">focus</text>' in timeline_svg(review.timeline)
    assert " on " not in "".join(
        line for line in to_text(review).splitlines() if line.lstrip().startswith("#")
    )
    data: Any = to_json(review)
    assert all(
        bar["executor"] is None and bar["host"] is None
        for lane in data["timeline"]["slots"]
        for bar in lane
    )


@pytest.mark.parametrize(
    ("executor", "number", "name"),
    [("farm", 1, "farm 1"), ("build-farm-x", 12, "build-far… 12")],
)
def test_a_lane_name_fits_its_column(executor: str, number: int, name: str) -> None:
    assert lane_name(executor, number) == name
    assert len(lane_name(executor, number)) <= LANE_NAME_MAX
