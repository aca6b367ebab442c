"""Untracked time in async blocks, on a constructed day in a real database: figures exact.

The day is Wed 25 Nov 2026 (local time), with blocks async 09:00-12:00 "deep", sync
12:00-13:00 and async 13:00-17:00. In it:

| time | what | async focus | pause/break | untracked |
| --- | --- | ---: | ---: | ---: |
| 09:00-10:30 | A in focus, paused 09:40-09:50 | 80m | 10m | |
| 10:30-10:45 | nothing | | | 15m |
| 10:45-11:30 | B in focus, ended as a 15-minute break | 45m | | |
| 11:30-11:40 | the break, cut short: B again at 11:40 | | 10m | |
| 11:40-12:30 | B in focus, 11:45-11:55 away and not counted (to 12:00: async) | 10m | | 10m |
| 13:00-13:20 | nothing | | | 20m |
| 13:20-14:00 | C in focus, ended as a break of the default length | 40m | | |
| 14:00-14:10 | the break (10 minutes: the event does not say) | | 10m | |
| 14:10-15:00 | nothing | | | 50m |
| 15:00-17:30 | D forgotten running, trimmed to 16:00; a pause 16:30-16:40 | 60m | | 60m |

Async time 7h 00m = focus 3h 55m + pauses and breaks 30m + untracked 2h 35m, in five gaps.
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from focusq.focus.blocks import make_block
from focusq.paths import Paths
from focusq.quickadd import parse
from focusq.review.day import DayLog, day_window
from focusq.review.export import text_timeline, to_json, to_markdown, to_text
from focusq.review.figures import Review, figures
from focusq.review.untracked import Gap
from focusq.store.ops import focus, review, tasks
from focusq.store.sync import SyncStore

DAY = date(2026, 11, 25)
MIN = 60.0
BLOCKS = [
    make_block("mon-fri", "09:00", "12:00", "async", "deep"),
    make_block("mon-fri", "12:00", "13:00", "sync"),
    make_block("mon-fri", "13:00", "17:00", "async"),
]
BLOCKS_TOML = """
[[blocks]]
days = "mon-fri"
start = "09:00"
end = "12:00"
mode = "async"
label = "deep"

[[blocks]]
days = "mon-fri"
start = "12:00"
end = "13:00"
mode = "sync"

[[blocks]]
days = "mon-fri"
start = "13:00"
end = "17:00"
mode = "async"
"""


def at(hour: int, minute: int = 0, day: int = 25) -> float:
    return datetime(2026, 11, day, hour, minute).timestamp()


@pytest.fixture
def store(paths: Paths):  # type: ignore[no-untyped-def]
    with SyncStore(paths.database) as s:
        yield s


def add(store: SyncStore, text: str) -> int:
    return int(store.run(tasks.add_task(parse([text], None, now=at(8)), at(8))))


@pytest.fixture
def day(store: SyncStore) -> dict[str, int]:
    ids = {name: add(store, f"task {name}") for name in "ABCD"}
    store.run(focus.start_focus(ids["A"], at(9), 50, switch=False))
    store.run(focus.pause_focus(at(9, 40), resume=False))
    store.run(focus.pause_focus(at(9, 50), resume=True))
    store.run(focus.stop_focus(at(10, 30), done=False))
    store.run(focus.start_focus(ids["B"], at(10, 45), 45, switch=False))
    store.run(focus.stop_focus(at(11, 30), done=False, outcome="break", break_minutes=15))
    store.run(focus.start_focus(ids["B"], at(11, 40), 50, switch=False))
    store.run(focus.discount_focus(10 * MIN, at(11, 56), until=at(11, 55)))
    store.run(focus.stop_focus(at(12, 30), done=False))
    store.run(focus.start_focus(ids["C"], at(13, 20), 40, switch=False))
    store.run(focus.stop_focus(at(14), done=False, outcome="break"))
    store.run(focus.start_focus(ids["D"], at(15), 50, switch=False))
    store.run(focus.pause_focus(at(16, 30), resume=False))
    store.run(focus.pause_focus(at(16, 40), resume=True))
    store.run(focus.stop_focus(at(17, 30), done=False))
    store.run(focus.trim_focus(ids["D"], at(16), at(17, 35)))
    return ids


def review_at(store: SyncStore, now: float, blocks: Any = BLOCKS) -> Review:
    start, end = day_window(DAY)
    rows = store.run(review.day_log(start, end, DAY.isoformat()))
    return figures(DayLog.of(DAY, rows, blocks, now))


def test_the_days_untracked_time_pauses_and_breaks(store: SyncStore, day: dict[str, int]) -> None:
    f = review_at(store, at(18)).focus
    assert f.by_mode["async"] == 235 * MIN
    assert (f.async_seconds, f.rest_seconds, f.untracked_seconds) == (
        420 * MIN,
        30 * MIN,
        155 * MIN,
    )
    assert [(b.mode, b.focus_seconds, b.untracked_seconds) for b in f.blocks] == [
        ("async", 135 * MIN, 25 * MIN),
        ("sync", 30 * MIN, 0.0),
        ("async", 100 * MIN, 130 * MIN),
    ]


def test_the_gaps_on_the_timeline(store: SyncStore, day: dict[str, int]) -> None:
    timeline = review_at(store, at(18)).timeline
    assert timeline.untracked == [
        Gap(at(10, 30), at(10, 45)),
        Gap(at(11, 45), at(11, 55)),
        Gap(at(13), at(13, 20)),
        Gap(at(14, 10), at(15)),
        Gap(at(16), at(17)),
    ]
    # 09:00-17:00 in 32 cells, four an hour: the focus lane dots the gaps (a cell shows
    # what covers most of it; pauses and breaks are left blank).
    assert (timeline.start, timeline.end) == (at(9), at(17))
    rows = text_timeline(timeline, 8 + 32)
    assert rows[1] == "blocks  " + "a" * 12 + "s" * 4 + "a" * 16
    assert rows[2] == "focus   ██████·████·██  ·███····████····"


def test_an_open_day_counts_only_up_to_now(store: SyncStore, day: dict[str, int]) -> None:
    f = review_at(store, at(14, 30)).focus
    # 09:00-12:00 and 13:00-14:30; untracked 15 + 10 + 20 + 14:10-14:30.
    assert (f.async_seconds, f.untracked_seconds) == (270 * MIN, 65 * MIN)
    assert f.rest_seconds == 30 * MIN


def test_adjacent_async_blocks_make_one_gap(store: SyncStore) -> None:
    blocks = [
        make_block("mon-fri", "09:00", "10:00", "async", "early"),
        make_block("mon-fri", "10:00", "11:00", "async", "deep"),
    ]
    review_ = review_at(store, at(18), blocks)
    assert review_.timeline.untracked == [Gap(at(9), at(11))]
    assert [b.untracked_seconds for b in review_.focus.blocks] == [60 * MIN, 60 * MIN]


def test_without_async_blocks_nothing_is_untracked(store: SyncStore, day: dict[str, int]) -> None:
    review_ = review_at(store, at(18), [])
    assert review_.focus.untracked_seconds == 0 and review_.timeline.untracked == []
    assert "Untracked" not in to_text(review_)


def test_a_break_says_how_long_it_was(store: SyncStore, day: dict[str, int]) -> None:
    with sqlite3.connect(store.path) as con:
        ends = [
            json.loads(p)
            for (p,) in con.execute(
                "SELECT payload FROM events WHERE task_id = ? AND kind = 'focus' "
                "AND json_extract(payload, '$.action') = 'end' ORDER BY id",
                (day["B"],),
            )
        ]
    assert [(e["outcome"], e.get("break_minutes")) for e in ends] == [
        ("break", 15),
        ("stopped", None),
    ]


def test_text_markdown_and_json_say_it(store: SyncStore, day: dict[str, int]) -> None:
    review_ = review_at(store, at(18))
    line = (
        "Untracked       2h 35m of 7h 00m async time in 5 gaps "
        "(focus 3h 55m, pauses and breaks 30m)"
    )
    assert line in to_text(review_).splitlines()
    markdown = to_markdown(review_)
    assert "| Block | Planned | Focused | Used | Untracked |" in markdown
    assert "| async 09:00-12:00 (deep) | 3h 00m | 2h 15m | 75% | 25m |" in markdown
    assert "| sync 12:00-13:00 | 1h 00m | 30m | 50% | – |" in markdown
    assert "| async 13:00-17:00 | 4h 00m | 1h 40m | 42% | 2h 10m |" in markdown
    assert "<title>untracked 14:10-15:00</title>" in markdown
    data = to_json(review_)
    assert (data["focus"]["async_s"], data["focus"]["rest_s"], data["focus"]["untracked_s"]) == (
        420 * MIN,
        30 * MIN,
        155 * MIN,
    )
    assert [b["untracked_s"] for b in data["focus"]["blocks"]] == [25 * MIN, 0.0, 130 * MIN]
    gaps = data["timeline"]["untracked"]
    assert [(datetime.fromisoformat(g["start"]).timestamp()) for g in gaps][:2] == [
        at(10, 30),
        at(11, 45),
    ]


def test_focusq_review_counts_it(  # type: ignore[no-untyped-def]
    focusq, paths: Paths, store: SyncStore, day: dict[str, int]
) -> None:
    os.makedirs(os.path.dirname(paths.config_file), exist_ok=True)
    Path(paths.config_file).write_text(BLOCKS_TOML)
    result = focusq("review", "--date", DAY.isoformat())
    assert result.returncode == 0, result.stderr
    assert "Untracked       2h 35m of 7h 00m async time in 5 gaps" in result.stdout
    data = json.loads(focusq("review", "--date", DAY.isoformat(), "--json").stdout)
    assert data["focus"]["untracked_s"] == 155 * MIN
    assert len(data["timeline"]["untracked"]) == 5
