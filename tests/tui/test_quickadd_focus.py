"""Quick-add suggests an estimate from past work, and ctrl+f adds a task and focuses on it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from focusq.paths import Paths
from focusq.store.ops import focus, tasks
from focusq.store.sync import SyncStore
from focusq.tui.app import FocusqApp
from focusq.tui.screens.main import MainScreen
from focusq.tui.screens.quickadd import QuickAddScreen
from tests.tui.conftest import draft, opened, settle, today_at
from tests.tui.test_review_screen import shown

SIZE = (120, 40)


def finished_writing(paths: Paths) -> None:
    """A +writing task estimated at 30m that took 45m of focus today."""
    with SyncStore(paths.database) as store:
        task = store.run(tasks.add_task(draft("draft the post +writing est:30m"), today_at(8)))
        store.run(focus.start_focus(task, today_at(16), 50, switch=False))
        store.run(focus.stop_focus(today_at(16, 45), done=True))


async def quick_add(pilot) -> QuickAddScreen:  # type: ignore[no-untyped-def]
    """The quick-add screen, opened with ``a`` once the app has settled."""
    return await opened(pilot, "a", QuickAddScreen)


async def test_the_preview_suggests_an_estimate_and_ctrl_f_focuses(
    app: FocusqApp, paths: Paths
) -> None:
    finished_writing(paths)
    async with app.run_test(size=SIZE) as pilot:
        screen = await quick_add(pilot)
        screen.query_one(Input).value = "write the intro +writing est:20m"
        await settle(pilot)
        preview = shown(screen.query_one("#quickadd-preview", Static))
        assert "+writing takes 1.5x your estimates: est:30m is likelier" in preview
        screen.query_one(Input).value = "write the outro +writing"
        await settle(pilot)
        preview = shown(screen.query_one("#quickadd-preview", Static))
        assert "+writing took 45m a task: est:45m?" in preview
        screen.query_one(Input).value = "water the plants +garden est:10m"
        await settle(pilot)
        assert "likelier" not in shown(screen.query_one("#quickadd-preview", Static))

        screen.query_one(Input).value = "write the intro +writing est:20m"
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
    with sqlite3.connect(paths.database) as con:
        added = con.execute("SELECT id FROM tasks WHERE title = 'write the intro'").fetchall()
        open_focus = con.execute(
            "SELECT task_id FROM focus_sessions WHERE ended_at IS NULL"
        ).fetchall()
    assert len(added) == 1
    assert open_focus == [added[0]]


async def test_ctrl_f_refuses_a_job(app: FocusqApp, paths: Paths) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await quick_add(pilot)
        screen.query_one(Input).value = "build -- make"
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert app.screen is screen
        assert "a job does not take the focus slot" in shown(
            screen.query_one("#quickadd-preview", Static)
        )
    with sqlite3.connect(paths.database) as con:
        assert con.execute("SELECT count(*) FROM tasks").fetchone() == (0,)


async def test_quick_add_places_a_job_as_focusq_add_does(
    app: FocusqApp, paths: Paths, worktree: Path
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await quick_add(pilot)
        screen.query_one(Input).value = "remote on:nowhere -- true"
        await settle(pilot)
        preview = shown(screen.query_one("#quickadd-preview", Static))
        assert "'on:nowhere' names no executor" in preview
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen  # refused: nothing added
        screen.query_one(Input).value = "build -- make -v"
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
    with sqlite3.connect(paths.database) as con:
        rows = con.execute("SELECT title, locks FROM tasks").fetchall()
    assert rows == [("build", json.dumps([f"worktree:{worktree}"]))]


def test_an_apostrophe_in_a_title_is_taken_as_typed() -> None:
    from focusq.errors import UserError
    from focusq.tui.screens.quickadd import parse_line

    assert parse_line("don't forget Bob's milk +home").title == "don't forget Bob's milk"
    said = parse_line("say 'hi' -- printf '%s\\n' 'a b'")
    assert (said.title, said.command) == ("say 'hi'", ["printf", "%s\\n", "a b"])
    assert parse_line('b cron:"0 3 * * 1" pri:H -- ./x').recur == "cron:0 3 * * 1"
    with pytest.raises(UserError, match="unbalanced quotes"):
        parse_line("greet -- echo 'hi")  # a command runs as written: its quotes must close
