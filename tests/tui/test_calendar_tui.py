"""The open TUI reads the calendar's meetings into its blocks, and again when the file changes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from focusq.config import load_settings
from focusq.paths import Paths
from focusq.tui.app import FocusqApp, make_app
from focusq.tui.screens.main import MainScreen
from tests.tui.conftest import NOW

DEADLINE = 30.0


def calendar(summary: str) -> str:
    """One meeting 17:00-18:00 UTC on the day of NOW (Tue 24 Nov 2026): now is 17:30."""
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//focusq tests//EN\r\n"
        "BEGIN:VEVENT\r\nUID:board\r\nDTSTART:20261124T170000Z\r\nDTEND:20261124T180000Z\r\n"
        f"SUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


async def until(pilot, check: Callable[[], bool], what: str) -> None:  # type: ignore[no-untyped-def]
    """Let the app run until ``check()`` holds, failing after :data:`DEADLINE` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"not within {DEADLINE:.0f}s: {what}")
        await pilot.pause(0.05)


def current_label(app: FocusqApp) -> str | None:
    screen = app.screen
    if not isinstance(screen, MainScreen) or screen.board is None or screen.board.block is None:
        return None
    return screen.board.block.label


async def test_a_meeting_is_the_current_block_and_a_saved_change_is_read(paths: Paths) -> None:
    cal = Path(paths.config_dir) / "cal"
    cal.mkdir(parents=True)
    (cal / "work.ics").write_text(calendar("Board call"), newline="")
    Path(paths.config_file).write_text(
        '[calendar]\nics = ["cal/work.ics", "cal/broken.ics"]\n\n'
        '[[blocks]]\ndays = "daily"\nstart = "14:00"\nend = "19:00"\nmode = "async"\n'
    )
    (cal / "broken.ics").write_text("not a calendar\n")
    app = make_app(load_settings(paths), paths, clock=lambda: NOW)
    notes: list[str] = []
    original = app.notify

    def notify(message: str, **kwargs: object) -> None:
        notes.append(message)
        original(message, **kwargs)  # type: ignore[arg-type]

    app.notify = notify  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: current_label(app) == "Board call", "the meeting shown")
        assert any(n.startswith(f"calendar file {cal / 'broken.ics'}: ") for n in notes)
        (cal / "work.ics").write_text(calendar("Board call, moved room"), newline="")
        await until(
            pilot, lambda: current_label(app) == "Board call, moved room", "the change read"
        )
        assert [b.label for b in app.blocks if b.source == "calendar"] == ["Board call, moved room"]
