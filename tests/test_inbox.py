"""What a batch shows (folding, staleness), the inbox's states, and the shell-only flow."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from focusq.focus.batch import Item, fold, item_of
from focusq.focus.blocks import make_block, segment_at
from focusq.focus.policy import Held, next_release, to_deliver
from focusq.paths import Paths

Run = Callable[..., subprocess.CompletedProcess[str]]


def at(hhmm: str) -> float:
    return datetime.fromisoformat(f"2026-11-24T{hhmm}").timestamp()


def job(id: int, task: int, result: str, status: str, *, when: str = "10:00", **kw) -> Item:  # type: ignore[no-untyped-def]
    text = f"#{task} build: {result}" + (" (exit 2)" if result == "failed" else "")
    return Item(
        id, at(when), text, "job", task_id=task, result=result, task_status=status,
        task_title="build", **kw,
    )  # fmt: skip


# -- folding: the state of things now ---------------------------------------------------


def test_a_failure_since_fixed_is_one_line_without_retry() -> None:
    ended = at("11:38")
    items = [
        job(1, 12, "failed", "done", task_ended=ended),
        job(2, 12, "ok", "done", when="11:38", task_ended=ended),
    ]
    [line] = fold(items).lines
    assert line.text == "#12 build: failed, then ok at 11:38"
    assert line.ids == (1, 2) and "retry" not in line.actions and not line.decision


def test_a_failure_running_again_offers_no_retry() -> None:
    [line] = fold([job(1, 12, "failed", "running")]).lines
    assert line.text == "#12 build: failed, running again" and "retry" not in line.actions


def test_a_failure_still_failed_asks_for_a_decision() -> None:
    [line] = fold([job(1, 12, "failed", "failed")]).lines
    assert line.decision and "retry" in line.actions and line.text == "#12 build: failed (exit 2)"


def test_superseded_failures_approved_gates_and_dropped_tasks_are_left_out() -> None:
    items = [
        job(1, 12, "failed", "failed"),
        job(2, 12, "timed_out", "failed", when="10:30"),  # the same job failed again
        Item(3, at("10:05"), "#13 deploy waits for your approval", "gate", task_id=13,
             task_status="queued"),  # approved since
        Item(4, at("10:06"), "added #14 tidy", "quickadd", task_id=14, task_status="dropped"),
        Item(5, at("10:07"), "#15 pull: failed", "job", task_id=15, result="failed",
             task_status="dropped"),
    ]  # fmt: skip
    folded = fold(items)
    assert [line.ids for line in folded.lines] == [(2,)]
    assert folded.left_out == (1, 3, 4, 5)


def test_routine_items_fold() -> None:
    oks = [job(i, 100 + i, "ok", "done") for i in range(1, 11)]
    added = [
        Item(20 + i, at("10:10"), f"added #{30 + i} x", "quickadd", task_id=30 + i,
             task_status="queued")
        for i in range(3)
    ]  # fmt: skip
    texts = [line.text for line in fold([*oks, *added]).lines]
    assert texts == ["10 jobs finished ok", "3 tasks added"]


def test_a_long_day_shows_its_decisions_and_folded_lines() -> None:
    items: list[Item] = []
    n = 0

    def add(**kw) -> None:  # type: ignore[no-untyped-def]
        nonlocal n
        n += 1
        items.append(Item(n, at("09:00") + n * 60, **kw))

    for t in range(20):  # twenty jobs finished ok
        add(text=f"#{t} j: ok", source="job", task_id=t, result="ok", task_status="done")
    for t in range(20, 26):  # six failed and then passed on a retry
        add(text=f"#{t} j: failed", source="job", task_id=t, result="failed", task_status="done")
        add(text=f"#{t} j: ok", source="job", task_id=t, result="ok", task_status="done")
    for t in range(30, 34):  # four quick-adds
        add(text=f"added #{t} x", source="quickadd", task_id=t, task_status="queued")
    add(text="#40 j: failed", source="job", task_id=40, result="failed", task_status="failed")
    add(text="#41 j: failed", source="job", task_id=41, result="failed", task_status="failed")
    add(text="#42 d waits", source="gate", task_id=42, task_status="waiting")
    add(text="#43 e waits", source="gate", task_id=43, task_status="queued")  # approved
    add(text="Sam asked about the invoice")
    add(text="call the bank", urgent=True)
    add(text="lunch order")
    add(text="see [/x] [b]y[/b]")
    assert len(items) == 44
    folded = fold(items)
    assert folded.decisions == 7  # two failures, a gate, four notes (one urgent)
    assert folded.lines[0].text == "call the bank"  # urgent first
    assert len(folded.lines) == 7 + 6 + 2  # decisions, six settled failures, two folds
    assert [line.text for line in folded.lines[-2:]] == ["20 jobs finished ok", "4 tasks added"]


kinds = st.sampled_from(["note", "job", "gate", "quickadd"])
results = st.sampled_from(["ok", "failed", "timed_out", "cancelled", "interrupted"])
statuses = st.sampled_from(
    ["queued", "waiting", "held", "running", "done", "failed", "cancelled", "dropped", None]
)
raw_items = st.lists(
    st.tuples(kinds, st.integers(0, 5), results, statuses, st.integers(0, 240), st.booleans()),
    max_size=40,
)


def _items(raw: list[tuple[str, int, str, str | None, int, bool]]) -> list[Item]:
    # The state now of a task is one state, whichever item names it.
    state = {task: status for _, task, _, status, _, _ in raw}
    return [
        Item(i + 1, at("10:00") + m * 60, f"{kind} {task}", kind, urgent=urgent,
             task_id=None if kind == "note" else task,
             result=result if kind == "job" else None,
             task_status=None if kind == "note" else state[task])
        for i, (kind, task, result, _, m, urgent) in enumerate(raw)
    ]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(raw_items, st.integers(0, 300))
def test_folding_loses_nothing_and_never_offers_a_stale_retry(
    raw: list[tuple[str, int, str, str | None, int, bool]], minute: int
) -> None:
    items = _items(raw)
    folded = fold(items)
    shown = [i for line in folded.lines for i in line.ids]
    # Nothing is lost: every item is on exactly one line or left out as stale.
    assert sorted(shown + list(folded.left_out)) == [i.id for i in items]
    by_id = {i.id: i for i in items}
    for line in folded.lines:
        if "retry" in line.actions:  # only a job that failed and is failed now
            assert all(by_id[i].task_status not in ("done", "running", "queued") for i in line.ids)
            assert all(by_id[i].result not in ("ok", "cancelled") for i in line.ids)
        if "approve" in line.actions:
            assert all(by_id[i].task_status in (None, "waiting") for i in line.ids)
    assert all(by_id[i].task_status != "dropped" for i in shown)
    # During async focus, before the batch interval, only urgent items are shown.
    day = [make_block("mon-fri", "09:30", "12:00", "async")]
    now = at("10:00") + minute * 60
    seg = segment_at(day, datetime.fromtimestamp(now))
    held = [Held(i.id, i.at, i.urgent) for i in items if i.at <= now]
    decision = to_deliver(
        held, now=now, mode=seg.mode, segment_start=seg.start.timestamp(), focusing=True,
        last_delivery=at("10:00"), batch_minutes=90,
    )  # fmt: skip
    shown_now = fold([by_id[i] for i in decision.ids])
    if seg.mode == "async" and now - at("10:00") < 90 * 60:
        assert all(by_id[i].urgent for line in shown_now.lines for i in line.ids)


def test_next_release() -> None:
    day = [
        make_block("mon-fri", "09:30", "12:00", "async"),
        make_block("mon-fri", "12:00", "13:00", "sync"),
    ]
    held = [Held(1, at("10:00")), Held(2, at("10:20"))]

    def when(hhmm: str, focusing: bool, **kw) -> float | None:  # type: ignore[no-untyped-def]
        return next_release(
            held, now=at(hhmm), blocks=day, focusing=focusing, last_delivery=None,
            batch_minutes=kw.pop("minutes", 90), **kw,
        )  # fmt: skip

    assert when("10:30", True) == at("11:30")  # 90 minutes after the first held one
    assert when("10:30", True, minutes=240) == at("12:00")  # the sync block comes first
    assert when("10:30", False, focus_ended=at("10:25")) == at("10:30")  # due now
    assert when("12:30", False) == at("12:30")
    assert next_release([], now=at("10:30"), blocks=day, focusing=True,
                        last_delivery=None, batch_minutes=90) is None  # fmt: skip


# -- the store: each item with its task now ----------------------------------------------


def test_items_come_with_the_state_of_their_task_now(paths: Paths) -> None:
    from focusq.quickadd import parse
    from focusq.store.ops import inbox, jobs, tasks
    from focusq.store.sync import SyncStore
    from tests.engine_helpers import record_run

    now = at("10:00")
    draft = parse(["build"], ["make"], now=now)
    draft.cwd = "/srv"
    with SyncStore(paths.database) as store:
        build = store.run(tasks.add_task(draft, now))
        record_run(store, build, now, now + 60, ok=False, logs=paths.logs)
        store.run(jobs.request(build, "retry", now + 120))
        store.run(inbox.capture("a note", now + 130))
        rows = store.run(inbox.with_tasks(since=0.0))
        assert store.run(inbox.dismiss([rows[1]["id"]], now + 140)) == [rows[1]["id"]]
        assert store.run(inbox.deliver([r["id"] for r in rows], now + 150, "x")) == [rows[0]["id"]]
        assert store.run(inbox.inbox(held_only=True)) == []
    failure = item_of(rows[0])
    assert (failure.source, failure.result, failure.task_status) == ("job", "failed", "queued")
    assert "retry" not in fold([failure]).lines[0].actions  # queued again: no second retry


# -- the shell ------------------------------------------------------------------------------


def test_inbox_json_gives_each_item_a_state(focusq: Run, paths: Paths) -> None:
    import json

    focusq("add", "write the post")
    focusq("focus", "1")
    for text in ("a", "b", "c"):
        focusq("interrupt", text)
    focusq("interrupt", "--urgent", "prod is down")
    with sqlite3.connect(paths.database) as con:
        con.execute("UPDATE interruptions SET delivered_at = at, batch = 1 WHERE id = 2")
        con.execute("UPDATE interruptions SET dismissed_at = at WHERE id = 3")
    # --all: without it the inbox lists what came since midnight, which a capture at 23:59
    # is not a moment later.
    states = [i["state"] for i in json.loads(focusq("inbox", "--all", "--json").stdout)]
    assert states == ["held", "delivered", "dismissed", "due"]
    text = focusq("inbox", "--all").stdout.splitlines()
    # "held" is a task's state: the listing says an item is kept "for later".
    assert "for later" in text[0] and "batch 1" in text[1] and "dismissed" in text[2]
    assert "due" in text[3] and "for later" not in text[3]  # an urgent item is never kept back
    assert not any("held" in line for line in text)


def test_an_item_held_since_an_earlier_day_stays_in_the_inbox(focusq: Run, paths: Paths) -> None:
    focusq("add", "write the post")
    focusq("focus", "1")
    focusq("interrupt", "Sam asked about the invoice")
    focusq("interrupt", "seen the day before")
    two_days = 2 * 86400
    with sqlite3.connect(paths.database) as con:  # both captured two days ago
        con.execute("UPDATE interruptions SET at = at - ?", (two_days,))
        con.execute("UPDATE interruptions SET delivered_at = at, batch = 1 WHERE id = 2")
    items = json.loads(focusq("inbox", "--json").stdout)
    # Never delivered: still to see, whatever its day (due by now); delivered: yesterday's.
    assert [(i["text"], i["state"]) for i in items] == [("Sam asked about the invoice", "due")]
    [line] = focusq("inbox").stdout.splitlines()
    # From an earlier day: the line says which.
    day = datetime.fromisoformat(items[0]["at"]).astimezone().strftime("%b %d")
    assert "Sam asked about the invoice" in line and day in line
    assert focusq("status", "--short").stdout.strip().endswith("· 1 due")


def test_status_shows_the_held_count_and_the_next_release(focusq: Run) -> None:
    focusq("add", "write the post")
    focusq("focus", "1")
    focusq("interrupt", "Sam asked about the invoice")
    focusq("interrupt", "lunch")
    short = focusq("status", "--short").stdout.strip()
    assert short.endswith("· 2 in the inbox till " + short[-5:]) and short[-3] == ":"
    focusq("focus", "--stop")  # focus ended: due now (a TUI would show them)
    assert focusq("status", "--short").stdout.strip().endswith("· 2 due")


def _fake_notify_send(tmp_path: Path) -> tuple[dict[str, str], Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "notify.log"
    script = bin_dir / "notify-send"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> "{log}"\n')
    script.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}, log


def test_an_urgent_capture_without_a_tui_rings_and_notifies(tmp_path: Path) -> None:
    import pty

    env, log = _fake_notify_send(tmp_path)
    main, tty = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "focusq", "interrupt", "--urgent", "see [/x] [b]y[/b]"],
            stdout=subprocess.PIPE, stderr=tty, env={**os.environ, **env}, timeout=60,
        )  # fmt: skip
        os.set_blocking(main, False)
        rang = os.read(main, 1024)
    finally:
        os.close(main)
        os.close(tty)
    assert done.returncode == 0 and b"\a" in rang
    args = log.read_text().splitlines()
    assert args[-1] == "see [/x] [b]y[/b]" and "focusq: urgent" in args
    subprocess.run(
        [sys.executable, "-m", "focusq", "interrupt", "not urgent"],
        env={**os.environ, **env}, check=True, timeout=60, capture_output=True,
    )  # fmt: skip
    assert len(log.read_text().splitlines()) == len(args)  # one notification, for the urgent one


def test_an_urgent_capture_while_a_tui_is_open_stays_quiet(tmp_path: Path, paths: Paths) -> None:
    from focusq.tui.focus_flow import hold_presence, release_presence

    env, log = _fake_notify_send(tmp_path)
    hold_presence(paths.home)
    try:
        out = subprocess.run(
            [sys.executable, "-m", "focusq", "interrupt", "--urgent", "prod is down"],
            env={**os.environ, **env}, check=True, timeout=60, capture_output=True,
        )  # fmt: skip
    finally:
        release_presence(paths.home)
    assert b"\a" not in out.stderr and not log.exists()
