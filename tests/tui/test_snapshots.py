"""What the screens look like: SVG snapshots taken with pytest-textual-snapshot.

Every snapshot waits until the board has loaded (``loaded``) so it never catches a
"loading…" frame. The clock is frozen by the ``app`` fixture and TZ is UTC, so the only
thing that could differ between runs is a temporary path: nothing shown here contains one.

Update after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and look at the new SVGs before committing them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from focusq.paths import Paths
from focusq.tui.app import FocusqApp
from focusq.tui.screens.help import HelpScreen
from focusq.tui.screens.log import LogScreen
from focusq.tui.screens.main import MainScreen
from focusq.tui.screens.quickadd import QuickAddScreen
from focusq.tui.widgets.task_table import TaskTable
from tests.tui.conftest import NOW, settle

SnapCompare = Callable[..., bool]
RunBefore = Callable[..., Awaitable[None]]

SMALL = (80, 24)
MEDIUM = (120, 36)
LARGE = (200, 50)

THEMES = sorted(p.stem for p in (Path(__file__).parents[2] / "themes").glob("*.toml"))
"""The shipped themes: focusq-contrast, focusq-dark, focusq-light, focusq-nord."""


async def loaded(pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait until the main screen shows its first board and the detail of the selected task."""
    for _ in range(100):
        await settle(pilot)
        screen = pilot.app.screen
        if isinstance(screen, MainScreen) and screen.board is not None:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the board never loaded")


def then(*steps: Callable[..., Awaitable[None]]) -> RunBefore:
    """A ``run_before``: wait for the board, then run ``steps`` in turn, settling after each."""

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await loaded(pilot)
        for step in steps:
            await step(pilot)
            await settle(pilot)
        await quiet(pilot)

    return run_before


async def quiet(pilot) -> None:  # type: ignore[no-untyped-def]
    """Clear toasts: they expire by the wall clock, so a slow run would picture fewer."""
    pilot.app.clear_notifications()
    await pilot.pause()


def press(*keys: str) -> Callable[..., Awaitable[None]]:
    """A step pressing ``keys``."""

    async def step(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.press(*keys)

    return step


def select(task_id: int) -> Callable[..., Awaitable[None]]:
    """A step putting the task list's cursor on ``task_id``."""

    async def step(pilot) -> None:  # type: ignore[no-untyped-def]
        table = pilot.app.screen.query_one(TaskTable)
        table.move_cursor(row=table.get_row_index(str(task_id)))

    return step


def use_theme(name: str) -> Callable[..., Awaitable[None]]:
    """A step switching to a theme directly (``T`` would also show a toast and remember it)."""

    async def step(pilot) -> None:  # type: ignore[no-untyped-def]
        pilot.app.theme = name
        await pilot.pause()

    return step


def expect_screen(kind: type) -> Callable[..., Awaitable[None]]:
    """A step failing early (with a clear message) when the wrong screen is on top."""

    async def step(pilot) -> None:  # type: ignore[no-untyped-def]
        assert isinstance(pilot.app.screen, kind), (
            f"expected {kind.__name__}, on {pilot.app.screen}"
        )

    return step


class TestMainScreen:
    """The day at a glance: status bar, job slots, task list, detail pane, footer."""

    @pytest.mark.parametrize("size", [SMALL, MEDIUM], ids=["80x24", "120x36"])
    def test_empty_queue(
        self, snap_compare: SnapCompare, app: FocusqApp, size: tuple[int, int]
    ) -> None:
        assert snap_compare(app, terminal_size=size, run_before=then())

    @pytest.mark.parametrize("size", [SMALL, MEDIUM, LARGE], ids=["80x24", "120x36", "200x50"])
    def test_busy_day(
        self,
        snap_compare: SnapCompare,
        app: FocusqApp,
        busy_day: list[int],
        size: tuple[int, int],
    ) -> None:
        # The first row (a creative task) is selected: its detail holds no temporary path.
        assert snap_compare(app, terminal_size=size, run_before=then())


class TestThemes:
    """The busy day in every shipped theme."""

    def test_every_shipped_theme_is_covered(self) -> None:
        assert THEMES == ["focusq-contrast", "focusq-dark", "focusq-light", "focusq-nord"]

    @pytest.mark.parametrize("theme", THEMES)
    def test_busy_day(
        self, snap_compare: SnapCompare, app: FocusqApp, busy_day: list[int], theme: str
    ) -> None:
        assert snap_compare(app, terminal_size=MEDIUM, run_before=then(use_theme(theme)))


class TestQuickAddScreen:
    """The quick-add modal, previewing what it parsed."""

    def test_parse_error(
        self, snap_compare: SnapCompare, app: FocusqApp, busy_day: list[int]
    ) -> None:
        steps = then(press("a"), expect_screen(QuickAddScreen), press(*"call Sam pri:X"))
        assert snap_compare(app, terminal_size=MEDIUM, run_before=steps)

    @pytest.mark.parametrize("size", [SMALL, MEDIUM], ids=["80x24", "120x36"])
    def test_preview_of_a_task(
        self, snap_compare: SnapCompare, app: FocusqApp, size: tuple[int, int]
    ) -> None:
        # No "-- command": a job's preview names the current folder, which depends on the checkout.
        steps = then(press("a"), press(*"post +blog pri:H est:90m after:1"))
        assert snap_compare(app, terminal_size=size, run_before=steps)


class TestHelpScreen:
    """Every key binding of the main screen and the app."""

    @pytest.mark.parametrize("size", [SMALL, MEDIUM], ids=["80x24", "120x36"])
    def test_help(
        self,
        snap_compare: SnapCompare,
        app: FocusqApp,
        busy_day: list[int],
        size: tuple[int, int],
    ) -> None:
        steps = then(press("question_mark"), expect_screen(HelpScreen))
        assert snap_compare(app, terminal_size=size, run_before=steps)


class TestLogScreen:
    """A running job's log (its title names the log file only, never the tmp home)."""

    @pytest.mark.parametrize("size", [SMALL, MEDIUM], ids=["80x24", "120x36"])
    def test_running_job(
        self,
        snap_compare: SnapCompare,
        app: FocusqApp,
        busy_day: list[int],
        size: tuple[int, int],
    ) -> None:
        build = busy_day[3]
        steps = then(select(build), press("l"), expect_screen(LogScreen))
        assert snap_compare(app, terminal_size=size, run_before=steps)


def _focus_on(paths: Paths, task_id: int, minutes_ago: float, *notes: str) -> None:
    from focusq.store.ops import focus, tasks
    from focusq.store.sync import SyncStore

    with SyncStore(paths.database) as store:
        for note in notes:
            store.run(tasks.add_note(task_id, note, NOW - 3000))
        store.run(focus.start_focus(task_id, NOW - minutes_ago * 60, 50, switch=False))


class TestFocusScreens:
    """The focus view, capture, a released batch and a switch prompt."""

    def test_focus_view(
        self, snap_compare: SnapCompare, app: FocusqApp, paths: Paths, busy_day: list[int]
    ) -> None:
        _focus_on(paths, busy_day[0], 12, "open with the customer story")
        assert snap_compare(app, terminal_size=MEDIUM, run_before=then(press("z")))

    def test_capture(self, snap_compare: SnapCompare, app: FocusqApp, busy_day: list[int]) -> None:
        steps = then(press("i"), press(*"Sam asked about the invoice"))
        assert snap_compare(app, terminal_size=MEDIUM, run_before=steps)

    def test_batch_released_when_focus_ends(
        self,
        snap_compare: SnapCompare,
        app: FocusqApp,
        paths: Paths,
        seed: Callable[..., list[int]],
    ) -> None:
        from focusq.store.ops import inbox
        from focusq.store.sync import SyncStore

        [task_id] = seed("write the post")
        _focus_on(paths, task_id, 40)
        with SyncStore(paths.database) as store:
            store.run(inbox.capture("Sam asked about the invoice", NOW - 900))
            store.run(inbox.capture("lunch order for the team", NOW - 600, urgent=False))
        from focusq.tui.screens.batch import BatchScreen

        async def released(pilot) -> None:  # type: ignore[no-untyped-def]
            await loaded(pilot)
            await pilot.press("F")
            for _ in range(200):
                await settle(pilot)
                if isinstance(pilot.app.screen, BatchScreen):
                    await quiet(pilot)
                    return
            raise AssertionError("no batch screen")

        assert snap_compare(app, terminal_size=MEDIUM, run_before=released)

    def test_switch_prompt(
        self,
        snap_compare: SnapCompare,
        app: FocusqApp,
        paths: Paths,
        seed: Callable[..., list[int]],
    ) -> None:
        from focusq.quickadd import TaskDraft
        from focusq.store.ops import tasks
        from focusq.store.sync import SyncStore

        writing, _, build = seed("write the post pri:H", "read the RFC", ("build", ["make"]))
        with SyncStore(paths.database) as store:
            draft = TaskDraft()
            draft.afterany = [build]
            store.run(tasks.edit_task(writing, draft, NOW - 60))
        _focus_on(paths, writing, 5)

        async def prompted(pilot) -> None:  # type: ignore[no-untyped-def]
            from focusq.tui.screens.confirm import ConfirmScreen

            for _ in range(200):
                await settle(pilot)
                if isinstance(pilot.app.screen, ConfirmScreen):
                    await quiet(pilot)
                    return
            raise AssertionError("no switch prompt")

        assert snap_compare(app, terminal_size=MEDIUM, run_before=prompted)


class TestReviewScreen:
    """The end-of-day review: a full day (figures, timeline, failure, work left), an empty one."""

    def test_full_day(self, snap_compare: SnapCompare, review_app: FocusqApp) -> None:
        from focusq.tui.screens.review import ReviewScreen

        steps = then(press("R"), expect_screen(ReviewScreen))
        assert snap_compare(review_app, terminal_size=(120, 50), run_before=steps)

    def test_full_day_answered_and_closed(
        self, snap_compare: SnapCompare, review_app: FocusqApp
    ) -> None:
        from focusq.tui.screens.review import ReviewScreen

        steps = then(
            press("R"),
            expect_screen(ReviewScreen),
            press("c"),
            press("b"),
            press("c"),
            press("x"),
            press("C"),
        )
        assert snap_compare(review_app, terminal_size=LARGE, run_before=steps)

    @pytest.mark.parametrize("size", [SMALL, MEDIUM], ids=["80x24", "120x36"])
    def test_empty_day(
        self, snap_compare: SnapCompare, app: FocusqApp, size: tuple[int, int]
    ) -> None:
        from focusq.tui.screens.review import ReviewScreen

        steps = then(press("R"), expect_screen(ReviewScreen))
        assert snap_compare(app, terminal_size=size, run_before=steps)
