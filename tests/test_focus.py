"""The focus slot and interruption batching: pure policy with a fake clock, and the CLI."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from focusq.focus.blocks import make_block, segment_at
from focusq.focus.policy import Held, gap_warning, to_deliver

DAY = [
    make_block("mon-fri", "09:00", "09:30", "sync", "standup"),
    make_block("mon-fri", "09:30", "12:00", "async", "deep work"),
    make_block("mon-fri", "14:00", "15:00", "sync", "meetings"),
]


def at(hhmm: str) -> float:
    return datetime.fromisoformat(f"2026-11-24T{hhmm}").timestamp()


def decide(held: list[Held], hhmm: str, *, focusing: bool, last: float | None = None):  # type: ignore[no-untyped-def]
    moment = datetime.fromisoformat(f"2026-11-24T{hhmm}")
    segment = segment_at(DAY, moment)
    return to_deliver(
        held,
        now=moment.timestamp(),
        mode=segment.mode,
        segment_start=segment.start.timestamp(),
        focusing=focusing,
        last_delivery=last,
        batch_minutes=90,
    )


def test_a_day_of_interruptions() -> None:
    # 09:10, standup (sync), no focus: shows at once.
    assert decide([Held(1, at("09:10"))], "09:10", focusing=False).reason == "at once"
    # 09:40, deep work (async): held, focused or not.
    held = [Held(2, at("09:40")), Held(3, at("10:05"))]
    assert decide(held, "10:05", focusing=True).ids == ()
    assert decide(held, "10:05", focusing=False).ids == ()
    # An urgent one breaks through alone.
    urgent = [*held, Held(4, at("10:20"), urgent=True)]
    assert decide(urgent, "10:20", focusing=True).ids == (4,)
    # 90 minutes after the first held one, the batch goes out.
    late = decide(held, "11:10", focusing=True)
    assert (late.ids, late.reason) == ((2, 3), "90 min since the last batch")
    # After a delivery at 11:10 the clock restarts.
    assert decide([Held(5, at("11:20"))], "11:50", focusing=True, last=at("11:10")).ids == ()
    # Lunch is free time: without focus, at once; while focusing, held.
    assert decide([Held(6, at("12:30"))], "12:30", focusing=False).ids == (6,)
    assert decide([Held(6, at("12:30"))], "12:30", focusing=True).ids == ()
    # The 14:00 sync block is a boundary even while focusing.
    start = decide([Held(6, at("12:30"))], "14:00", focusing=True)
    assert (start.ids, start.reason) == ((6,), "a sync block started")


def test_ending_focus_in_an_async_block_releases_the_held_batch() -> None:
    held = [Held(1, at("10:05")), Held(2, at("10:20"))]
    moment = datetime.fromisoformat("2026-11-24T10:31")
    segment = segment_at(DAY, moment)
    assert segment.mode == "async"

    def decide_at(hhmm: str, **kw):  # type: ignore[no-untyped-def]
        return to_deliver(
            held,
            now=at(hhmm),
            mode="async",
            segment_start=segment.start.timestamp(),
            last_delivery=None,
            batch_minutes=90,
            **kw,
        )

    released = decide_at("10:31", focusing=False, focus_ended=at("10:30"))
    assert (released.ids, released.reason) == ((1, 2), "the focus session ended")
    # Held from before a session that ended long ago, when no TUI was open: still due.
    assert decide_at("11:00", focusing=False, focus_ended=at("10:30")).ids == (1, 2)
    # Captured after the session ended, in async time: held for the next boundary.
    later = [Held(3, at("10:40"))]
    assert (
        to_deliver(
            later,
            now=at("10:45"),
            mode="async",
            segment_start=segment.start.timestamp(),
            focusing=False,
            last_delivery=at("10:31"),
            batch_minutes=90,
            focus_ended=at("10:30"),
        ).ids
        == ()
    )
    # While a new session runs, the end of the last one releases nothing.
    assert decide_at("10:50", focusing=True, focus_ended=at("10:30")).ids == ()


def test_the_gap_guard() -> None:
    warning = gap_warning(DAY, datetime(2026, 11, 24, 13, 45), 25)
    assert warning is not None and "15 min before the sync block at 14:00 (meetings)" in warning
    assert gap_warning(DAY, datetime(2026, 11, 24, 13, 0), 25) is None
    assert gap_warning(DAY, datetime(2026, 11, 24, 9, 10), 25) is None  # already in sync time
    assert gap_warning([], datetime(2026, 11, 24, 13, 45), 25) is None


items = st.lists(
    st.tuples(st.integers(0, 600), st.booleans()), min_size=1, max_size=30, unique_by=lambda x: x[0]
)


@settings(max_examples=200, deadline=None)
@given(
    items,
    st.integers(0, 600),
    st.booleans(),
    st.sampled_from(["sync", "async", "free"]),
    st.none() | st.integers(0, 600),
)
@example([(0, False), (40, False)], 30, False, "async", 20)  # focus ended in async time
def test_nothing_leaks_into_async_focus_and_nothing_is_lost(
    raw: list[tuple[int, bool]], minute: int, focusing: bool, mode: str, ended: int | None
) -> None:
    base = at("09:30")
    held = [Held(i, base + m * 60, u) for i, (m, u) in enumerate(raw) if m <= minute]
    if not held:
        return
    now = base + minute * 60
    decision = to_deliver(
        held,
        now=now,
        mode=mode,
        segment_start=base,
        focusing=focusing,
        last_delivery=None,
        batch_minutes=90,
        focus_ended=None if ended is None or ended > minute else base + ended * 60,
    )
    delivered = set(decision.ids)
    assert delivered <= {h.id for h in held}  # never delivers what it was not given
    oldest = min(h.at for h in held)
    held_through = (
        ended is not None and ended <= minute and any(h.at <= base + ended * 60 for h in held)
    )
    if focusing and now - oldest < 90 * 60 and mode != "sync":
        # Focus: only urgent ones get through.
        assert all(h.urgent for h in held if h.id in delivered)
    if mode == "async" and now - oldest < 90 * 60 and not held_through:
        # Async time, nothing held through a focus session: only urgent ones.
        assert all(h.urgent for h in held if h.id in delivered)
    if not focusing and (mode != "async" or held_through):
        # Sync or free time, or a focus session ended: everything goes out.
        assert delivered == {h.id for h in held}
    assert bool(delivered) == bool(decision.reason)


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "focusq", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "FOCUSQ_HOME": str(home)},
        timeout=60,
    )


def test_focus_bad_input(focusq_home: Path) -> None:
    assert run(focusq_home, "add", "--", "make").returncode == 0
    assert run(focusq_home, "add", "write").returncode == 0
    job = run(focusq_home, "focus", "1")
    assert job.returncode == 2 and "only creative tasks" in job.stderr
    assert run(focusq_home, "done", "2").returncode == 0
    finished = run(focusq_home, "focus", "2")
    assert finished.returncode == 2 and "is done" in finished.stderr
    empty = run(focusq_home, "interrupt", " ")
    assert empty.returncode == 2 and "empty" in empty.stderr
    nothing = run(focusq_home, "focus", "--stop")
    assert nothing.returncode == 2 and "nothing is in focus" in nothing.stderr


def test_two_focus_starts_racing_one_wins(focusq_home: Path) -> None:
    import os

    run(focusq_home, "add", "first")
    run(focusq_home, "add", "second")
    env = {**os.environ, "FOCUSQ_HOME": str(focusq_home)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "focusq", "focus", str(n)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (1, 2)
    ]
    results = [(p.wait(timeout=60), p.communicate()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2]
    loser = next(err for code, (_, err) in results if code == 2)
    assert "is in focus" in loser
    status = run(focusq_home, "status", "--json")
    assert '"focus": 1' in status.stdout or '"focus": 2' in status.stdout


def test_focus_session_lifecycle_and_inbox(focusq_home: Path) -> None:
    run(focusq_home, "add", "write the post")
    assert run(focusq_home, "focus", "1", "--minutes", "30").stdout == (
        "focus on #1 write the post for 30 min\n"
    )
    assert "of 30m" in run(focusq_home, "status", "--short").stdout
    assert run(focusq_home, "focus", "--pause").returncode == 0
    assert "(paused)" in run(focusq_home, "focus").stdout
    assert run(focusq_home, "focus", "--resume").returncode == 0
    run(focusq_home, "interrupt", "Sam asked about the invoice")
    run(focusq_home, "interrupt", "--urgent", "prod is down")
    inbox = run(focusq_home, "inbox", "--all").stdout.splitlines()  # not only since midnight
    assert len(inbox) == 2 and "for later" in inbox[0] and "!" in inbox[1]  # never "held"
    assert run(focusq_home, "focus", "--done").returncode == 0
    assert run(focusq_home, "show", "1", "--json").stdout.count('"status": "done"') == 1
    assert run(focusq_home, "status", "--short").stdout.startswith("no focus")


@pytest.mark.parametrize("flag", ["--stop", "--done"])
def test_stopping_is_recorded_as_an_event(focusq_home: Path, flag: str) -> None:
    import sqlite3

    run(focusq_home, "add", "write")
    run(focusq_home, "focus", "1")
    run(focusq_home, "focus", flag)
    with sqlite3.connect(focusq_home / "focusq.db") as con:
        kinds = [r[0] for r in con.execute("SELECT payload FROM events WHERE kind = 'focus'")]
    assert len(kinds) == 2 and '"action": "end"' in kinds[1]


def test_pick_switch_prefers_priority_then_fit_then_age() -> None:
    from focusq.focus.policy import Candidate, pick_switch

    short = Candidate(1, 1, 20, 100.0)
    long = Candidate(2, 1, 120, 50.0)
    urgent = Candidate(3, 2, 300, 200.0)
    assert pick_switch([short, long], 30) == short  # the long one does not fit
    assert pick_switch([short, long], 180) == long  # both fit: the longer use of the time
    assert pick_switch([short, long, urgent], 30) == urgent  # priority first
    assert pick_switch([], 30) is None
