"""The frame around the day: help, the command palette, the header, the footer, colours, words.

Pilot tests press the keys a user would and read the screen as the terminal gets it;
the snapshots picture help at 80x24 and the header and footer while focusing, at 80 and
120 columns, in every shipped theme.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.style import Style
from textual.color import Color

from focusq.config import load_settings
from focusq.paths import Paths
from focusq.store.ops import focus, inbox, listing
from focusq.store.sync import SyncStore
from focusq.tui.app import FocusqApp, make_app
from focusq.tui.screens.help import HelpScreen
from focusq.tui.widgets.task_table import TaskTable
from tests.engine_helpers import record_run
from tests.test_theme_contrast import contrast
from tests.tui.conftest import NOW, opened, settle
from tests.tui.test_hostile_text import screen_text
from tests.tui.test_snapshots import THEMES, expect_screen, loaded, press, then, use_theme

SnapCompare = Callable[..., bool]

SMALL = (80, 24)
WIDE = (120, 32)

BLOCKS = """
[[blocks]]
days = "mon-sun"
start = "14:00"
end = "18:00"
mode = "async"
label = "deep work"

[[blocks]]
days = "mon-sun"
start = "18:00"
end = "19:00"
mode = "sync"
label = "wrap up"
"""
"""An async block with a label around NOW (17:30), a sync one after it."""

TITLE = "merge [/wip] [b]x[/b] into the launch post draft"


@pytest.fixture
def focusing(
    paths: Paths, seed: Callable[..., list[int]], start_job: Callable[..., None]
) -> FocusqApp:
    """Focus on a long markup-like title in a labelled async block, with running, queued
    and waiting jobs, a failed one and interruptions kept for later."""
    paths.ensure_home()
    os.makedirs(os.path.dirname(paths.config_file), exist_ok=True)
    Path(paths.config_file).write_text(BLOCKS)
    ids = seed(
        f"{TITLE} +blog pri:H",
        "review the Q4 plan",
        ("build site", ["make", "-C", "site"]),
        ("run tests", ["pytest", "-x"]),
        ("deploy gate:approve", ["./deploy"]),
        ("report after:3", ["make", "report"]),
        ("lint", ["ruff", "check"]),
        ("pull crm", ["./pull"]),
    )
    start_job(ids[2], NOW - 95)
    start_job(ids[3], NOW - 12)
    with SyncStore(paths.database) as store:
        record_run(store, ids[7], NOW - 900, NOW - 800, ok=False, logs=paths.logs)
        store.run(focus.start_focus(ids[0], NOW - 754, 50, switch=False))
        store.run(inbox.capture("Sam asked about the invoice", NOW - 300))
        store.run(inbox.capture("lunch order", NOW - 200))
    # With the failure and the gate: four interruptions kept for later.
    return make_app(load_settings(paths), paths, clock=lambda: NOW)


def lines(app: FocusqApp) -> list[str]:
    return screen_text(app).splitlines()


async def open_help(pilot) -> HelpScreen:  # type: ignore[no-untyped-def]
    await loaded(pilot)
    return await opened(pilot, "question_mark", HelpScreen)


class TestHelp:
    async def test_every_binding_can_be_reached_at_80x24(
        self, app: FocusqApp, busy_day: list[int]
    ) -> None:
        async with app.run_test(size=SMALL) as pilot:
            help_screen = await open_help(pilot)
            rows = help_screen.rows
            assert len(rows) >= 26
            seen: set[tuple[str, str, str, str]] = set()
            for _ in range(len(rows)):  # a page a press; never more presses than rows
                shown = lines(app)
                for row in rows:
                    keys, action, _, binding_id = row
                    # A row is reached when its key, its name and its whole id share a line.
                    if any(keys in ln and action in ln and binding_id in ln for ln in shown):
                        seen.add(row)
                if len(seen) == len(rows):
                    break
                await pilot.press("pagedown")
                await settle(pilot)
            missing = [row[3] or row[0] for row in rows if row not in seen]
            assert not missing, f"never on screen at 80x24: {missing}"

    async def test_typing_narrows_the_rows(self, app: FocusqApp, busy_day: list[int]) -> None:
        async with app.run_test(size=SMALL) as pilot:
            await open_help(pilot)
            text = screen_text(app)
            assert "Quick-add a task" in text
            await pilot.press(*"focus.")
            await settle(pilot)
            text = screen_text(app)
            assert "Quick-add a task" not in text
            for binding_id in ("focus.start", "focus.stop", "focus.capture", "focus.inbox"):
                assert binding_id in text
            assert "task.done" not in text
            await pilot.press(*"zzz")
            await settle(pilot)
            assert "No key matches the filter." in screen_text(app)
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)


class TestPalette:
    async def test_focus_actions_are_found_with_their_keys(
        self, app: FocusqApp, paths: Paths, busy_day: list[int]
    ) -> None:
        async with app.run_test(size=WIDE) as pilot:
            await loaded(pilot)
            await pilot.press("ctrl+p", *"foc")
            await pilot.pause(0.4)
            await settle(pilot)
            text = screen_text(app)
            for entry in ("Focus on task  f", "End focus  F", "Focus view  z"):
                assert entry in text, f"{entry!r} not in the palette:\n{text}"
            await pilot.press(*"us on", "enter")
            await settle(pilot)
            with SyncStore(paths.database) as store:
                current = store.run(focus.current_focus())
            assert current is not None and current["task_id"] == busy_day[0]

    async def test_every_action_is_offered(self, app: FocusqApp, busy_day: list[int]) -> None:
        from focusq.tui.commands import commands

        async with app.run_test(size=WIDE) as pilot:
            await loaded(pilot)
            offered = {c.binding_id for c in commands(app, app.screen)}
            bound = {
                b.id
                for b in (*app.screen.BINDINGS, *app.BINDINGS)
                if not isinstance(b, tuple) and b.id not in ("list.down", "list.up")
            }
            assert bound <= offered
            assert {"focus.start", "focus.stop", "focus.capture", "focus.view"} <= offered


COUNTS = re.compile(r"\d+ run(ning)? · \d+ queued · \d+ wait(ing)?")


class TestHeaderAndFooter:
    @pytest.mark.parametrize("size", [SMALL, WIDE], ids=["80", "120"])
    async def test_the_counts_stay_while_focusing(
        self, focusing: FocusqApp, size: tuple[int, int]
    ) -> None:
        async with focusing.run_test(size=size) as pilot:
            await loaded(pilot)
            header, footer = lines(focusing)[0], lines(focusing)[-1]
            assert COUNTS.search(header), header
            assert "● #1" in header
            assert re.search(r"4 in the inbox|inbox 4", header), header
            assert "held" not in header  # held is a task's state, not an interruption's
            assert "q Quit" in footer and "? Help" in footer, footer

    async def test_a_wide_header_shows_everything(self, focusing: FocusqApp) -> None:
        async with focusing.run_test(size=(220, 32)) as pilot:
            await loaded(pilot)
            header = lines(focusing)[0]
            for part in ("focusq", "Tue 24 Nov 17:30", "async deep work → sync 18:00"):
                assert part in header
            assert "merge [/wip] [b]x[/b]" in header  # as written, never read as markup
            assert "2 running · 1 queued · 2 waiting  │  4 in the inbox" in header


class TestColoursAndWords:
    async def test_failed_is_drawn_in_the_themes_error_colour(self, focusing: FocusqApp) -> None:
        async with focusing.run_test(size=WIDE) as pilot:
            await loaded(pilot)
            for theme in THEMES:
                focusing.theme = theme
                await settle(pilot)
                table = focusing.screen.query_one(TaskTable)
                cell = table.get_cell("8", "status")
                assert cell.plain == "failed"
                style = cell.spans[0].style if cell.spans else cell.style
                colour = Style.parse(style).color if isinstance(style, str) else style.color
                wanted = Color.parse(focusing.theme_variables["text-error"])
                assert colour is not None and colour.triplet == wanted.rich_color.triplet, theme
                surface = Color.parse(focusing.theme_variables["surface"])
                assert contrast(wanted, surface) >= 4.5, theme

    async def test_creative_tasks_are_yours_in_the_list_and_in_ls(
        self, app: FocusqApp, paths: Paths, seed: Callable[..., list[int]]
    ) -> None:
        seed("write the post", ("build", ["make"]))
        async with app.run_test(size=WIDE) as pilot:
            await loaded(pilot)
            table = app.screen.query_one(TaskTable)
            assert [table.get_cell(k, "kind").plain for k in ("1", "2")] == ["you", "job"]
        with SyncStore(paths.database) as store:
            table = store.run(listing.task_table())
        assert [line.split()[1] for line in table.splitlines()[1:]] == ["you", "job"]
        assert "make" not in table.replace("build", "")


class TestSnapshots:
    """Help at 80x24; the header and footer while focusing, at 80 and 120, in every theme."""

    def test_help_80x24(
        self, snap_compare: SnapCompare, app: FocusqApp, busy_day: list[int]
    ) -> None:
        steps = then(press("question_mark"), expect_screen(HelpScreen))
        assert snap_compare(app, terminal_size=SMALL, run_before=steps)

    def test_help_filtered_80x24(
        self, snap_compare: SnapCompare, app: FocusqApp, busy_day: list[int]
    ) -> None:
        steps = then(press("question_mark"), expect_screen(HelpScreen), press(*"foc"))
        assert snap_compare(app, terminal_size=SMALL, run_before=steps)

    @pytest.mark.parametrize("theme", THEMES)
    @pytest.mark.parametrize("size", [SMALL, WIDE], ids=["80", "120"])
    def test_focusing(
        self,
        snap_compare: SnapCompare,
        focusing: FocusqApp,
        size: tuple[int, int],
        theme: str,
    ) -> None:
        assert snap_compare(focusing, terminal_size=size, run_before=then(use_theme(theme)))
