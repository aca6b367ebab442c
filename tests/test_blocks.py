"""Time blocks, as pure functions of the config and a moment."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest

from focusq.focus.blocks import (
    BlockError,
    check_overlaps,
    day_plan,
    make_block,
    next_boundary,
    parse_days,
    segment_at,
)

TUESDAY = date(2026, 11, 24)
SATURDAY = date(2026, 11, 28)

DAY = [
    make_block("mon-fri", "09:00", "09:30", "sync", "standup"),
    make_block("mon-fri", "09:30", "12:00", "async", "deep work"),
    make_block("mon-fri", "14:00", "15:00", "sync", "meetings"),
    make_block("sat,sun", "10:00", "12:00", "async"),
]


def test_days() -> None:
    assert parse_days("mon-fri") == {0, 1, 2, 3, 4}
    assert parse_days("sat,sun") == {5, 6}
    assert parse_days("mon,wed-fri") == {0, 2, 3, 4}
    assert parse_days("daily") == set(range(7))
    for bad in ("monday", "fri-mon", "mon-", ""):
        with pytest.raises(BlockError):
            parse_days(bad)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("mon", "10:00", "09:00", "sync"), "ends"),
        (("mon", "10:00", "10:00", "sync"), "ends"),
        (("mon", "25:00", "26:00", "sync"), "not a time"),
        (("mon", "9am", "10:00", "sync"), "not a time"),
        (("mon", "09:00", "10:00", "busy"), "mode"),
        (("someday", "09:00", "10:00", "sync"), "not a day"),
    ],
)
def test_bad_blocks_are_named(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(BlockError, match=message):
        make_block(*args)


def test_overlaps_are_found_only_on_shared_days() -> None:
    check_overlaps(DAY)
    clash = make_block("tue", "11:00", "11:30", "sync", "1:1")
    with pytest.raises(BlockError, match=r"async 09:30-12:00 \(deep work\) and sync 11:00-11:30"):
        check_overlaps([*DAY, clash])
    check_overlaps([*DAY, make_block("sat", "09:00", "09:30", "sync")])


def test_a_day_plan_covers_the_day_with_free_time_between_blocks() -> None:
    plan = day_plan(DAY, TUESDAY)
    assert [(s.start.time(), s.mode, s.label) for s in plan] == [
        (time(0, 0), "free", ""),
        (time(9, 0), "sync", "standup"),
        (time(9, 30), "async", "deep work"),
        (time(12, 0), "free", ""),
        (time(14, 0), "sync", "meetings"),
        (time(15, 0), "free", ""),
    ]
    assert plan[-1].end == datetime(2026, 11, 25, 0, 0)
    assert [s.mode for s in day_plan(DAY, SATURDAY)] == ["free", "async", "free"]


def test_the_current_block_and_the_next_boundary() -> None:
    moment = datetime(2026, 11, 24, 10, 15)
    assert segment_at(DAY, moment).label == "deep work"
    at, following = next_boundary(DAY, moment)
    assert (at, following.mode) == (datetime(2026, 11, 24, 12, 0), "free")
    evening = datetime(2026, 11, 24, 18, 0)
    at, following = next_boundary(DAY, evening)  # free until tomorrow's standup
    assert (at, following.label) == (datetime(2026, 11, 25, 9, 0), "standup")


def test_blocks_config_errors_name_the_block(focusq, focusq_home: Path) -> None:  # type: ignore[no-untyped-def]
    focusq_home.mkdir(mode=0o700)
    config = focusq_home / "config.toml"
    config.write_text(
        '[[blocks]]\nstart = "09:00"\nend = "10:00"\nmode = "sync"\nlabel = "standup"\n'
        '[[blocks]]\nstart = "09:30"\nend = "11:00"\nmode = "async"\n'
    )
    result = focusq("blocks")
    assert result.returncode == 2
    assert "sync 09:00-10:00 (standup) and async 09:30-11:00 overlap" in result.stderr
    config.write_text('[[blocks]]\ndays = "mon-fry"\nstart = "9"\nend = "10:00"\nmode = "sync"\n')
    result = focusq("add", "x")
    assert result.returncode == 2 and "block 1" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_blocks_command_lists_the_day(focusq, focusq_home: Path) -> None:  # type: ignore[no-untyped-def]
    focusq_home.mkdir(mode=0o700)
    (focusq_home / "config.toml").write_text(
        '[[blocks]]\ndays = "daily"\nstart = "00:00"\nend = "24:00"\nmode = "async"\n'
        'label = "all day"\n'
    )
    out = focusq("blocks").stdout.splitlines()
    assert out[1].startswith("▶ 00:00-24:00  async  all day")
    assert focusq("blocks", "--json").returncode == 0
