"""On opening the TUI, a day before today left unclosed is offered for review, once a day."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from focusq.config import load_settings
from focusq.paths import Paths
from focusq.store.ops import base, focus, review, tasks
from focusq.store.sync import SyncStore
from focusq.tui.app import FocusqApp, make_app
from focusq.tui.review_offer import STATE_KEY
from focusq.tui.screens.confirm import ConfirmScreen
from focusq.tui.screens.main import MainScreen
from focusq.tui.screens.review import ReviewScreen
from tests.tui.conftest import NOW, draft, settle

SIZE = (120, 36)
DAY = 86_400.0
MONDAY = date(2026, 11, 23)
"""The day before NOW (Tue 24 Nov 2026, 17:30 UTC)."""


def app_at(paths: Paths, now: float) -> FocusqApp:
    return make_app(load_settings(paths), paths, clock=lambda: now)


@pytest.fixture
def worked_monday(paths: Paths) -> Iterator[SyncStore]:
    """Monday: a task added and focused on; today: a task added."""
    with SyncStore(paths.database) as store:
        (post,) = store.run(tasks.add_tasks([draft("write the post")], NOW - DAY - 6 * 3600))
        store.run(focus.start_focus(post, NOW - DAY - 5 * 3600, 50, switch=False))
        store.run(focus.stop_focus(NOW - DAY - 4 * 3600, done=False))
        store.run(tasks.add_tasks([draft("today's task")], NOW - 3600))
        yield store


def state(paths: Paths) -> dict[str, object]:
    return dict(json.loads(Path(paths.home, "tui-state.json").read_text()))


async def test_declined_it_is_not_offered_again_that_day(
    worked_monday: SyncStore, paths: Paths
) -> None:
    app = app_at(paths, NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        offer = app.screen
        assert isinstance(offer, ConfirmScreen)
        assert offer.question == "The review of Mon 23 Nov was never closed. Review it now?"
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
    assert state(paths)[STATE_KEY] == {"on": "2026-11-24", "day": "2026-11-23", "answer": "no"}

    # A second start the same day (later on) asks nothing.
    again = app_at(paths, NOW + 3600)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(again.screen, MainScreen)
        assert not any(isinstance(s, ConfirmScreen) for s in again.screen_stack)

    # The next day asks again: about Tuesday, now the last day worked on, left open too.
    tomorrow = app_at(paths, NOW + DAY)
    async with tomorrow.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(tomorrow.screen, ConfirmScreen)
        assert "Tue 24 Nov" in tomorrow.screen.question


async def test_accepted_it_opens_the_review_of_that_day(
    worked_monday: SyncStore, paths: Paths
) -> None:
    app = app_at(paths, NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert screen.day == MONDAY
        assert screen.review is not None and screen.review.focus.seconds == 3600
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
    assert state(paths)[STATE_KEY] == {"on": "2026-11-24", "day": "2026-11-23", "answer": "yes"}


async def test_the_answer_keeps_the_remembered_theme(
    worked_monday: SyncStore, paths: Paths
) -> None:
    paths.ensure_home()
    Path(paths.home, "tui-state.json").write_text(json.dumps({"theme": "focusq-light"}))
    app = app_at(paths, NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
    assert state(paths)["theme"] == "focusq-light"


async def test_a_closed_day_is_not_offered(worked_monday: SyncStore, paths: Paths) -> None:
    worked_monday.run(review.close_day(MONDAY.isoformat(), NOW - DAY + 3600))
    app = app_at(paths, NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert not any(isinstance(s, ConfirmScreen) for s in app.screen_stack)


async def test_nothing_is_offered_without_earlier_work(paths: Paths) -> None:
    with SyncStore(paths.database) as store:
        store.run(tasks.add_tasks([draft("today's task")], NOW - 3600))
    app = app_at(paths, NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert not any(isinstance(s, ConfirmScreen) for s in app.screen_stack)


def _event(kind: str, payload: dict[str, object], at: float):  # type: ignore[no-untyped-def]
    yield base.WRITE
    return (yield from base.event(None, kind, payload, at))


def test_only_the_users_own_work_makes_a_day_to_review(paths: Paths) -> None:
    """A recurring job's run added itself, a job's end, a worker start: no day of work."""
    with SyncStore(paths.database) as store:
        monday = NOW - DAY
        store.run(_event("added", {"title": "nightly backup", "template": 1}, monday))
        store.run(_event("status", {"from": "running", "to": "done"}, monday))
        store.run(_event("worker", {"action": "start"}, monday))
        start = NOW - 17.5 * 3600  # Tuesday's midnight
        assert store.run(review.unclosed_day_before(start)) is None
        store.run(_event("noted", {"text": "call Sam"}, monday - DAY))
        assert store.run(review.unclosed_day_before(start)) == "2026-11-22"
        store.run(review.close_day("2026-11-22", NOW))
        assert store.run(review.unclosed_day_before(start)) is None
