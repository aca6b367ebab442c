"""The review screen driven by keys: answers land in the database, the day closes."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

from rich.console import Console
from textual.widgets import DataTable, Static

from focusq.paths import Paths
from focusq.tui.app import FocusqApp
from focusq.tui.screens.capture import CaptureScreen
from focusq.tui.screens.confirm import ConfirmScreen
from focusq.tui.screens.review import ReviewScreen
from focusq.tui.widgets.timeline import TimelineChart
from tests.tui.conftest import NOW, settle, today_at

SIZE = (120, 50)


def row(paths: Paths, task_id: int) -> tuple[str, str, float | None]:
    with sqlite3.connect(paths.database) as con:
        status, tags, not_before = con.execute(
            "SELECT status, tags, not_before FROM tasks WHERE id = ?", (task_id,)
        ).fetchone()
    return status, tags, not_before


def review_events(paths: Paths) -> list[tuple[int | None, str, dict[str, str]]]:
    with sqlite3.connect(paths.database) as con:
        rows = con.execute(
            "SELECT task_id, kind, payload FROM events "
            "WHERE kind IN ('reviewed', 'day_closed', 'failure_note') ORDER BY id"
        ).fetchall()
    return [(t, k, json.loads(p)) for t, k, p in rows]


def shown(widget: Static) -> str:
    """The text a widget shows, laid out at its width."""
    console = Console(width=widget.size.width or 120, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def unfinished_rows(app: FocusqApp) -> list[list[str]]:
    table = app.screen.query_one("#review-unfinished", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_review_shows_the_day_then_answers_and_closes_it(
    review_app: FocusqApp, reviewed_day: dict[str, int], paths: Paths
) -> None:
    ids = reviewed_day
    async with review_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        screen = review_app.screen
        assert isinstance(screen, ReviewScreen)
        summary = shown(screen.query_one("#review-summary", Static))
        assert "2h 20m in 2 sessions; longest unbroken 1h 00m" in summary
        assert "5 captured (1 urgent); 5 held and delivered in 2 batches" in summary
        assert "3 runs: 2 ok, 1 failed" in summary
        timeline = screen.query_one(TimelineChart).timeline
        assert timeline is not None
        assert (len(timeline.focus), len(timeline.slots)) == (3, 2)
        # Open creative work first (by priority), then the jobs left held or failed.
        assert [r[0] for r in unfinished_rows(review_app)] == [
            str(ids["post"]),
            str(ids["reply"]),
            str(ids["tests"]),
            str(ids["deploy"]),
        ]

        await pilot.press("c")  # the post: tomorrow
        await settle(pilot)
        await pilot.press("b")  # the reply: backlog
        await settle(pilot)
        await pilot.press("c")  # the failed tests: run again tomorrow
        await settle(pilot)
        await pilot.press("x")  # the held deploy: drop
        await settle(pilot)
        assert [r[4] for r in unfinished_rows(review_app)] == [
            "carried to tomorrow",
            "sent to the backlog",
            "carried to tomorrow",
            "dropped",
        ]
        await pilot.press("C")
        await settle(pilot)
        assert not isinstance(review_app.screen, ConfirmScreen)  # everything has an answer
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        title = str(review_app.screen.query_one("#review-title").render())
        assert "Closed at 17:30" in title

    tomorrow = today_at(9) + 24 * 3600
    assert row(paths, ids["post"]) == ("queued", '["blog"]', None)
    assert row(paths, ids["reply"]) == ("held", '["backlog"]', None)
    assert row(paths, ids["tests"]) == ("queued", "[]", tomorrow)
    assert row(paths, ids["deploy"])[0] == "dropped"
    answers = [(t, k, p.get("action")) for t, k, p in review_events(paths)]
    assert answers == [
        (ids["post"], "reviewed", "carry"),
        (ids["reply"], "reviewed", "backlog"),
        (ids["tests"], "reviewed", "carry"),
        (ids["deploy"], "reviewed", "drop"),
        (None, "day_closed", None),
    ]


async def test_closing_with_work_unanswered_asks_first(review_app: FocusqApp, paths: Paths) -> None:
    async with review_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        await pilot.press("C")
        await settle(pilot)
        assert isinstance(review_app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert review_events(paths) == []
        await pilot.press("C")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert [k for _, k, _ in review_events(paths)] == ["day_closed"]


async def test_a_failure_note_is_stored_and_shown(
    review_app: FocusqApp, reviewed_day: dict[str, int], paths: Paths
) -> None:
    async with review_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        detail = str(review_app.screen.query_one("#review-failure-detail").render())
        assert "FAILED test_login" in detail
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(review_app.screen, CaptureScreen)
        await pilot.press(*"login fixture needs the VPN", "enter")
        await settle(pilot)
        detail = str(review_app.screen.query_one("#review-failure-detail").render())
        assert "login fixture needs the VPN" in detail
    assert review_events(paths) == [
        (
            reviewed_day["tests"],
            "failure_note",
            {"attempt": 1, "text": "login fixture needs the VPN"},
        )
    ]


async def test_export_writes_a_private_markdown_file(review_app: FocusqApp, paths: Paths) -> None:
    import stat

    async with review_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R", "e")
        await settle(pilot)
    path = Path(paths.home, "reviews", "2026-11-24.md")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Review of Tue 24 Nov 2026") and "<svg" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_brackets_move_between_days(review_app: FocusqApp) -> None:
    async with review_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R", "left_square_bracket")
        await settle(pilot)
        title = str(review_app.screen.query_one("#review-title").render())
        assert "Mon 23 Nov 2026" in title
        summary = shown(review_app.screen.query_one("#review-summary", Static))
        assert "0 tasks" in summary


async def test_the_cursor_stays_on_its_task_when_work_is_added_meanwhile(
    review_app: FocusqApp, reviewed_day: dict[str, int], paths: Paths
) -> None:
    from focusq.quickadd import parse
    from focusq.store.ops import tasks
    from focusq.store.sync import SyncStore

    async with review_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R", "down")  # on "reply to Sam", the second creative task
        await settle(pilot)
        screen = review_app.screen
        assert isinstance(screen, ReviewScreen)
        with SyncStore(paths.database) as store:  # another shell adds a task that sorts before it
            store.run(
                tasks.add_task(parse(["urgent thing pri:H"], None, now=today_at(17)), today_at(17))
            )
        await screen.load()
        await settle(pilot)
        assert unfinished_rows(review_app)[1][3] == "urgent thing"  # where "reply" was
        await pilot.press("x")
        await settle(pilot)
    assert row(paths, reviewed_day["reply"])[0] == "dropped"
    assert row(paths, reviewed_day["post"])[0] == "queued"


async def test_no_review_of_days_to_come(review_app: FocusqApp) -> None:
    async with review_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R", "right_square_bracket")
        await settle(pilot)
        title = shown_title(review_app)
        assert "Tue 24 Nov 2026" in title


def shown_title(app: FocusqApp) -> str:
    return str(app.screen.query_one("#review-title").render())


async def test_a_long_title_is_cut_so_its_answer_stays_in_sight(
    review_app: FocusqApp, reviewed_day: dict[str, int], paths: Paths
) -> None:
    from focusq.store.ops import tasks
    from focusq.store.sync import SyncStore
    from tests.test_ls_scale import _drafts

    with SyncStore(paths.database) as store:
        [long_id] = store.run(tasks.add_tasks(_drafts([("word " * 60, None)], NOW), NOW - 60))
    async with review_app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        table = review_app.screen.query_one("#review-unfinished", DataTable)
        row = next(i for i, r in enumerate(unfinished_rows(review_app)) if r[0] == str(long_id))
        table.move_cursor(row=row)
        await pilot.press("c")
        await settle(pilot)
        _, _, _, title, answer, _ = unfinished_rows(review_app)[row]
        assert len(title) == 60 and title.endswith("…") and title.startswith("word word")
        assert answer  # said, in sight
