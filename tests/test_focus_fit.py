"""A gap before a sync block, and the task that fits in it (pure policy)."""

from __future__ import annotations

from datetime import datetime

from focusq.focus.blocks import make_block
from focusq.focus.policy import Candidate, gap_before_sync, gap_warning, task_that_fits

DAY = [
    make_block("mon-fri", "09:00", "10:00", "sync", "standup"),
    make_block("mon-fri", "10:00", "13:00", "async"),
    make_block("mon-fri", "13:00", "14:00", "sync"),
]


def test_the_gap_says_minutes_time_and_label() -> None:
    gap = gap_before_sync(DAY, datetime(2026, 11, 24, 8, 48), 25)
    assert gap is not None
    assert gap.describe() == "only 12 min before the sync block at 09:00 (standup)"
    unlabelled = gap_before_sync(DAY, datetime(2026, 11, 24, 12, 50), 25)
    assert unlabelled is not None and unlabelled.describe().endswith("at 13:00")
    assert gap_before_sync(DAY, datetime(2026, 11, 24, 11, 0), 25) is None  # room enough
    assert gap_before_sync(DAY, datetime(2026, 11, 24, 9, 30), 25) is None  # in sync time
    assert gap_warning(DAY, datetime(2026, 11, 24, 8, 48), 25) == (
        "only 12 min before the sync block at 09:00 (standup): a short task or a job may fit better"
    )


def test_the_task_that_fits_is_known_to_fit() -> None:
    small = Candidate(1, 1, 10, 100.0)
    medium = Candidate(2, 1, 12, 200.0)
    big = Candidate(3, 2, 90, 50.0)
    unknown = Candidate(4, 2, None, 10.0)
    assert task_that_fits([small, medium, big, unknown], 12) == medium  # the longest that fits
    assert task_that_fits([small, big, unknown], 5) is None  # nothing known to fit
    assert task_that_fits([small, Candidate(5, 2, 8, 300.0)], 12) == Candidate(5, 2, 8, 300.0)
