"""Keys of the day: first and last row, going to a task by id, a drop that asks, the idle
question only when asked for, a gap before a sync block, more time for a focus session,
and an inbox that stays current."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from focusq.config import load_settings
from focusq.paths import Paths
from focusq.store.ops import focus, inbox
from focusq.store.sync import SyncStore
from focusq.tui.app import FocusqApp, make_app
from focusq.tui.screens.batch import BatchScreen
from focusq.tui.screens.confirm import ConfirmScreen
from focusq.tui.screens.focus import ExtendScreen, FocusScreen
from focusq.tui.screens.inbox import InboxScreen
from focusq.tui.widgets.task_table import TaskTable
from tests.tui.conftest import NOW, settle

SIZE = (120, 36)


def status_of(paths: Paths, task_id: int) -> str:
    with sqlite3.connect(paths.database) as con:
        return str(con.execute("SELECT status FROM tasks WHERE id = ?", (task_id,)).fetchone()[0])


def selected(app: FocusqApp) -> int | None:
    return app.screen.query_one(TaskTable).selected_id


def configure(paths: Paths, text: str) -> None:
    paths.ensure_home()
    os.makedirs(os.path.dirname(paths.config_file), exist_ok=True)
    Path(paths.config_file).write_text(text)


async def test_g_and_shift_g_go_to_the_first_and_last_rows(
    app: FocusqApp, seed: Callable[..., list[int]]
) -> None:
    first, _, _, last = seed("one pri:H", "two", "three", "four pri:L")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("G")
        assert selected(app) == last
        await pilot.press("g")
        assert selected(app) == first


async def test_a_task_is_one_id_away(app: FocusqApp, seed: Callable[..., list[int]]) -> None:
    ids = seed(*(f"task {n}" for n in range(1, 13)))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("number_sign", "1", "1", "enter")
        await settle(pilot)
        assert selected(app) == ids[10]
        await pilot.press("colon", "3", "enter")
        await settle(pilot)
        assert selected(app) == ids[2]
        await pilot.press("colon", "9", "9", "enter")  # no such task: said, cursor stays
        await settle(pilot)
        assert selected(app) == ids[2]
        assert any("#99 is not in the all view" in n.message for n in app._notifications)


async def test_drop_asks_first(
    app: FocusqApp, paths: Paths, seed: Callable[..., list[int]]
) -> None:
    [task] = seed("write the post")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question == "Drop #1 write the post from the plan?"
        await pilot.press("n")
        await settle(pilot)
        assert status_of(paths, task) == "queued"
        await pilot.press("x", "y")
        await settle(pilot)
        assert status_of(paths, task) == "dropped"


@pytest.mark.parametrize("ask", [False, True], ids=["default", "ask_idle"])
async def test_the_idle_question_is_asked_only_when_wanted(
    paths: Paths, seed: Callable[..., list[int]], ask: bool
) -> None:
    if ask:
        configure(paths, "[focus]\nask_idle = true\n")
    [task_id] = seed("write the post")
    with SyncStore(paths.database) as store:
        store.run(focus.start_focus(task_id, NOW, 50, switch=False))
    clock = [NOW]
    app = make_app(load_settings(paths), paths, clock=lambda: clock[0])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        clock[0] += 20 * 60  # twenty minutes without a key here (writing in another pane)
        await pilot.press("down")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) is ask


SYNC_SOON = """
[[blocks]]
days = "daily"
start = "17:00"
end = "17:45"
mode = "async"

[[blocks]]
days = "daily"
start = "17:45"
end = "18:30"
mode = "sync"
label = "standup"
"""
"""A sync block 15 minutes after the frozen NOW (17:30 UTC)."""


async def test_a_gap_before_a_sync_block_offers_the_task_that_fits(
    paths: Paths, seed: Callable[..., list[int]]
) -> None:
    configure(paths, SYNC_SOON)
    post, reply, _ = seed("write the post pri:H est:90m", "reply to Sam est:10m", "tidy est:40m")
    app = make_app(load_settings(paths), paths, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert selected(app) == post
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question == (
            "only 15 min before the sync block at 17:45 (standup). "
            "#2 reply to Sam (10m) fits: focus on it instead of #1?"
        )
        await pilot.press("y")  # one key: the task that fits
        await settle(pilot)
        with sqlite3.connect(paths.database) as con:
            rows = con.execute("SELECT task_id FROM focus_sessions").fetchall()
        assert rows == [(reply,)]


async def test_a_gap_with_nothing_that_fits_keeps_the_choice(
    paths: Paths, seed: Callable[..., list[int]]
) -> None:
    configure(paths, SYNC_SOON)
    post, _ = seed("write the post pri:H est:90m", "tidy est:40m")
    app = make_app(load_settings(paths), paths, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FocusScreen)  # nothing to offer: a warning only
        assert any("only 15 min before" in n.message for n in app._notifications)
    with sqlite3.connect(paths.database) as con:
        assert con.execute("SELECT task_id FROM focus_sessions").fetchall() == [(post,)]


@pytest.mark.parametrize(("key", "planned"), [("1", 60), ("2", 75), ("3", 100)])
async def test_e_in_the_focus_view_offers_more_time(
    app: FocusqApp, paths: Paths, seed: Callable[..., list[int]], key: str, planned: int
) -> None:
    [task_id] = seed("write the post")
    with SyncStore(paths.database) as store:
        store.run(focus.start_focus(task_id, NOW - 600, 50, switch=False))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("z", "e")
        assert isinstance(app.screen, ExtendScreen)
        await pilot.press(key)
        await settle(pilot)
        assert isinstance(app.screen, FocusScreen)
    with sqlite3.connect(paths.database) as con:
        assert con.execute("SELECT planned_minutes FROM focus_sessions").fetchone() == (planned,)


ASYNC_NOW = """
[[blocks]]
days = "daily"
start = "17:00"
end = "19:00"
mode = "async"
"""


def inbox_rows(app: FocusqApp) -> list[str]:
    table = app.screen.query_one("#batch-items")
    return [" | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


async def test_the_inbox_follows_the_database_and_delivers_after_closing(
    paths: Paths, seed: Callable[..., list[int]]
) -> None:
    configure(paths, ASYNC_NOW)
    [task_id] = seed("write the post")
    with SyncStore(paths.database) as store:
        store.run(focus.start_focus(task_id, NOW - 600, 50, switch=False))
        store.run(inbox.capture("Sam asked about the invoice", NOW - 300))
    app = make_app(load_settings(paths), paths, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("I")
        await settle(pilot)
        assert isinstance(app.screen, InboxScreen)
        assert [r.endswith("| for later") for r in inbox_rows(app)] == [True]
        with SyncStore(paths.database) as store:  # from a shell, while the inbox is open
            store.run(inbox.capture("call the bank back", NOW - 5))
            store.run(focus.stop_focus(NOW - 1, done=False))
        for _ in range(500):
            await pilot.pause(0.02)
            if len(inbox_rows(app)) == 2:
                break
        assert any("call the bank back" in r for r in inbox_rows(app))
        assert "2 for later" in str(app.screen.query_one("#batch-title").render())
        assert isinstance(app.screen, InboxScreen)  # nothing delivered over it
        await pilot.press("escape")
        for _ in range(250):
            await settle(pilot)
            if isinstance(app.screen, BatchScreen):
                break
        assert isinstance(app.screen, BatchScreen)  # the focus ended: now they go out
        assert len(inbox_rows(app)) == 2
