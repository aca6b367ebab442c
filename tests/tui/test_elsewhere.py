"""Jobs on another executor in the TUI: a slot says where its job runs, the review screen
says where each failed or finished run ran and draws that executor's lanes apart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Static

from focusq.config import load_settings
from focusq.paths import Paths
from focusq.store.ops import tasks
from focusq.store.sync import SyncStore
from focusq.tui.app import FocusqApp, make_app
from focusq.tui.screens.review import ReviewScreen
from focusq.tui.widgets.job_slots import JobSlotsPanel
from focusq.tui.widgets.timeline import TimelineChart
from tests.engine_helpers import record_run, start_run
from tests.tui.conftest import NOW, draft, settle, today_at
from tests.tui.test_review_screen import shown

SMALL = (80, 24)
SIZE = (120, 50)


@pytest.fixture
def start_elsewhere(paths: Paths) -> Callable[..., None]:
    """Mark a queued job running on ``executor`` (at ``host``, once known) since ``started``."""

    def start(task_id: int, started: float, executor: str, host: str | None) -> None:
        with SyncStore(paths.database) as store:
            claim = start_run(
                store, task_id, started, executor=executor, host=host, logs=paths.logs
            )
        Path(paths.logs).mkdir(parents=True, exist_ok=True)
        Path(claim["log_path"]).write_text("# focusq: job\nfetched 120 rows\n")

    return start


def slot_lines(app: FocusqApp) -> list[str]:
    panel = app.screen.query_one(JobSlotsPanel)
    lines = str(panel.render()).splitlines()
    return [line for line in lines if line[:1].isdigit() and "#" in line]  # busy slots


@pytest.mark.parametrize("size", [SMALL, SIZE])
async def test_a_slot_says_on_which_executor_and_host_its_job_runs(
    app: FocusqApp,
    seed: Callable[..., list[int]],
    start_job: Any,
    start_elsewhere: Callable[..., None],
    size: tuple[int, int],
) -> None:
    local, remote = seed(("build site", ["make"]), ("pull crm data", ["./pull"]))
    start_job(local, NOW - 95, "compiling\n")
    start_elsewhere(remote, NOW - 95, "farm", "vm3")
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        board = app.screen.query_one(JobSlotsPanel).board
        assert board is not None
        assert [(s.task_id, s.executor, s.host) for s in board.slots] == [
            (local, None, None),
            (remote, "farm", "vm3"),
        ]
        here, there = slot_lines(app)
        assert "@" not in here
        assert f"#{remote} pull crm data @farm vm3 " in there
        # The elapsed time stays in its column, and the line in the panel's width.
        assert here.index("1m35s") == there.index("1m35s")
        assert len(there) <= size[0]


async def test_a_long_title_gives_way_and_a_host_not_yet_known_is_left_out(
    app: FocusqApp, seed: Callable[..., list[int]], start_elsewhere: Callable[..., None]
) -> None:
    long, fresh = seed(
        ("pull every table of the customer relationship database", ["./pull"]),
        ("index", ["./index"]),
    )
    start_elsewhere(long, NOW - 60, "a-very-long-executor-name", "vm3.example.internal")
    start_elsewhere(fresh, NOW - 5, "farm", None)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        first, second = slot_lines(app)
        assert "…" in first.split("@")[0]  # the title was cut, not where it runs
        assert "@a-very-lo… vm3.example.i…" in first
        assert f"#{fresh} index @farm " in second and "None" not in second


async def test_a_host_name_is_shown_as_written(
    app: FocusqApp, seed: Callable[..., list[int]], start_elsewhere: Callable[..., None]
) -> None:
    [job] = seed(("pull", ["./pull"]))
    start_elsewhere(job, NOW - 60, "farm", "[b]vm[/b]\x1b")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        [line] = slot_lines(app)
        assert "@farm [b]vm[/b]␛" in line


@pytest.fixture
def remote_day(paths: Paths) -> dict[str, int]:
    """A day with a local build, a pull on ``farm`` at vm3 and tests that failed there at vm4."""
    t = today_at
    with SyncStore(paths.database) as store:
        build, pull, tests = store.run(
            tasks.add_tasks(
                [
                    draft("build site", ["make", "build"]),
                    draft("pull crm data", ["./pull", "crm"]),
                    draft("run tests", ["pytest", "-x"]),
                ],
                t(8),
            )
        )
        record_run(store, build, t(9), t(9, 20), ok=True, logs=paths.logs)
        record_run(
            store, pull, t(9, 30), t(9, 40), ok=True, executor="farm", host="vm3", logs=paths.logs
        )
        record_run(
            store,
            tests,
            t(9, 35),
            t(9, 45),
            ok=False,
            executor="farm",
            host="vm4",
            tail="FAILED test_login\n",
            logs=paths.logs,
        )
    return {"build": build, "pull": pull, "tests": tests}


async def test_the_review_screen_says_where_runs_ran_and_lanes_each_executor(
    remote_day: dict[str, int], paths: Paths
) -> None:
    app = make_app(load_settings(paths), paths, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        failures = screen.query_one("#review-failures", DataTable)
        assert [str(c.label) for c in failures.columns.values()][-1] == "ran on"
        cells = [str(c) for c in failures.get_row_at(0)]
        assert cells[0] == str(remote_day["tests"]) and cells[-1] == "farm (vm4)"
        done = shown(screen.query_one("#review-done", Static))
        assert "pull crm data  10m run on farm (vm3)" in done
        assert "build site  20m run\n" in done
        chart = screen.query_one(TimelineChart)
        rows = str(chart.render()).splitlines()
        assert [r[:8] for r in rows[3:]] == ["slot 1  ", "farm 1  ", "farm 2  "]


async def test_a_local_day_keeps_the_failures_columns(
    review_app: FocusqApp, reviewed_day: dict[str, int]
) -> None:
    async with review_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        failures = review_app.screen.query_one("#review-failures", DataTable)
        labels = [str(c.label) for c in failures.columns.values()]
        assert labels == ["#", "task", "attempt", "result", "at", "now"]
        rows = str(review_app.screen.query_one(TimelineChart).render()).splitlines()
        assert [r[:8] for r in rows[2:]] == ["focus   ", "slot 1  ", "slot 2  "]
