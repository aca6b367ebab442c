"""The review screen shows the untracked time in async blocks and who interrupted."""

from __future__ import annotations

from textual.widgets import Static

from focusq.tui.app import FocusqApp
from focusq.tui.screens.review import ReviewScreen
from focusq.tui.widgets.timeline import TimelineChart
from tests.tui.conftest import settle, today_at
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
