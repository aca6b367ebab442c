"""The review screen shows the untracked time in async blocks and who interrupted; a break
taken in the focus view says how long it is, so the review counts it as time off."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable

from textual.widgets import Static

from focusq.paths import Paths
from focusq.store.ops import focus
from focusq.store.sync import SyncStore
from focusq.tui.app import FocusqApp
from focusq.tui.screens.focus import PlannedTimeScreen
from focusq.tui.screens.review import ReviewScreen
from focusq.tui.widgets.timeline import TimelineChart
from tests.tui.conftest import NOW, settle, today_at
from tests.tui.test_review_screen import SIZE, shown


async def test_the_review_screen_shows_untracked_time_and_who_interrupted(
    review_app: FocusqApp,
) -> None:
    async with review_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        screen = review_app.screen
        assert isinstance(screen, ReviewScreen)
        summary = " ".join(shown(screen.query_one("#review-summary", Static)).split())
        # Async 10:00-12:00 and 14:00-17:30 (it is 17:30): the post 10:00-11:30 with a ten
        # minute pause, the plan 14:00-15:00; untracked 11:30-12:00 and 15:00-17:00.
        assert (
            "Untracked 2h 30m of 5h 00m async time in 2 gaps (focus 2h 20m, pauses and breaks 10m)"
        ) in summary
        assert "async 10:00-12:00 deep work: 1h 20m of 2h 00m focused (67%), 30m untracked" in (
            summary
        )
        assert "async 14:00-17:00: 1h 00m of 3h 00m focused (33%), 2h 00m untracked" in summary
        # Two notes captured by hand; three jobs ended; no quick-add during focus.
        assert (
            "Interrupted by others 2 · yourself 0 (quick-adds during focus, switches you chose)"
            " · jobs 3"
        ) in summary
        timeline = screen.query_one(TimelineChart).timeline
        assert timeline is not None
        assert [(g.start, g.end) for g in timeline.untracked] == [
            (today_at(11, 30), today_at(12)),
            (today_at(15), today_at(17)),
        ]
        drawn = screen.query_one(TimelineChart).render().plain.splitlines()
        focus_lane = next(line for line in drawn if line.startswith("focus"))
        assert "·" in focus_lane and "█" in focus_lane


async def test_a_break_taken_when_the_planned_time_is_up_records_its_length(
    app: FocusqApp, paths: Paths, seed: Callable[..., list[int]]
) -> None:
    (post,) = seed("write the launch post")
    with SyncStore(paths.database) as store:
        store.run(focus.start_focus(post, NOW - 60 * 60, 50, switch=False))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("z")
        # The focus view asks on its once-a-second tick: wait for the question.
        deadline = asyncio.get_running_loop().time() + 30
        while not isinstance(app.screen, PlannedTimeScreen):
            assert asyncio.get_running_loop().time() < deadline, "no planned-time question"
            await pilot.pause(0.05)
        await pilot.press("b")
        await settle(pilot)
    with sqlite3.connect(paths.database) as con:
        (payload,) = con.execute(
            "SELECT payload FROM events WHERE task_id = ? AND kind = 'focus' "
            "AND json_extract(payload, '$.action') = 'end'",
            (post,),
        ).fetchone()
    end = json.loads(payload)
    assert (end["outcome"], end["break_minutes"]) == ("break", app.settings.focus.break_minutes)
