"""The main screen driven the way a person would: keys in, screen and database out."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from focusq.paths import Paths
from focusq.tui.app import FocusqApp
from focusq.tui.screens.help import HelpScreen
from focusq.tui.screens.log import LogScreen
from focusq.tui.screens.quickadd import QuickAddScreen
from focusq.tui.widgets.job_slots import JobSlotsPanel
from focusq.tui.widgets.task_table import TaskTable

SIZE = (120, 36)


def status_of(paths: Paths, task_id: int) -> str:
    with sqlite3.connect(paths.database) as con:
        return str(con.execute("SELECT status FROM tasks WHERE id = ?", (task_id,)).fetchone()[0])


def titles(app: FocusqApp) -> list[str]:
    table = app.screen.query_one(TaskTable)
    return [str(table.get_row_at(i)[4]) for i in range(table.row_count)]


WATCHERS = {"watch-database", "watch-themes", "follow-log"}


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait until every piece of work a key started has finished (the watchers never do)."""
    for _ in range(5):
        await pilot.pause()
        busy = [w for w in pilot.app.workers if w.group not in WATCHERS and w.is_running]
        if not busy:
            return
        for worker in busy:
            await worker.wait()


async def test_the_day_is_listed_in_the_order_it_will_be_taken(
    app: FocusqApp, busy_day: list[int]
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        listed = titles(app)
        assert listed[0].startswith("write the launch post")
        assert listed[-1].startswith("reply to Sam")  # pri:L comes last
        slots = str(app.screen.query_one(JobSlotsPanel).render())
        assert "#4 build site" in slots and "1m35s" in slots
        assert "fetched 9,100 rows" in slots  # \r progress collapsed to its last frame
        assert "deploy prod (gate: approve)" in slots
        assert "report (after #5)" in slots


async def test_quick_add_previews_errors_then_adds(app: FocusqApp, paths: Paths) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a")
        assert isinstance(app.screen, QuickAddScreen)
        await pilot.press(*"call Sam pri:X")
        preview = str(app.screen.query_one("#quickadd-preview").render())
        assert "'pri:X' is not a priority" in preview
        await pilot.press("enter")  # refused: the error stays on screen
        assert isinstance(app.screen, QuickAddScreen)
        await pilot.press("backspace", "H", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, QuickAddScreen)
        assert titles(app) == ["call Sam"]
        assert status_of(paths, 1) == "queued"


async def test_done_drop_and_hold(
    app: FocusqApp, paths: Paths, seed: Callable[..., list[int]]
) -> None:
    first, second, job = seed("first pri:H", "second", ("job", ["true"]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert status_of(paths, first) == "done"
        await pilot.press("x")
        await settle(pilot)
        assert status_of(paths, second) == "dropped"
        await pilot.press("h")
        await settle(pilot)
        assert status_of(paths, job) == "held"
        await pilot.press("h")
        await settle(pilot)
        assert status_of(paths, job) == "queued"


async def test_cancelling_a_running_job_asks_first(
    app: FocusqApp, paths: Paths, busy_day: list[int]
) -> None:
    build = busy_day[3]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TaskTable)
        table.move_cursor(row=table.get_row_index(str(build)))
        await pilot.press("c")
        await pilot.press("n")
        await settle(pilot)
        assert status_of(paths, build) == "running"
        await pilot.press("c", "y")
        await settle(pilot)
        with sqlite3.connect(paths.database) as con:
            intent = con.execute("SELECT intent FROM tasks WHERE id = ?", (build,)).fetchone()[0]
        assert intent == "cancel"  # the worker acts on it


async def test_help_log_filter_and_views(app: FocusqApp, busy_day: list[int]) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("slash", *"blog")
        await settle(pilot)
        assert titles(app) == ["write the launch post +blog project:site"]
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("v")  # creative only
        await settle(pilot)
        assert len(titles(app)) == 3
        await pilot.press("v")  # mechanical only
        await settle(pilot)
        assert titles(app)[0] in {"build site", "run tests", "pull crm data"}
        await pilot.press("l")
        await settle(pilot)
        assert isinstance(app.screen, LogScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, LogScreen)
