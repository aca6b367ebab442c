"""Batches and the inbox, driven by keys: release, delivery order, working through in place."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from focusq.config import load_settings
from focusq.paths import Paths
from focusq.tui.app import FocusqApp, make_app
from focusq.tui.screens.batch import BatchScreen
from focusq.tui.screens.inbox import InboxScreen
from tests.tui.conftest import NOW, draft, settle

SIZE = (120, 36)
HOSTILE = "see [/x] [b]y[/b]"

ASYNC_NOW = """
[[blocks]]
days = "daily"
start = "17:00"
end = "19:00"
mode = "async"
label = "deep work"
"""
"""An async block around the frozen NOW (17:30 UTC)."""


@pytest.fixture
def async_app(paths: Paths) -> FocusqApp:
    """The app in an async block, with the clock stopped at NOW."""
    paths.ensure_home()
    os.makedirs(os.path.dirname(paths.config_file), exist_ok=True)
    Path(paths.config_file).write_text(ASYNC_NOW)
    return make_app(load_settings(paths), paths, clock=lambda: NOW)


@pytest.fixture
def folded_day(paths: Paths) -> dict[str, int]:
    """A focus session that ended with 13 items held through it, 4 of them to decide.

    The deploy gate, lint's failure and two notes need a decision; build failed and then
    passed; six jobs finished ok; two tasks were quick-added during the session.
    """
    from focusq.store.ops import focus, inbox, jobs, tasks
    from focusq.store.sync import SyncStore
    from tests.engine_helpers import record_run

    t0 = NOW - 3000
    with SyncStore(paths.database) as store:
        ids = store.run(
            tasks.add_tasks(
                [
                    draft("write the post"),
                    draft("build", ["make"]),
                    draft("lint", ["ruff", "check"]),
                    draft("deploy gate:approve", ["./deploy"]),
                    *(draft(f"job {n}", ["true"]) for n in range(6)),
                ],
                t0,
            )
        )
        post, build, lint, deploy, *oks = ids
        store.run(focus.start_focus(post, t0, 50, switch=False))
        record_run(store, build, t0 + 60, t0 + 120, ok=False, logs=paths.logs)
        store.run(jobs.request(build, "retry", t0 + 200))
        record_run(store, build, t0 + 300, t0 + 420, ok=True, logs=paths.logs)
        record_run(store, lint, t0 + 60, t0 + 500, ok=False, logs=paths.logs)
        for n, job in enumerate(oks):
            record_run(store, job, t0 + 600 + n, t0 + 700 + n, ok=True, logs=paths.logs)
        store.run(tasks.add_task(draft("reply to Sam"), t0 + 750))  # quick-adds in focus
        store.run(tasks.add_task(draft("book the venue"), t0 + 760))
        store.run(inbox.capture(HOSTILE, t0 + 800))
        store.run(inbox.capture("Sam asked about the invoice", t0 + 900))
        store.run(focus.stop_focus(NOW - 60, done=False))
    return {"post": post, "build": build, "lint": lint, "deploy": deploy}


def status_of(paths: Paths, task_id: int) -> str:
    with sqlite3.connect(paths.database) as con:
        return str(con.execute("SELECT status FROM tasks WHERE id = ?", (task_id,)).fetchone()[0])


def rows(app: FocusqApp) -> list[str]:
    table = app.screen.query_one("#batch-items")
    return [" | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


def title(app: FocusqApp) -> str:
    return str(app.screen.query_one("#batch-title").render())


async def until(pilot, kind: type) -> None:  # type: ignore[no-untyped-def]
    for _ in range(100):
        await settle(pilot)
        if isinstance(pilot.app.screen, kind):
            return
    raise AssertionError(f"no {kind.__name__}; on {pilot.app.screen}")


async def test_ending_focus_in_an_async_block_releases_the_batch(
    async_app: FocusqApp, paths: Paths, seed: Callable[..., list[int]]
) -> None:
    from focusq.store.ops import focus, inbox
    from focusq.store.sync import SyncStore

    [task_id] = seed("write the post")
    with SyncStore(paths.database) as store:
        store.run(focus.start_focus(task_id, NOW - 600, 50, switch=False))
        store.run(inbox.capture("Sam asked about the invoice", NOW - 300))
        store.run(inbox.capture(HOSTILE, NOW - 200))
    async with async_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not isinstance(async_app.screen, BatchScreen)  # focusing: held
        await pilot.press("F")  # async time, but the session's end is a boundary
        await until(pilot, BatchScreen)
        assert "focus session ended" in title(async_app)
        assert any(HOSTILE in row for row in rows(async_app))  # shown as written
    with sqlite3.connect(paths.database) as con:
        held = con.execute("SELECT count(*) FROM interruptions WHERE delivered_at IS NULL")
        assert held.fetchone() == (0,)


async def test_a_batch_that_fails_to_show_stays_held(
    async_app: FocusqApp,
    paths: Paths,
    seed: Callable[..., list[int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from focusq.store.ops import focus, inbox
    from focusq.store.sync import SyncStore

    [task_id] = seed("write the post")
    with SyncStore(paths.database) as store:
        store.run(focus.start_focus(task_id, NOW - 600, 50, switch=False))
        store.run(inbox.capture("Sam asked about the invoice", NOW - 300))
        store.run(focus.stop_focus(NOW - 60, done=False))

    def broken(self: BatchScreen) -> None:
        raise RuntimeError("the batch screen could not be drawn")

    monkeypatch.setattr(BatchScreen, "compose", broken)
    with pytest.raises(RuntimeError, match="could not be drawn"):
        async with async_app.run_test(size=SIZE) as pilot:
            for _ in range(50):
                await pilot.pause()
    with sqlite3.connect(paths.database) as con:
        row = con.execute("SELECT delivered_at FROM interruptions").fetchone()
    assert row == (None,)  # not shown, so not delivered: it comes again


async def test_working_through_a_folded_batch_in_place(
    async_app: FocusqApp, paths: Paths, folded_day: dict[str, int]
) -> None:
    from textual.widgets import Footer

    async with async_app.run_test(size=SIZE) as pilot:
        await until(pilot, BatchScreen)
        shown = rows(async_app)
        assert len(shown) == 7  # 13 items: 4 to decide, one settled failure, two folds
        assert title(async_app).startswith("Interruptions: 4 to decide")
        assert shown[-2:] == ["16:51 |  | 6 jobs finished ok | ", "16:52 |  | 2 tasks added | "]
        settled = next(i for i, r in enumerate(shown) if "then ok at" in r)
        failed = next(i for i, r in enumerate(shown) if "lint: failed" in r)
        note = next(i for i, r in enumerate(shown) if HOSTILE in r)
        footer_keys = {k.description for k in async_app.screen.query(Footer).first().children}
        assert {"Retry", "Dismiss", "Done"} <= footer_keys
        table = async_app.screen.query_one("#batch-items")
        # The settled failure offers no retry: r does nothing to the job that succeeded.
        table.move_cursor(row=settled)
        await pilot.press("r")
        await settle(pilot)
        assert status_of(paths, folded_day["build"]) == "done"
        # j and k move; r on the failure that still stands retries it, in place.
        table.move_cursor(row=failed)
        await pilot.press("j", "k", "r")
        await settle(pilot)
        assert status_of(paths, folded_day["lint"]) == "queued"
        assert isinstance(async_app.screen, BatchScreen)
        assert rows(async_app)[failed].endswith("retried")
        assert title(async_app).startswith("Interruptions: 3 to decide · 1 done")
        await pilot.press("r")  # once is enough
        await settle(pilot)
        table.move_cursor(row=note)
        await pilot.press("x")
        await settle(pilot)
        assert rows(async_app)[note].endswith("dismissed")
        assert title(async_app).startswith("Interruptions: 2 to decide · 2 done")
        await pilot.press("escape")
        assert not isinstance(async_app.screen, BatchScreen)
    with sqlite3.connect(paths.database) as con:
        dismissed = con.execute("SELECT text FROM interruptions WHERE dismissed_at IS NOT NULL")
        assert dismissed.fetchall() == [(HOSTILE,)]
        tries = con.execute("SELECT count(*) FROM runs WHERE task_id = ?", (folded_day["build"],))
        assert tries.fetchone() == (2,)


async def test_the_inbox_opens_from_a_key_and_from_the_palette(
    async_app: FocusqApp, paths: Paths, folded_day: dict[str, int]
) -> None:
    from focusq.store.ops import inbox
    from focusq.store.sync import SyncStore

    async with async_app.run_test(size=SIZE) as pilot:
        await until(pilot, BatchScreen)
        await pilot.press("escape")
        with SyncStore(paths.database) as store:
            store.run(inbox.capture("call the bank back", NOW - 5))  # held: async time
        await settle(pilot)
        await pilot.press("I")
        await until(pilot, InboxScreen)
        shown = rows(async_app)
        bank = next(i for i, r in enumerate(shown) if "call the bank back" in r)
        assert shown[bank].endswith("| for later")
        assert all(r.endswith("| delivered") for i, r in enumerate(shown) if i != bank)
        assert "1 for later" in title(async_app)
        async_app.screen.query_one("#batch-items").move_cursor(row=bank)
        await pilot.press("x")  # dismiss the held one, from the inbox
        await settle(pilot)
        assert rows(async_app)[bank].endswith("| dismissed")
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(async_app.screen, InboxScreen)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Inbox")
        await settle(pilot)
        await pilot.press("enter")
        await until(pilot, InboxScreen)
        assert "0 for later" in title(async_app)
    with sqlite3.connect(paths.database) as con:
        row = con.execute("SELECT delivered_at, dismissed_at IS NOT NULL FROM interruptions "
                          "WHERE text = 'call the bank back'").fetchone()  # fmt: skip
    assert row == (None, 1)  # dismissed, never delivered: nothing lost, nothing shown twice


async def test_j_and_k_move_in_a_pick_list(
    app: FocusqApp, paths: Paths, seed: Callable[..., list[int]]
) -> None:
    from focusq.store.ops import tasks
    from focusq.store.sync import SyncStore
    from focusq.tui.screens.pick import PickScreen

    writing, _, lint = seed("write the post pri:H", ("build", ["make"]), ("lint", ["ruff"]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        assert isinstance(app.screen, PickScreen)
        await pilot.press("j", "j", "k", "j", "enter")  # the second job listed: lint
        await settle(pilot)
    with SyncStore(paths.database) as store:
        assert store.run(tasks.get_task(writing))["afterany"] == [lint]


# -- what they look like ------------------------------------------------------------------

SnapCompare = Callable[..., bool]


def _shows(kind: type, *keys: str) -> Callable[..., Awaitable[None]]:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await until(pilot, BatchScreen)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        await until(pilot, kind)
        pilot.app.clear_notifications()
        await pilot.pause()

    return run_before


class TestBatchScreens:
    """A folded batch, half worked through; today's inbox."""

    @pytest.mark.parametrize("size", [(80, 24), SIZE], ids=["80x24", "120x36"])
    def test_folded_batch(
        self,
        snap_compare: SnapCompare,
        async_app: FocusqApp,
        folded_day: dict[str, int],
        size: tuple[int, int],
    ) -> None:
        steps = _shows(BatchScreen, "j", "x")
        assert snap_compare(async_app, terminal_size=size, run_before=steps)

    def test_inbox(
        self, snap_compare: SnapCompare, async_app: FocusqApp, folded_day: dict[str, int]
    ) -> None:
        steps = _shows(InboxScreen, "escape", "I")
        assert snap_compare(async_app, terminal_size=SIZE, run_before=steps)


async def test_a_note_made_a_task_is_placed_as_quick_add_places_it(
    async_app: FocusqApp, paths: Paths, worktree: Path
) -> None:
    from focusq.store.ops import inbox
    from focusq.store.sync import SyncStore

    with SyncStore(paths.database) as store:
        store.run(inbox.capture("it's broken", NOW - 9))  # an apostrophe, as typed
        store.run(inbox.capture("rebuild -- make -v", NOW - 8))
    async with async_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("I")
        await until(pilot, InboxScreen)
        table = async_app.screen.query_one("#batch-items")
        shown = rows(async_app)
        for text in ("it's broken", "rebuild -- make -v"):
            table.move_cursor(row=next(i for i, r in enumerate(shown) if text in r))
            await pilot.press("t")
            await settle(pilot)
        assert isinstance(async_app.screen, InboxScreen)  # still open: nothing crashed
    with sqlite3.connect(paths.database) as con:
        made = con.execute("SELECT title, locks FROM tasks WHERE title = 'rebuild'").fetchall()
        broken = con.execute("SELECT kind FROM tasks WHERE title = ?", ("it's broken",)).fetchall()
    assert made == [("rebuild", json.dumps([f"worktree:{worktree}"]))]
    assert broken == [("creative",)]  # its apostrophe kept, as focusq add "it's broken" does


async def test_an_escape_in_an_item_is_shown_never_obeyed(
    async_app: FocusqApp, paths: Paths
) -> None:
    """An interruption's text goes on screen as written: an escape shows as ``␛`` (the
    terminal never gets it) and a line break as ``␊``, in the batch and in the inbox."""
    from focusq.store.ops import focus, inbox, tasks
    from focusq.store.sync import SyncStore

    hostile = "merge [/wip] [b]x[/b] \x1b[31mred\x1b[0m\nsecond"
    shown_as = "merge [/wip] [b]x[/b] ␛[31mred␛[0m␊second"
    with SyncStore(paths.database) as store:  # held through a focus session, then delivered
        post = store.run(tasks.add_task(draft("write the post"), NOW - 3000))
        store.run(focus.start_focus(post, NOW - 3000, 50, switch=False))
        store.run(inbox.capture(hostile, NOW - 2000))
        store.run(focus.stop_focus(NOW - 60, done=False))
    async with async_app.run_test(size=SIZE) as pilot:
        await until(pilot, BatchScreen)
        assert any(shown_as in row for row in rows(async_app)), rows(async_app)
        assert not any("\x1b" in row or "\n" in row for row in rows(async_app))
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("I")
        await until(pilot, InboxScreen)
        assert any(shown_as in row for row in rows(async_app)), rows(async_app)
        assert not any("\x1b" in row or "\n" in row for row in rows(async_app))
