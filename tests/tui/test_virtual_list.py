"""The task list at 100,000 open tasks: a virtual list read a page at a time.

Each test copies one seeded database file (100,000 open tasks, two in three of priority
M and the rest L, every other one a job; a few finished today) into its own home, opens
the real app on it and drives it with the keys a person would press. What the list shows
is checked against the same database read with plain SQL.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from focusq.paths import Paths
from focusq.quickadd import parse
from focusq.states import TaskStatus
from focusq.store.ops import jobs, tasks
from focusq.store.sync import SyncStore
from focusq.tui.app import FocusqApp
from focusq.tui.messages import DatabaseChanged
from focusq.tui.screens.main import MainScreen
from focusq.tui.widgets.task_table import TaskTable
from tests.tui.conftest import NOW, settle

OPEN = 100_000
DONE_TODAY = 5
FAILED_TODAY = 3
SIZE = (120, 36)
ORDER = "ORDER BY prio_rank DESC, id"
OPEN_SQL = "status IN ('held', 'paused', 'queued', 'running', 'waiting')"


def seed_queue(database: str, count: int) -> None:
    """``count`` open tasks by direct SQL (a migrated file first), plus a few finished today."""
    with SyncStore(database):
        pass  # creates and migrates the file
    rows = []
    for n in range(1, count + DONE_TODAY + FAILED_TODAY + 1):
        job = n % 2 == 0
        status, ended = "queued", None
        if n > count + DONE_TODAY:
            job, status, ended = True, "failed", NOW - 120
        elif n > count:
            status, ended = "done", NOW - 60
        rows.append(
            (
                f"task {n:06d}" + (" convert" if job else " write"),
                "mechanical" if job else "creative",
                status,
                "L" if n % 3 == 0 else "M",
                json.dumps(["bulk"] if n % 10 == 0 else []),
                f"p{n % 7}" if n % 4 == 0 else None,
                json.dumps(["true"]) if job else None,
                "/srv" if job else None,
                NOW - 7200,
                NOW - 7200,
                ended,
            )
        )
    with sqlite3.connect(database) as con:
        con.executemany(
            "INSERT INTO tasks (title, kind, status, priority, tags, project, command, cwd, "
            "created_at, updated_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One seeded file for the module; each test gets a copy."""
    database = tmp_path_factory.mktemp("queue") / "focusq.db"
    seed_queue(str(database), OPEN)
    return database


@pytest.fixture
def big(seeded: Path, paths: Paths) -> Paths:
    paths.ensure_home()
    shutil.copyfile(seeded, paths.database)
    return paths


def ids_in_order(paths: Paths, where: str = OPEN_SQL, tail: str = "") -> list[int]:
    with sqlite3.connect(paths.database) as con:
        return [r[0] for r in con.execute(f"SELECT id FROM tasks WHERE {where} {ORDER} {tail}")]


def table_of(app: FocusqApp) -> TaskTable:
    return app.screen.query_one(TaskTable)


def on_screen(app: FocusqApp) -> list[int]:
    """The ids of the rows on screen, top to bottom, read from the cells drawn."""
    table = table_of(app)
    top = int(table.scroll_y)
    shown = table.scrollable_content_region.height - 1
    rows = range(top, min(top + shown, table.row_count))
    return [int(table.get_row_at(i)[0].plain) for i in rows]


async def loaded(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, MainScreen) and screen.board is not None


async def changed(pilot, write: Callable[[SyncStore], object], paths: Paths) -> None:  # type: ignore[no-untyped-def]
    """Write as another process would, tell the screen (as its file watcher does), settle."""
    with SyncStore(paths.database) as store:
        write(store)
    pilot.app.screen.post_message(DatabaseChanged())
    await settle(pilot)


async def test_the_first_screen_holds_a_few_pages_not_the_queue(app: FocusqApp, big: Paths) -> None:
    expected = ids_in_order(big)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        table = table_of(app)
        assert table.row_count == OPEN + FAILED_TODAY
        assert str(table.border_title) == f"all · {OPEN + FAILED_TODAY}"
        assert on_screen(app) == expected[: len(on_screen(app))]
        assert len(on_screen(app)) > 10
        assert table.selected_id == expected[0]
        assert not table.is_held(expected[5_000])  # far below: never read
        assert table.held_rows <= 500


async def test_sort_order_holds_through_the_list(app: FocusqApp, big: Paths) -> None:
    expected = ids_in_order(big)
    failed = ids_in_order(big, "status = 'failed'")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        table = table_of(app)
        await pilot.press("pagedown", "pagedown")
        await settle(pilot)
        shown = on_screen(app)
        top = int(table.scroll_y)
        assert shown == expected[top : top + len(shown)]
        assert table.selected_id == expected[table.cursor_row]
        await pilot.press("G")  # the last row: today's failed jobs come after the open tasks
        await settle(pilot)
        assert table.cursor_row == OPEN + FAILED_TODAY - 1
        assert on_screen(app)[-FAILED_TODAY:] == failed
        shown = on_screen(app)
        assert shown[:-FAILED_TODAY] == expected[-(len(shown) - FAILED_TODAY) :]
        await pilot.press("g")
        await settle(pilot)
        assert on_screen(app)[0] == expected[0] and table.cursor_row == 0


async def test_views_list_only_their_tasks(app: FocusqApp, big: Paths) -> None:
    creative = ids_in_order(big, f"{OPEN_SQL} AND kind = 'creative'")
    mechanical = ids_in_order(big, f"{OPEN_SQL} AND kind = 'mechanical'")
    failed = ids_in_order(big, "status = 'failed'")
    done = ids_in_order(big, "status = 'done'")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        table = table_of(app)
        await pilot.press("v")
        await settle(pilot)
        assert table.row_count == len(creative)
        assert on_screen(app) == creative[: len(on_screen(app))]
        assert {table.get_row_at(i)[1].plain for i in range(20)} == {"you"}
        await pilot.press("v")
        await settle(pilot)
        assert table.row_count == len(mechanical) + len(failed)
        assert on_screen(app) == mechanical[: len(on_screen(app))]
        await pilot.press("G")
        await settle(pilot)
        assert on_screen(app)[-len(failed) :] == failed
        await pilot.press("v")
        await settle(pilot)
        assert table.row_count == DONE_TODAY
        assert on_screen(app) == done
        assert str(table.border_title) == f"done · {DONE_TODAY}"


async def test_the_filter_is_read_by_sqlite_and_clears(app: FocusqApp, big: Paths) -> None:
    wanted = [i for i in ids_in_order(big) if 12_300 <= i <= 12_399]  # "task 012345 ..."
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        table = table_of(app)
        await pilot.press("slash", *"TASK 0123")
        await settle(pilot)
        assert table.row_count == len(wanted) == 100
        assert on_screen(app) == wanted[: len(on_screen(app))]
        await pilot.press("escape")
        await settle(pilot)
        assert table.row_count == OPEN + FAILED_TODAY
        await pilot.press("slash", *"+bulk p3")
        await settle(pilot)
        with sqlite3.connect(big.database) as con:
            count = con.execute(
                f"SELECT count(*) FROM tasks WHERE {OPEN_SQL} AND tags = '[\"bulk\"]' "
                "AND project = 'p3'"
            ).fetchone()[0]
        assert table.row_count == count > 0


@pytest.mark.parametrize("where", ["top", "middle", "bottom"])
async def test_a_task_added_elsewhere_shows_and_the_cursor_stays_on_its_task(
    app: FocusqApp, big: Paths, where: str
) -> None:
    priority = {"top": "H", "middle": "M", "bottom": "L"}[where]
    expected = ids_in_order(big)
    middle = expected[len(expected) // 2]  # an M task: H goes above it, M and L below
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        table = table_of(app)
        app.screen.select_task(middle)
        await settle(pilot)
        assert table.selected_id == middle
        before = table.cursor_row
        draft = parse([f"added at the {where} pri:{priority}"], None, now=NOW)

        def add(store: SyncStore) -> None:
            store.run(tasks.add_task(draft, NOW))

        await changed(pilot, add, big)
        assert table.row_count == OPEN + FAILED_TODAY + 1
        assert table.selected_id == middle
        assert table.cursor_row == before + (1 if where == "top" else 0)
        new = ids_in_order(big)
        row = new.index(max(new))
        assert await table.locate(max(new))
        await settle(pilot)
        assert table.cursor_row == row
        assert table.get_row_at(row)[4].plain == f"added at the {where}"
        assert {"top": row == 0, "middle": 0 < row < OPEN - 1, "bottom": row == OPEN}[where]


@pytest.mark.parametrize("where", ["top", "middle", "bottom"])
async def test_a_status_change_elsewhere_moves_rows_and_the_cursor_follows(
    app: FocusqApp, big: Paths, where: str
) -> None:
    expected = ids_in_order(big)
    middle = expected[len(expected) // 2]
    target = {
        "top": expected[0],
        "middle": expected[len(expected) // 2 + 10],
        "bottom": expected[-1],
    }[where]
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        table = table_of(app)
        app.screen.select_task(middle)
        await settle(pilot)
        before = table.cursor_row

        def hold(store: SyncStore) -> None:
            store.run(jobs.request(target, "hold", NOW))

        await changed(pilot, hold, big)  # still open: the row stays, its status changes
        assert table.row_count == OPEN + FAILED_TODAY
        assert table.selected_id == middle and table.cursor_row == before
        assert await table.locate(target)
        await settle(pilot)
        assert table.get_cell(str(target), "status").plain == "held"
        table.move_cursor(row=before)
        await settle(pilot)

        def finish(store: SyncStore) -> None:
            store.run(tasks.transition(target, ("held",), TaskStatus.DONE, NOW, reason="test"))

        await changed(pilot, finish, big)  # done: the row leaves the list
        assert table.row_count == OPEN + FAILED_TODAY - 1
        assert table.selected_id == middle
        assert table.cursor_row == before - (1 if where == "top" else 0)
        assert not await table.locate(target)


async def test_the_cursor_stays_put_when_its_own_task_leaves(app: FocusqApp, big: Paths) -> None:
    expected = ids_in_order(big)
    middle = expected[len(expected) // 2]
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        table = table_of(app)
        app.screen.select_task(middle)
        await settle(pilot)
        row = table.cursor_row
        await pilot.press("d")  # done, from the list's own key
        await settle(pilot)
        assert table.row_count == OPEN + FAILED_TODAY - 1
        assert table.cursor_row == row
        assert table.selected_id == expected[row + 1]
        with sqlite3.connect(big.database) as con:
            status = con.execute("SELECT status FROM tasks WHERE id = ?", (middle,)).fetchone()
        assert status == ("done",)


async def test_go_to_a_task_far_below(app: FocusqApp, big: Paths) -> None:
    expected = ids_in_order(big)
    far = expected[77_777]
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        table = table_of(app)
        await pilot.press("number_sign", *str(far), "enter")
        await settle(pilot)
        assert table.selected_id == far
        assert table.cursor_row == 77_777
        assert far in on_screen(app)
        await pilot.press("down")
        await settle(pilot)
        assert table.selected_id == expected[77_778]
