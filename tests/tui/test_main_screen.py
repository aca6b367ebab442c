"""The main screen driven the way a person would: keys in, screen and database out."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from focusq.paths import Paths
from focusq.tui.app import FocusqApp
from focusq.tui.screens.help import HelpScreen
from focusq.tui.screens.log import LogScreen
from focusq.tui.screens.quickadd import QuickAddScreen
from focusq.tui.widgets.job_slots import JobSlotsPanel
from focusq.tui.widgets.task_table import TaskTable
from tests.tui.conftest import NOW, settle

SIZE = (120, 36)


def status_of(paths: Paths, task_id: int) -> str:
    with sqlite3.connect(paths.database) as con:
        return str(con.execute("SELECT status FROM tasks WHERE id = ?", (task_id,)).fetchone()[0])


def titles(app: FocusqApp) -> list[str]:
    table = app.screen.query_one(TaskTable)
    return [str(table.get_row_at(i)[4]) for i in range(table.row_count)]


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
        await pilot.press("x", "y")  # x asks first, like c
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


async def test_retry_pause_approve_and_edit(
    app: FocusqApp, paths: Paths, seed: Callable[..., list[int]], start_job: Callable[..., None]
) -> None:
    failed, running, gated, creative = seed(
        ("flaky pri:H", ["false"]),
        ("long", ["sleep", "60"]),
        ("deploy gate:approve pri:L", ["./deploy"]),
        "write notes pri:L",
    )
    with sqlite3.connect(paths.database) as con:
        con.execute(
            "UPDATE tasks SET status = 'failed', result = 'failed', ended_at = ? WHERE id = ?",
            (NOW - 60, failed),
        )
    start_job(running, 0.0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("v", "v", "v", "v")  # back to all, after a full cycle
        await settle(pilot)
        table = app.screen.query_one(TaskTable)

        async def select(task_id: int) -> None:
            table.move_cursor(row=table.get_row_index(str(task_id)))
            await pilot.pause()

        await select(running)
        await pilot.press("p")
        await settle(pilot)
        with sqlite3.connect(paths.database) as con:
            assert con.execute("SELECT intent FROM tasks WHERE id = ?", (running,)).fetchone() == (
                "pause",
            )
        await select(gated)
        await pilot.press("A")
        await settle(pilot)
        assert status_of(paths, gated) == "queued"
        await select(creative)
        await pilot.press("e", *"+later pri:H", "enter")
        await settle(pilot)
        with sqlite3.connect(paths.database) as con:
            row = con.execute("SELECT tags, priority FROM tasks WHERE id = ?", (creative,))
            assert row.fetchone() == ('["later"]', "H")
        await select(failed)  # failed today: listed so it can be retried
        await pilot.press("r")
        await settle(pilot)
        assert status_of(paths, failed) == "queued"


async def test_enter_widens_the_details(app: FocusqApp, busy_day: list[int]) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        assert app.screen.has_class("-expanded")
        detail = str(app.screen.query_one("#detail").render())
        assert "write the launch post" in detail and "1h30m" in detail
        await pilot.press("escape")
        assert not app.screen.has_class("-expanded")


async def test_theme_cycles_and_is_remembered(app: FocusqApp, paths: Paths) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == "focusq-dark"
        await pilot.press("T")
        chosen = app.theme
        assert chosen != "focusq-dark" and chosen.startswith("focusq-")
    from focusq.config import load_settings
    from focusq.tui.app import make_app

    again = make_app(load_settings(paths), paths)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert again.theme == chosen


async def test_a_user_theme_loads_and_reloads_when_saved(app: FocusqApp, paths: Paths) -> None:
    from pathlib import Path

    themes = Path(paths.config_dir) / "themes"
    themes.mkdir(parents=True)
    (themes / "mine.toml").write_text('name = "mine"\nprimary = "#112233"\n')
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "mine" in app.available_themes
        app.theme = "mine"
        (themes / "mine.toml").write_text('name = "mine"\nprimary = "#445566"\n')
        for _ in range(200):
            await pilot.pause(0.02)
            if app.get_theme("mine") and app.get_theme("mine").primary == "#445566":  # type: ignore[union-attr]
                break
        assert app.get_theme("mine").primary == "#445566"  # type: ignore[union-attr]


async def test_keymap_remaps_a_binding(paths: Paths, seed: Callable[..., list[int]]) -> None:
    from pathlib import Path

    from focusq.config import load_settings
    from focusq.tui.app import make_app

    Path(paths.home).mkdir(mode=0o700, exist_ok=True)
    Path(paths.config_file).write_text('[keymap]\n"task.done" = "ctrl+d"\n')
    [task_id] = seed("write")
    app = make_app(load_settings(paths), paths, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert status_of(paths, task_id) == "queued"
        await pilot.press("ctrl+d")
        await settle(pilot)
        assert status_of(paths, task_id) == "done"


async def test_the_palette_runs_actions(
    app: FocusqApp, paths: Paths, seed: Callable[..., list[int]]
) -> None:
    [task_id] = seed("write")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"mark done")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert status_of(paths, task_id) == "done"


async def test_a_row_added_from_a_shell_appears(app: FocusqApp, paths: Paths) -> None:
    import asyncio
    import os
    import sys

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "focusq", "add", "from another shell", env=dict(os.environ)
        )
        assert await proc.wait() == 0
        for _ in range(250):
            await pilot.pause(0.02)
            if titles(app) == ["from another shell"]:
                break
        assert titles(app) == ["from another shell"]


async def test_focus_switch_and_capture(
    app: FocusqApp, paths: Paths, seed: Callable[..., list[int]]
) -> None:
    from focusq.tui.screens.capture import CaptureScreen
    from focusq.tui.screens.confirm import ConfirmScreen
    from focusq.tui.widgets.status_bar import StatusBar

    first, second = seed("write the post pri:H", "review the plan")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        from focusq.tui.screens.focus import FocusScreen

        assert isinstance(app.screen, FocusScreen)  # focusing opens the focus view
        await pilot.press("escape")
        assert "● #1 write the post 0s/50m" in str(app.screen.query_one(StatusBar).render())
        await pilot.press("j", "f")
        assert isinstance(app.screen, ConfirmScreen)  # another task is in focus: ask first
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("escape")  # out of the focus view
        with sqlite3.connect(paths.database) as con:
            rows = con.execute("SELECT task_id, outcome FROM focus_sessions ORDER BY id").fetchall()
        assert rows == [(first, "switched"), (second, None)]
        await pilot.press("i")
        assert isinstance(app.screen, CaptureScreen)
        await pilot.press(*"!prod is down", "enter")
        await settle(pilot)
        with sqlite3.connect(paths.database) as con:
            assert con.execute("SELECT text, urgent FROM interruptions").fetchall() == [
                ("prod is down", 1)
            ]
        from focusq.tui.screens.batch import BatchScreen

        assert isinstance(app.screen, BatchScreen)  # urgent: it breaks through the focus
        await pilot.press("escape")
        await pilot.press("i", *"Sam asked about the invoice", "enter")
        await settle(pilot)
        assert "1 in the inbox" in str(app.screen.query_one(StatusBar).render())
        await pilot.press("F")
        await settle(pilot)
        assert isinstance(app.screen, BatchScreen)  # focus ended: the held one goes out
        await pilot.press("escape")
        assert "no focus" in str(app.screen.query_one(StatusBar).render())


async def test_held_interruptions_arrive_as_one_batch(
    app: FocusqApp, paths: Paths, seed: Callable[..., list[int]]
) -> None:
    from focusq.store.ops import focus, inbox
    from focusq.store.sync import SyncStore
    from focusq.tui.screens.batch import BatchScreen

    [task_id] = seed("write the post")
    with SyncStore(paths.database) as store:
        store.run(focus.start_focus(task_id, NOW - 600, 50, switch=False))
        store.run(inbox.capture("Sam asked about the invoice", NOW - 300))
        store.run(inbox.capture("lunch order", NOW - 200))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not isinstance(app.screen, BatchScreen)  # focusing: held
        await pilot.press("F")  # the focus session ends: a boundary
        await settle(pilot)
        assert isinstance(app.screen, BatchScreen)
        table = app.screen.query_one("#batch-items")
        assert table.row_count == 2
        await pilot.press("down", "t")  # make a task of the second one
        await settle(pilot)
        assert isinstance(app.screen, BatchScreen)  # acted in place: the batch stays
        await pilot.press("escape")
        assert "lunch order" in titles(app)
    with sqlite3.connect(paths.database) as con:
        delivered = con.execute("SELECT count(*) FROM interruptions WHERE batch = 1").fetchone()
    assert delivered == (2,)


async def test_switch_prompt_when_the_focused_task_waits_on_a_job(
    app: FocusqApp, paths: Paths, seed: Callable[..., list[int]]
) -> None:
    from focusq.quickadd import TaskDraft
    from focusq.store.ops import focus, tasks
    from focusq.store.sync import SyncStore
    from focusq.tui.screens.confirm import ConfirmScreen

    writing, reading, build = seed("write the post pri:H", "read the RFC", ("build", ["make"]))
    with SyncStore(paths.database) as store:
        draft = TaskDraft()
        draft.afterany = [build]
        store.run(tasks.edit_task(writing, draft, NOW - 60))
        store.run(focus.start_focus(writing, NOW - 30, 50, switch=False))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert f"waits on #{build} build: switch to #{reading} read the RFC" in app.screen.question
        await pilot.press("y")
        await settle(pilot)
        with sqlite3.connect(paths.database) as con:
            open_focus = con.execute("SELECT task_id FROM focus_sessions WHERE ended_at IS NULL")
            assert open_focus.fetchone() == (reading,)
            con.execute("UPDATE tasks SET status = 'done', ended_at = ? WHERE id = ?", (NOW, build))
        app.screen.refresh_board()  # as the watcher would on that write
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert f"#{build} has ended: switch back to #{writing}?" == app.screen.question
        await pilot.press("y")
        await settle(pilot)
    with sqlite3.connect(paths.database) as con:
        answers = con.execute("SELECT payload FROM events WHERE kind = 'switch'").fetchall()
        focused = con.execute(
            "SELECT task_id FROM focus_sessions WHERE ended_at IS NULL"
        ).fetchone()
    assert len(answers) == 2 and all('"accepted": true' in a for (a,) in answers)
    assert focused == (writing,)


async def test_the_focus_view_asks_when_the_planned_time_is_up(
    app: FocusqApp, paths: Paths, seed: Callable[..., list[int]]
) -> None:
    from focusq.store.ops import focus, tasks
    from focusq.store.sync import SyncStore
    from focusq.tui.screens.focus import FocusScreen, PlannedTimeScreen

    [task_id] = seed("write the post")
    with SyncStore(paths.database) as store:
        store.run(focus.start_focus(task_id, NOW - 51 * 60, 50, switch=False))
        store.run(tasks.add_note(task_id, "open with the customer story", NOW - 60))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("z")
        assert isinstance(app.screen, FocusScreen)
        text = str(app.screen.query_one("#focus-text").render())
        assert "open with the customer story" in text and "51m of 50m" in text
        for _ in range(100):  # the focus view's one-second clock notices the time is up
            if isinstance(app.screen, PlannedTimeScreen):
                break
            await pilot.pause(0.05)
        assert isinstance(app.screen, PlannedTimeScreen)
        await pilot.press("e")
        await settle(pilot)
        with sqlite3.connect(paths.database) as con:
            planned = con.execute("SELECT planned_minutes FROM focus_sessions").fetchone()
        assert planned == (100,)
        await pilot.press("F")
        await settle(pilot)
    with sqlite3.connect(paths.database) as con:
        assert con.execute("SELECT outcome FROM focus_sessions").fetchone() == ("stopped",)


async def test_time_away_while_focusing_can_be_left_out(
    paths: Paths, seed: Callable[..., list[int]]
) -> None:
    from focusq.config import load_settings
    from focusq.store.ops import focus
    from focusq.store.sync import SyncStore
    from focusq.tui.app import make_app
    from focusq.tui.screens.confirm import ConfirmScreen

    [task_id] = seed("write the post")
    with SyncStore(paths.database) as store:
        store.run(focus.start_focus(task_id, NOW, 50, switch=False))
    config = Path(paths.config_file)
    old = config.read_text() if config.exists() else ""
    config.write_text(old + "\n[focus]\nask_idle = true\n")  # the question is opt-in
    clock = [NOW]
    app = make_app(load_settings(paths), paths, clock=lambda: clock[0])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        clock[0] += 20 * 60  # twenty minutes without a key
        await pilot.press("down")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "No key for 20m" in app.screen.question
        await pilot.press("n")
        await settle(pilot)
    with sqlite3.connect(paths.database) as con:
        assert con.execute("SELECT paused_seconds FROM focus_sessions").fetchone() == (1200.0,)


async def test_b_marks_a_task_waiting_on_a_job_and_batches_act(
    app: FocusqApp, paths: Paths, seed: Callable[..., list[int]]
) -> None:
    from focusq.quickadd import parse
    from focusq.store.ops import focus, inbox, tasks
    from focusq.store.sync import SyncStore
    from focusq.tui.screens.batch import BatchScreen
    from focusq.tui.screens.pick import PickScreen

    writing, build = seed("write the post pri:H", ("build", ["make"]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        assert isinstance(app.screen, PickScreen)
        await pilot.press("enter")  # the first job listed: build
        await settle(pilot)
    with SyncStore(paths.database) as store:
        assert store.run(tasks.get_task(writing))["afterany"] == [build]
        store.run(focus.start_focus(writing, NOW - 300, 50, switch=False))
        store.run(inbox.capture("ping", NOW - 200))
        gated = parse(["deploy gate:approve"], ["./deploy"], now=NOW)
        gated.cwd = "/srv"
        deploy = store.run(tasks.add_task(gated, NOW - 150))
        store.run(focus.stop_focus(NOW - 100, done=False))
    from focusq.config import load_settings
    from focusq.tui.app import make_app

    app = make_app(load_settings(paths), paths, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, BatchScreen)  # held through the focus: one batch
        table = app.screen.query_one("#batch-items")
        rows = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        gate_row = next(i for i, text in enumerate(rows) if "waits for your approval" in text)
        table.move_cursor(row=gate_row)
        await pilot.press("A")
        await settle(pilot)
        assert status_of(paths, deploy) == "queued"
        assert isinstance(app.screen, BatchScreen)  # acted in place: the batch stays
        await pilot.press("escape")
        assert not isinstance(app.screen, BatchScreen)


async def test_a_job_added_in_the_tui_runs_with_its_environment(
    app: FocusqApp, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FROM_THE_TUI", "yes [b]really[/b]")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("a", *"build -- env", "enter")
        await settle(pilot)
    with sqlite3.connect(paths.database) as con:
        (body,) = con.execute(
            "SELECT e.body FROM tasks t JOIN environments e ON e.id = t.environ_id"
        ).fetchone()
    assert json.loads(body)["FROM_THE_TUI"] == "yes [b]really[/b]"


async def test_the_board_says_why_a_job_waits_as_ls_does(
    app: FocusqApp, paths: Paths, seed: Callable[..., list[int]], start_job: Any
) -> None:
    from focusq.cli.output import waiting_reasons
    from focusq.settings import load as cached
    from focusq.store.sync import SyncStore
    from focusq.tui.board import load_board

    holder, second = seed(("deploy lock:prod", ["./deploy"]), ("deploy again lock:prod", ["./x"]))
    start_job(holder, NOW - 60, "going\n")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        board = await load_board(
            app.store, now=NOW, view="all", query="", slot_count=3, settings=app.settings
        )
    with SyncStore(paths.database) as store:
        said = waiting_reasons(store, cached(paths))
    assert [(w.task_id, w.why) for w in board.waiting] == [(second, f"lock prod held by #{holder}")]
    assert said == {second: f"lock prod held by #{holder}"}


async def test_the_board_says_which_executor_holds_a_job_back(
    paths: Paths, seed: Callable[..., list[int]], start_job: Any
) -> None:
    from focusq.cli.output import waiting_reasons
    from focusq.config import load_settings
    from focusq.engine.down import note_down
    from focusq.settings import load as cached
    from focusq.store.sync import SyncStore
    from focusq.tui.app import make_app
    from focusq.tui.board import load_board

    config = Path(paths.config_file)
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[executors.farm]\n[executors.near]\nmax_parallel = 1\n")
    remote, near_one, near_two = seed(
        ("pull on:farm", ["./pull"]), ("build on:near", ["./b"]), ("test on:near", ["./t"])
    )
    start_job(near_one, NOW - 60, "going\n")
    note_down(paths.home, "farm", "no Dask scheduler at tcp://farm:8786 [/x]")
    app = make_app(load_settings(paths), paths, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        board = await load_board(
            app.store, now=NOW, view="all", query="", slot_count=3, settings=app.settings
        )
    said = {remote: "farm not answering", near_two: "near full (1/1)"}
    assert {w.task_id: w.why for w in board.waiting} == said
    with SyncStore(paths.database) as store:
        assert waiting_reasons(store, cached(paths)) == said
