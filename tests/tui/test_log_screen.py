"""Logs, live: the job slots follow the logs, the log screen opens at the end of any size,
searches the whole file, highlights what it found and says the run's state."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from focusq.paths import Paths
from focusq.tui.app import FocusqApp
from focusq.tui.screens.log import LogScreen
from focusq.tui.widgets.job_slots import JobSlotsPanel
from focusq.tui.widgets.log_view import LogSearch, LogView
from focusq.tui.widgets.task_table import TaskTable
from tests.tui.conftest import NOW, settle
from tests.tui.test_snapshots import SnapCompare, expect_screen, press, select, then

SIZE = (120, 36)


def log_of(paths: Paths, task_id: int) -> Path:
    return Path(paths.logs) / f"{task_id}-1.log"


def megabyte_log(needle_at: tuple[int, ...] = ()) -> tuple[str, int]:
    """About 1 MB of numbered lines (``needle`` on the lines in ``needle_at``); its line count."""
    lines = [
        f"line {n:06d} " + ("needle here " if n in needle_at else "") + "x" * 40
        for n in range(1, 21_001)
    ]
    return "\n".join(lines) + "\n", len(lines)


async def until(pilot, check: Callable[[], bool], what: str) -> None:  # type: ignore[no-untyped-def]
    """Let the watchers work (real files change) until ``check`` holds, for 10 s at most."""
    for _ in range(500):
        await pilot.pause(0.02)
        if check():
            return
    raise AssertionError(f"never: {what}")


async def open_log(pilot, task_id: int) -> LogView:  # type: ignore[no-untyped-def]
    await settle(pilot)
    table = pilot.app.screen.query_one(TaskTable)
    table.move_cursor(row=table.get_row_index(str(task_id)))
    await pilot.press("l")
    await settle(pilot)
    assert isinstance(pilot.app.screen, LogScreen)
    return pilot.app.screen.query_one(LogView)


def on_screen(view: LogView) -> list[str]:
    """The log lines in view."""
    top = int(view.scroll_y)
    return view.lines[top : top + view.scrollable_content_region.height]


def status(app: FocusqApp) -> str:
    return str(app.screen.query_one("#log-status").render())


def title(app: FocusqApp) -> str:
    return str(app.screen.query_one("#log-title").render())


# -- job slots -----------------------------------------------------------------------------


async def test_a_slot_follows_its_log_between_database_changes(
    app: FocusqApp, paths: Paths, busy_day: list[int]
) -> None:
    build = busy_day[3]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        panel = app.screen.query_one(JobSlotsPanel)
        assert "compiling pages 40/120" in str(panel.render())
        with log_of(paths, build).open("a") as log:
            log.write("tick 15\n")
        await until(pilot, lambda: "tick 15" in str(panel.render()), "tick 15 in the slot")
        with log_of(paths, build).open("a") as log:
            log.write("tick 16\ntick 22 [b]x[/b]\n")
        await until(pilot, lambda: "tick 22 [b]x[/b]" in str(panel.render()), "tick 22")


async def test_a_paused_job_shows_paused_and_its_clock_stops(
    app: FocusqApp, paths: Paths, busy_day: list[int]
) -> None:
    build = busy_day[3]  # running since NOW - 95
    with sqlite3.connect(paths.database) as con:
        con.execute(
            "UPDATE tasks SET status = 'paused', updated_at = ? WHERE id = ?", (NOW - 60, build)
        )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        line = str(app.screen.query_one(JobSlotsPanel).render()).splitlines()[0]
        assert "#4 build site" in line
        assert " 35s " in line and "1m35s" not in line  # paused 35 s after it started
        assert line.rstrip().endswith("paused")  # on the slot's own row, even at 80 columns


# -- the log screen ------------------------------------------------------------------------


async def test_a_megabyte_log_opens_at_its_end(
    app: FocusqApp, paths: Paths, busy_day: list[int]
) -> None:
    build = busy_day[3]
    text, count = megabyte_log()
    log_of(paths, build).write_text(text)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_log(pilot, build)
        shown = on_screen(view)
        assert shown[-1].startswith(f"line {count:06d}")
        assert view.scroll_y == view.max_scroll_y
        assert "the last 256 KiB of 1.1 MiB; / searches it all" in status(app)


async def test_search_reads_the_whole_file_and_says_file_lines(
    app: FocusqApp, paths: Paths, busy_day: list[int]
) -> None:
    build = busy_day[3]
    text, _ = megabyte_log(needle_at=(5, 12_000, 20_990))
    log_of(paths, build).write_text(text)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_log(pilot, build)
        assert view.skipped > 0 and view.lines[0].startswith("line 01")  # the end is held
        await pilot.press("slash", *"NEEDLE", "enter")  # case does not matter
        await settle(pilot)
        # The latest match above the bottom of the view comes first: a log is read upwards.
        assert "match 3 of 3 · line 20,990" in status(app)
        assert view.lines[view.current or 0].startswith("line 020990 needle")
        await pilot.press("N")
        await settle(pilot)
        assert "match 2 of 3 · line 12,000" in status(app)
        await pilot.press("N")
        await settle(pilot)
        # Line 5 is far before the part held when the log opened: that part is loaded.
        assert "match 1 of 3 · line 5" in status(app)
        assert view.current is not None
        assert view.lines[view.current].startswith("line 000005 needle")
        assert view.lines[view.current] in on_screen(view)
        await pilot.press("n")
        await settle(pilot)
        assert "match 2 of 3 · line 12,000" in status(app)
        await pilot.press("G")
        await settle(pilot)
        assert on_screen(view)[-1].startswith("line 021000")


async def test_matches_are_highlighted(app: FocusqApp, paths: Paths, busy_day: list[int]) -> None:
    build = busy_day[3]
    log_of(paths, build).write_text("alpha\nthe Needle and the needle\nomega\nneedle again\n")
    async with app.run_test(size=SIZE) as pilot:
        view = await open_log(pilot, build)
        await pilot.press("slash", *"needle", "enter")
        await settle(pilot)
        current = view.get_component_rich_style("log-view--current")
        other = view.get_component_rich_style("log-view--match")
        assert current.bgcolor != other.bgcolor

        def marked(index: int) -> list[tuple[str, object]]:
            strip = view.render_line(index - int(view.scroll_y))
            return [(s.text, s.style.bgcolor if s.style else None) for s in strip]

        assert view.current == 3  # "needle again", the latest
        assert ("needle", current.bgcolor) in marked(3)
        segments = marked(1)
        assert ("Needle", other.bgcolor) in segments and ("needle", other.bgcolor) in segments
        assert ("alpha", other.bgcolor) not in marked(0)


async def test_a_log_appended_while_open_is_followed_and_searched(
    app: FocusqApp, paths: Paths, busy_day: list[int]
) -> None:
    build = busy_day[3]
    async with app.run_test(size=SIZE) as pilot:
        view = await open_log(pilot, build)
        await pilot.press("slash", *"tick", "enter")
        await settle(pilot)
        assert "'tick' is not in the log" in status(app)
        with log_of(paths, build).open("a") as log:
            log.write("".join(f"tick {n} [b]x[/b]\n" for n in range(1, 23)))
        await until(pilot, lambda: "22 matches" in status(app), "the new lines searched")
        assert on_screen(view)[-1] == "tick 22 [b]x[/b]"  # followed, shown as written
        with log_of(paths, build).open("a") as log:
            log.write("tick 23\n")
        await until(pilot, lambda: "23 matches" in status(app), "one more match")
        assert on_screen(view)[-1] == "tick 23"


async def test_the_title_says_the_run_state_and_its_exit_code_once_ended(
    app: FocusqApp, paths: Paths, busy_day: list[int]
) -> None:
    build = busy_day[3]
    async with app.run_test(size=SIZE) as pilot:
        await open_log(pilot, build)
        assert "#4 build site (attempt 1)  ·  running  ·  4-1.log" in title(app)
        with sqlite3.connect(paths.database) as con:  # as the worker writes an end
            con.execute(
                "UPDATE runs SET ended_at = ?, exit_code = 2, result = 'failed' WHERE task_id = ?",
                (NOW, build),
            )
            con.execute("UPDATE tasks SET status = 'failed' WHERE id = ?", (build,))
        await until(pilot, lambda: "failed, exit 2" in title(app), "the exit code in the title")


def test_a_search_goes_on_where_it_stopped(tmp_path: Path) -> None:
    log = tmp_path / "job.log"
    log.write_bytes(b"one\r\nfetched 10\rfetched 99\nhalf a li")
    search = LogSearch(str(log), "FETCHED 1")
    search.scan()
    assert search.matches == []  # the frame on screen is "fetched 99"
    with log.open("ab") as file:
        file.write(b"ne fetched 1\n")
    search.scan()
    assert [(m.line, m.offset) for m in search.matches] == [(3, 27)]
    assert search.count() == "1"
    unicode = LogSearch(str(log), "ÉTÉ")
    log.write_text("été\nhiver\nÉté\n")
    unicode.scan()
    assert [m.line for m in unicode.matches] == [1, 3]


class TestLogSnapshots:
    """The log screen after a search: the file line, the count, the matches highlighted."""

    @pytest.fixture
    def searched_log(self, paths: Paths, busy_day: list[int]) -> int:
        build = busy_day[3]
        lines = [f"step {n}: compiling page {n * 3} [b]bold?[/b]" for n in range(1, 60)]
        lines[40] = "step 41: ERROR page 123 failed [red]x[/red]"
        lines[50] = "step 51: error again, retrying"
        log_of(paths, build).write_text("\n".join(lines) + "\n")
        return build

    @pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
    def test_search(
        self,
        snap_compare: SnapCompare,
        app: FocusqApp,
        searched_log: int,
        size: tuple[int, int],
    ) -> None:
        steps = then(
            select(searched_log),
            press("l"),
            expect_screen(LogScreen),
            press("slash", *"error", "enter"),
            press("N"),
        )
        assert snap_compare(app, terminal_size=size, run_before=steps)


async def test_following_costs_only_the_tail(
    app: FocusqApp, paths: Paths, busy_day: list[int]
) -> None:
    """A slot reads 4 KiB of its log per change, whatever the log's size."""
    import builtins

    build = busy_day[3]
    text, _ = megabyte_log()
    log_of(paths, build).write_text(text)
    read: list[int] = []
    real_open = builtins.open

    class Counting:
        def __init__(self, file):  # type: ignore[no-untyped-def]
            self.file = file

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc):  # type: ignore[no-untyped-def]
            self.file.close()

        def read(self, *args):  # type: ignore[no-untyped-def]
            data = self.file.read(*args)
            read.append(len(data))
            return data

        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            return getattr(self.file, name)

    def counting_open(path, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
        file = real_open(path, mode, *args, **kwargs)
        return Counting(file) if str(path) == str(log_of(paths, build)) else file

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        panel = app.screen.query_one(JobSlotsPanel)
        builtins.open = counting_open  # type: ignore[assignment]
        try:
            with log_of(paths, build).open("a") as log:
                log.write("tick 22\n")
            await until(pilot, lambda: "tick 22" in str(panel.render()), "tick 22")
        finally:
            builtins.open = real_open
    assert read and max(read) <= 4096
