"""The review against a real database: what a day's log reads, the answers, the close."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import date, datetime
from typing import Any

import pytest

from focusq.errors import UserError
from focusq.paths import Paths
from focusq.quickadd import parse
from focusq.review.day import DayLog, day_window, review_day
from focusq.review.figures import figures
from focusq.states import TaskStatus
from focusq.store.ops import base, focus, jobs, tasks
from focusq.store.ops import review as review_ops
from focusq.store.sync import SyncStore
from tests.engine_helpers import record_run

DAY = date(2026, 11, 24)
START, END = day_window(DAY)


def at(hour: int, minute: int = 0, day: int = 24) -> float:
    return datetime(2026, 11, day, hour, minute).timestamp()


@pytest.fixture
def store(paths: Paths):  # type: ignore[no-untyped-def]
    with SyncStore(paths.database) as s:
        yield s


def add(store: SyncStore, text: str, command: list[str] | None = None) -> int:
    draft = parse([text], command, now=at(8, day=23))
    if command is not None:
        draft.cwd = "/tmp"
    return int(store.run(tasks.add_task(draft, at(8, day=23))))


def review_of(store: SyncStore, now: float = at(18)) -> Any:
    rows = store.run(review_ops.day_log(START, END, DAY.isoformat()))
    return figures(DayLog.of(DAY, rows, [], now))


def kinds(db: str, task_id: int) -> list[str]:
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT kind FROM events WHERE task_id = ? ORDER BY id", (task_id,))
        return [r[0] for r in rows]


def test_a_run_across_midnight_counts_from_midnight_and_yesterday_stays_out(
    store: SyncStore,
) -> None:
    yesterday = add(store, "yesterday's build", ["make"])
    night = add(store, "night pull", ["./pull"])
    record_run(store, yesterday, at(20, day=23), at(21, day=23), ok=True)
    record_run(store, night, at(23, 50, day=23), at(0, 10), ok=True)
    review = review_of(store)
    assert [t.id for t in review.done] == [night]
    assert review.jobs.runs == 1
    assert review.jobs.job_seconds == 600


def test_a_focus_session_across_midnight_counts_from_midnight(store: SyncStore) -> None:
    post = add(store, "write the post")
    store.run(focus.start_focus(post, at(23, 30, day=23), 50, switch=False))
    store.run(focus.pause_focus(at(23, 40, day=23), resume=False))
    store.run(focus.pause_focus(at(0, 5), resume=True))
    store.run(focus.stop_focus(at(0, 20), done=True))
    review = review_of(store)
    assert review.focus.seconds == 15 * 60
    assert review.done[0].id == post


def test_failures_come_with_their_tail_and_notes_from_any_day(store: SyncStore) -> None:
    deploy = add(store, "deploy", ["./deploy"])
    record_run(store, deploy, at(9), at(9, 5), ok=False, tail="ssh: connect refused\n")
    store.run(review_ops.note_failure(deploy, 1, "VPN was down", at(9, 10)))
    with pytest.raises(UserError, match="empty"):
        store.run(review_ops.note_failure(deploy, 1, "   ", at(9, 11)))
    failure = review_of(store).jobs.failures[0]
    assert failure.tail == "ssh: connect refused\n"
    assert [n.text for n in failure.notes] == ["VPN was down"]
    # A later day's failure of the same task shows the earlier note too.
    store.run(jobs.request(deploy, "retry", at(9, day=25)))
    record_run(store, deploy, at(10, day=25), at(10, 1, day=25), ok=False)
    start, end = day_window(date(2026, 11, 25))
    rows = store.run(review_ops.day_log(start, end, "2026-11-25"))
    later = figures(DayLog.of(date(2026, 11, 25), rows, [], at(18, day=25)))
    assert [n.text for n in later.jobs.failures[0].notes] == ["VPN was down"]


def test_answers_carry_backlog_and_drop(store: SyncStore) -> None:
    post = add(store, "write the post")
    idea = add(store, "an idea")
    deploy = add(store, "deploy", ["./deploy"])
    held = add(store, "reindex", ["./reindex"])
    store.run(jobs.request(held, "hold", at(9)))
    record_run(store, deploy, at(9), at(9, 5), ok=False)
    assert [u.id for u in review_of(store).unfinished] == [post, idea, deploy, held]
    tomorrow = at(9, day=25)
    day = DAY.isoformat()

    carried = store.run(review_ops.decide(deploy, "carry", day, at(18), tomorrow))
    assert (carried["status"], carried["at"], carried["result"]) == ("queued", tomorrow, None)
    released = store.run(review_ops.decide(held, "carry", day, at(18), tomorrow))
    assert (released["status"], released["at"]) == ("queued", tomorrow)
    backlog = store.run(review_ops.decide(idea, "backlog", day, at(18), tomorrow))
    assert (backlog["status"], backlog["tags"]) == ("held", ["backlog"])
    dropped = store.run(review_ops.decide(post, "drop", day, at(18), tomorrow))
    assert dropped["status"] == "dropped"

    review = review_of(store)
    answers = {u.id: (u.status, u.answer) for u in review.unfinished}
    assert answers == {
        post: ("dropped", "drop"),
        idea: ("held", "backlog"),
        deploy: ("queued", "carry"),
        held: ("queued", "carry"),
    }
    assert kinds(store.path, post)[-2:] == ["status", "reviewed"]

    # A change of mind: the dropped post is carried after all.
    again = store.run(review_ops.decide(post, "carry", day, at(18, 5), tomorrow))
    assert (again["status"], again["ended_at"]) == ("queued", None)
    assert {u.id: u.answer for u in review_of(store).unfinished}[post] == "carry"

    # The backlog is not asked about again the next day; releasing takes it out.
    start, end = day_window(date(2026, 11, 25))
    next_day = store.run(review_ops.day_log(start, end, "2026-11-25"))
    assert idea not in next_day["unfinished"] and post in next_day["unfinished"]
    store.run(jobs.request(idea, "release", at(9, day=25)))
    assert store.run(tasks.get_task(idea))["tags"] == []


def test_only_unfinished_work_gets_an_answer(store: SyncStore) -> None:
    post = add(store, "write the post")
    store.run(tasks.transition(post, {TaskStatus.QUEUED}, TaskStatus.DONE, at(10)))
    with pytest.raises(UserError, match="only unfinished work"):
        store.run(review_ops.decide(post, "carry", DAY.isoformat(), at(18), at(9, day=25)))
    with pytest.raises(UserError, match="not an answer"):
        store.run(
            review_ops.decide(add(store, "x"), "later", DAY.isoformat(), at(18), at(9, day=25))
        )


def test_closing_a_day_is_recorded_once_and_shown_on_reopening(store: SyncStore) -> None:
    assert review_of(store).closed_at is None
    assert store.run(review_ops.close_day(DAY.isoformat(), at(18))) == at(18)
    assert store.run(review_ops.close_day(DAY.isoformat(), at(19))) == at(18)
    assert review_of(store).closed_at == at(18)
    with sqlite3.connect(store.path) as con:
        rows = con.execute("SELECT payload FROM events WHERE kind = 'day_closed'").fetchall()
    assert [json.loads(r[0]) for r in rows] == [{"day": "2026-11-24"}]


def test_the_review_reads_through_its_indexes(store: SyncStore) -> None:
    """A year of history must not be scanned: every lookup of the review uses an index."""
    with sqlite3.connect(store.path) as con:
        plans = [
            " | ".join(r[3] for r in con.execute(f"EXPLAIN QUERY PLAN {sql}", params))
            for sql, params in _review_queries()
        ]
    for plan in plans:
        scans = [w for w in plan.split("SCAN ")[1:] if not w.startswith("json_each")]
        assert not scans, plan


def _review_queries() -> list[tuple[str, tuple[Any, ...]]]:
    """The statements ``day_log`` runs, taken from the operation itself."""
    op = review_ops.day_log(START, END, DAY.isoformat())
    out: list[tuple[str, tuple[Any, ...]]] = []
    query = op.send(None)
    try:
        while True:
            if not query[0].startswith("BEGIN"):
                out.append((query[0], tuple(query[1])))
            query = op.send(_empty(query[0]))
    except StopIteration:
        pass
    assert any("failure_note" in sql for sql, _ in out) and any(
        "FROM tasks" in sql for sql, _ in out
    )
    return out


def _empty(sql: str) -> list[Any]:
    """No rows, except one failed run and one unfinished task, so every later query is asked."""
    if "FROM runs" in sql and "tail" in sql:
        return [{"task_id": 1, "attempt": 1, "result": "failed", "exit_code": 1, "tail": ""}]
    if "SELECT t.id FROM tasks" in sql:
        return [(2,)]
    return []


def test_cli_review_json_markdown_and_close(focusq, store: SyncStore) -> None:  # type: ignore[no-untyped-def]
    # A day of its own clock, long past: work done "now" falls outside the default review
    # between 00:00 and 04:00 (it is of the day before then), and "today" cannot be closed
    # until the day turns at 04:00.
    post = add(store, "write the post")
    reply = add(store, "reply to Sam")
    store.run(tasks.transition(post, [TaskStatus.QUEUED], TaskStatus.DONE, at(10)))
    day = DAY.isoformat()
    data = json.loads(focusq("review", "--date", day, "--json").stdout)
    assert data["day"] == day
    assert [t["id"] for t in data["done"]] == [post]
    assert [u["id"] for u in data["unfinished"]] == [reply]
    assert data["closed_at"] is None
    markdown = focusq("review", "--date", day, "--markdown").stdout
    assert markdown.startswith("# Review of ") and "<svg" in markdown
    text = focusq("review", "--date", day, "--close", "--force").stdout  # no answer yet
    assert "Closed at" in text and f"#{reply}" in text
    assert json.loads(focusq("review", "--date", day, "--json").stdout)["closed_at"] is not None
    # Without --date the review is of the day it is (the day before, until 04:00).
    before = review_day(time.time()).isoformat()
    default = json.loads(focusq("review", "--json").stdout)["day"]
    assert default in (before, review_day(time.time()).isoformat())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["review", "--date", "2026-13-01"], "write the day as YYYY-MM-DD"),
        (["review", "--json", "--markdown"], "not allowed with argument"),
    ],
)
def test_cli_review_bad_input_is_one_line(focusq, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    result = focusq(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_gated_job_carried_after_a_drop_waits_for_approval_again(store: SyncStore) -> None:
    deploy = add(store, "deploy gate:approve", ["./deploy"])
    day, tomorrow = DAY.isoformat(), at(9, day=25)
    assert store.run(tasks.get_task(deploy))["status"] == "waiting"
    store.run(review_ops.decide(deploy, "drop", day, at(18), tomorrow))
    again = store.run(review_ops.decide(deploy, "carry", day, at(18, 1), tomorrow))
    assert (again["status"], again["at"]) == ("waiting", tomorrow)
    store.run(review_ops.decide(deploy, "backlog", day, at(18, 2), tomorrow))
    assert (
        store.run(review_ops.decide(deploy, "carry", day, at(18, 3), tomorrow))["status"]
        == "waiting"
    )


def test_carrying_never_brings_a_later_start_forward(store: SyncStore) -> None:
    later = at(9, day=30)
    job = add(store, f"monthly report at:{datetime.fromtimestamp(later):%Y-%m-%dT%H:%M}", ["./r"])
    store.run(jobs.request(job, "hold", at(9)))
    carried = store.run(review_ops.decide(job, "carry", DAY.isoformat(), at(18), at(9, day=25)))
    assert (carried["status"], carried["at"]) == ("queued", later)


def test_a_running_job_or_a_closed_day_takes_no_answer(store: SyncStore) -> None:
    job = add(store, "build", ["make"])
    store.run(base.apply([jobs.claim(job, at(9), "/tmp")]))
    with pytest.raises(UserError, match="only unfinished work"):
        store.run(review_ops.decide(job, "drop", DAY.isoformat(), at(18), at(9, day=25)))
    post = add(store, "write the post")
    store.run(review_ops.close_day(DAY.isoformat(), at(18)))
    with pytest.raises(UserError, match="is closed"):
        store.run(review_ops.decide(post, "drop", DAY.isoformat(), at(18, 1), at(9, day=25)))
    assert store.run(tasks.get_task(post))["status"] == "queued"


def test_dropping_the_task_in_focus_ends_its_session(store: SyncStore) -> None:
    post = add(store, "write the post")
    store.run(focus.start_focus(post, at(17), 50, switch=False))
    store.run(review_ops.decide(post, "drop", DAY.isoformat(), at(17, 30), at(9, day=25)))
    assert store.run(focus.current_focus()) is None
    review = review_of(store)
    assert review.focus.seconds == 30 * 60
    assert review.done == []


def test_a_focus_done_on_a_task_dropped_meanwhile_writes_no_done(store: SyncStore) -> None:
    post = add(store, "write the post")
    store.run(focus.start_focus(post, at(17), 50, switch=False))
    store.run(tasks.transition(post, {TaskStatus.QUEUED}, TaskStatus.DROPPED, at(17, 10)))
    store.run(focus.stop_focus(at(17, 20), done=True))
    assert store.run(tasks.get_task(post))["status"] == "dropped"
    assert review_of(store).done == []


def test_away_time_and_offers_to_switch_back_as_written_by_the_store(store: SyncStore) -> None:
    post, rfc = add(store, "write the post"), add(store, "read the RFC")
    build = add(store, "build", ["make"])
    store.run(focus.start_focus(post, at(10), 50, switch=False))
    # Back at 10:40 after 20 quiet minutes, answered at 10:42: 10:20-10:40 is not focus.
    store.run(focus.discount_focus(20 * 60, at(10, 42), until=at(10, 40)))
    store.run(focus.record_switch(post, rfc, build, at(10, 50), accepted=True))
    store.run(focus.start_focus(rfc, at(10, 50), 50, switch=True))
    store.run(focus.record_switch(rfc, post, build, at(11), accepted=False, back=True))
    store.run(focus.stop_focus(at(11, 10), done=False))
    review = review_of(store)
    assert review.focus.seconds == (30 + 20) * 60
    assert review.focus.longest_seconds == 20 * 60
    assert [(s.start, s.end) for s in review.timeline.focus] == [
        (at(10), at(10, 20)),
        (at(10, 40), at(10, 50)),
        (at(10, 50), at(11, 10)),
    ]
    s = review.switches
    assert (s.offered, s.accepted, s.declined, s.task_switches) == (2, 1, 1, 1)


def test_notes_show_for_unfinished_tasks_too(store: SyncStore) -> None:
    deploy = add(store, "deploy", ["./deploy"])
    record_run(store, deploy, at(9, day=20), at(9, 5, day=20), ok=False)
    store.run(review_ops.note_failure(deploy, 1, "needs the VPN", at(9, 10, day=20)))
    # Retried, then held: open work that no failure of this day names (an older failure
    # left failed is only counted).
    store.run(jobs.request(deploy, "retry", at(9, 20, day=20)))
    store.run(jobs.request(deploy, "hold", at(9, 21, day=20)))
    review = review_of(store)
    assert review.jobs.failures == []
    assert [(u.id, [n.text for n in u.notes]) for u in review.unfinished] == [
        (deploy, ["needs the VPN"])
    ]


def test_older_failures_are_counted_not_listed(store: SyncStore) -> None:
    """A day that had one failure lists that one, and folds what earlier days left failed."""
    from focusq.review.export import to_markdown, to_text

    today = add(store, "today's build", ["make"])
    old = [add(store, f"old build {n}", ["make"]) for n in range(2)]
    for task_id in old:
        record_run(store, task_id, at(9, day=20), at(9, 5, day=20), ok=False)
    record_run(store, today, at(10), at(10, 5), ok=False)
    review = review_of(store)
    assert [u.id for u in review.unfinished] == [today]
    assert review.older_failures == 2
    assert "2 older failures: focusq clean archives them" in to_text(review, 100)
    assert "2 older failures: focusq clean archives them." in to_markdown(review)
