"""Every ``--json`` speaks one way: moments as ISO 8601 with the local offset, durations as
seconds in fields named ``*_s``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from focusq.focus.blocks import make_block
from focusq.review.day import DayLog
from focusq.review.export import to_json
from focusq.review.figures import figures

Focusq = Callable[..., Any]
TZ = {"TZ": "Asia/Kolkata"}  # +05:30 all year: an offset no test machine has by accident
TIME_KEYS = {"start", "end", "at", "closed_at", "release"}


def walk(value: Any, where: str = "") -> Iterator[tuple[str, str, Any]]:
    """Every (path, key, value) in a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{where}.{key}", key, item
            yield from walk(item, f"{where}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from walk(item, f"{where}[{n}]")


def assert_one_voice(document: Any) -> None:
    """Moments are ISO 8601 strings with an offset; no duration hides under another name."""
    seen = 0
    for where, key, value in walk(document):
        assert not key.endswith("_seconds"), f"{where}: durations are named *_s"
        if value is not None and (key in TIME_KEYS or key.endswith("_at")):
            assert isinstance(value, str), f"{where} = {value!r} is not ISO 8601"
            assert datetime.fromisoformat(value).tzinfo is not None, f"{where}: no offset"
            seen += 1
        if key.endswith("_s") and value is not None:
            assert isinstance(value, int | float | dict), f"{where} = {value!r}"
    assert seen, "the document has no moment to check"


def test_the_review_as_json_has_iso_moments_and_named_durations() -> None:
    day = date(2026, 11, 24)

    def at(hour: int, minute: int = 0) -> float:
        return datetime(2026, 11, 24, hour, minute).timestamp()

    events = [
        {"at": at(10), "task_id": 1, "kind": "focus", "payload": {"action": "start"}},
        {"at": at(10, 50), "task_id": 1, "kind": "focus", "payload": {"action": "end"}},
        {"at": at(10, 50), "task_id": 1, "kind": "status", "payload": {"to": "done"}},
        {"at": at(9), "task_id": 2, "kind": "status", "payload": {"to": "running", "attempt": 1}},
        {
            "at": at(9, 30),
            "task_id": 2,
            "kind": "status",
            "payload": {"from": "running", "to": "failed", "result": "failed", "exit_code": 1},
        },
    ]
    tasks = {
        1: {"title": "write", "kind": "creative", "status": "done"},
        2: {"title": "build", "kind": "mechanical", "status": "failed"},
    }
    blocks = [make_block("daily", "10:00", "12:00", "async", "deep")]
    log = DayLog.of(day, {"events": events, "tasks": tasks}, blocks, at(17))
    data = to_json(figures(log))

    assert_one_voice(data)
    assert datetime.fromisoformat(data["start"]).timestamp() == log.start
    assert data["done"][0]["at"] == datetime.fromtimestamp(at(10, 50)).astimezone().isoformat()
    assert data["done"][0]["focus_s"] == 50 * 60
    assert data["focus"]["focus_s"] == 50 * 60 and data["focus"]["longest_s"] == 50 * 60
    assert data["focus"]["by_mode_s"]["async"] == 50 * 60
    assert data["focus"]["blocks"][0]["planned_s"] == 2 * 3600
    assert data["focus"]["tasks"][0]["focus_s"] == 50 * 60
    assert data["jobs"]["job_s"] == data["jobs"]["wall_s"] == 30 * 60
    failure = data["jobs"]["failures"][0]
    assert datetime.fromisoformat(failure["at"]).timestamp() == at(9, 30)
    assert datetime.fromisoformat(data["timeline"]["focus"][0]["end"]).timestamp() == at(10, 50)


def test_review_json_on_the_command_line_carries_the_local_offset(focusq: Focusq) -> None:
    focusq("add", "write the post", env=TZ)
    focusq("done", "1", env=TZ)
    # The day it was done there (without --date, the review before 04:00 is of the day
    # before; and a clock read after the done may be past midnight already).
    ended = json.loads(focusq("show", "1", "--json", env=TZ).stdout)["ended_at"]
    day = datetime.fromisoformat(ended).date().isoformat()
    data = json.loads(focusq("review", "--json", "--date", day, env=TZ).stdout)
    assert_one_voice(data)
    assert data["start"].endswith("T00:00:00+05:30")
    assert data["done"][0]["at"].endswith("+05:30")
    assert data["focus"]["focus_s"] == 0


def test_blocks_json_carries_the_local_offset(focusq: Focusq, focusq_home: Path) -> None:
    focusq_home.mkdir(mode=0o700)
    (focusq_home / "config.toml").write_text(
        '[[blocks]]\ndays = "daily"\nstart = "09:00"\nend = "10:30"\nmode = "sync"\n'
    )
    segments = json.loads(focusq("blocks", "--json", "--date", "2026-11-24", env=TZ).stdout)
    assert [(s["start"], s["end"], s["mode"]) for s in segments] == [
        ("2026-11-24T00:00:00+05:30", "2026-11-24T09:00:00+05:30", "free"),
        ("2026-11-24T09:00:00+05:30", "2026-11-24T10:30:00+05:30", "sync"),
        ("2026-11-24T10:30:00+05:30", "2026-11-25T00:00:00+05:30", "free"),
    ]


@pytest.mark.parametrize(
    "argv", [["ls", "--json", "--all"], ["show", "1", "--json"], ["status", "--json"]]
)
def test_task_listings_speak_the_same_way(focusq: Focusq, argv: list[str]) -> None:
    focusq("add", "write the post", env=TZ)
    focusq("interrupt", "call Sam", env=TZ)
    data = json.loads(focusq(*argv, env=TZ).stdout)
    if argv[0] == "status":  # counts, and the inbox's next release
        assert data["held"] == 1
        assert data["release"] is None or data["release"].endswith("+05:30")
        return
    assert_one_voice(data)
    assert (data[0] if isinstance(data, list) else data)["created_at"].endswith("+05:30")
