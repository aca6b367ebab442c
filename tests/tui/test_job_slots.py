"""The job slots panel with more jobs waiting than it names: "+N more" counts them all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from focusq.tui.app import FocusqApp
from focusq.tui.board import WAITING_SHOWN
from focusq.tui.screens.main import MainScreen
from focusq.tui.widgets.job_slots import WAITING_LISTED, JobSlotsPanel
from tests.tui.conftest import NOW, settle

SIZE = (120, 36)
WAITING = 40


async def test_many_waiting_jobs_are_named_six_then_counted(
    app: FocusqApp, seed: Callable[..., list[int]], start_job: Any
) -> None:
    holder, *held = seed(
        ("deploy lock:prod", ["./deploy"]),
        *((f"deploy {n} lock:prod", ["./deploy", str(n)]) for n in range(WAITING)),
    )
    start_job(holder, NOW - 60, "going\n")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MainScreen)
        panel = screen.query_one(JobSlotsPanel)
        board = panel.board
        assert board is not None
        # The board read only the first few with their reasons, and counted the rest.
        assert board.waiting_count == WAITING
        assert len(board.waiting) == WAITING_SHOWN < WAITING
        text = str(panel.render())
        waiting_line = text[text.index("waiting: ") :]
        named = [f"#{task_id} " for task_id in held[:WAITING_LISTED]]
        assert all(name in waiting_line for name in named)
        assert f"#{held[WAITING_LISTED]} " not in waiting_line
        assert waiting_line.rstrip().endswith(f"+{WAITING - WAITING_LISTED} more")


async def test_no_more_when_every_waiting_job_is_named(
    app: FocusqApp, seed: Callable[..., list[int]], start_job: Any
) -> None:
    holder, *held = seed(
        ("deploy lock:prod", ["./deploy"]),
        *((f"deploy {n} lock:prod", ["./deploy", str(n)]) for n in range(WAITING_LISTED)),
    )
    start_job(holder, NOW - 60, "going\n")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        panel = app.screen.query_one(JobSlotsPanel)
        assert panel.board is not None and panel.board.waiting_count == WAITING_LISTED
        text = str(panel.render())
        assert f"#{held[-1]} " in text and "more" not in text
