"""The store: operations on a real SQLite file, through both drivers."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from focusq.errors import DatabaseError, UserError
from focusq.models import Task
from focusq.paths import Paths
from focusq.quickadd import parse
from focusq.states import TaskStatus
from focusq.store.aio import Store
from focusq.store.ops import inbox, listing, tasks
from focusq.store.schema import APPLICATION_ID, LATEST
from focusq.store.sync import SyncStore

NOW = 1_795_500_000.0


def draft(text: str, command: list[str] | None = None):  # type: ignore[no-untyped-def]
    d = parse([text], command, now=NOW)
    if command is not None:
        d.cwd = "/tmp"
    return d


@pytest.fixture
def store(paths: Paths):  # type: ignore[no-untyped-def]
    with SyncStore(paths.database) as s:
        yield s


def events(db: str, task_id: int) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as con:
        return con.execute(
            "SELECT kind, payload FROM events WHERE task_id = ? ORDER BY id", (task_id,)
        ).fetchall()


def test_a_new_database_is_marked_versioned_and_in_wal_mode(store: SyncStore) -> None:
    con = sqlite3.connect(store.path)
    assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert con.execute("PRAGMA user_version").fetchone()[0] == LATEST
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_add_and_read_back_a_full_record(store: SyncStore) -> None:
    first = store.run(tasks.add_task(draft("write +blog pri:H est:1h"), NOW))
    second = store.run(tasks.add_task(draft(f"build after:{first} lock:a", ["make"]), NOW + 1))
    record = store.run(tasks.get_task(second))
    task = Task.model_validate(record)
    assert task.after == [first]
    assert task.locks == ["a"]
    assert task.command == ["make"]
    assert task.status is TaskStatus.QUEUED
    assert store.run(tasks.get_task(first))["tags"] == ["blog"]
    assert [k for k, _ in events(store.path, second)] == ["added"]


def test_a_cancel_asked_as_a_run_ends_wins_over_its_retry(store: SyncStore) -> None:
    """The cancel is committed after the job exited and before the worker wrote its end
    (which would have queued a retry): the task ends cancelled, its failed run kept."""
    from focusq.store.ops import jobs
    from focusq.store.ops.base import apply

    task_id = store.run(tasks.add_task(draft("flaky retry:2", ["false"]), NOW))
    [claim] = store.run(apply([jobs.claim(task_id, NOW, "/tmp")]))
    store.run(jobs.request(task_id, "cancel", NOW + 1))  # left for the worker: it runs
    with sqlite3.connect(store.path) as con:
        assert con.execute("SELECT intent FROM tasks").fetchall() == [("cancel",)]
    retry = jobs.finish(
        task_id, claim["run_id"], NOW + 2, result="failed", status=TaskStatus.QUEUED, exit_code=1
    )
    assert store.run(apply([retry])) == [True]
    task = store.run(tasks.get_task(task_id))
    assert (task["status"], task["result"]) == ("cancelled", "cancelled")
    assert [r["result"] for r in store.run(jobs.runs_of(task_id))] == ["failed"]


def test_gate_tasks_start_waiting(store: SyncStore) -> None:
    task_id = store.run(tasks.add_task(draft("deploy gate:approve", ["./deploy"]), NOW))
    assert store.run(tasks.get_task(task_id))["status"] == "waiting"


def test_a_queued_job_gated_by_an_edit_waits_for_approval(store: SyncStore) -> None:
    queued = store.run(tasks.add_task(draft("deploy", ["./deploy"]), NOW))
    held = store.run(tasks.add_task(draft("later", ["./later"]), NOW, held=True))
    for task_id in (queued, held):
        store.run(tasks.edit_task(task_id, parse(["gate:approve"], now=NOW, editing=True), NOW))
    assert store.run(tasks.get_task(queued))["status"] == "waiting"
    assert store.run(tasks.get_task(held))["status"] == "held"  # release: then it waits
    assert [i["text"] for i in store.run(inbox.inbox())] == ["#1 deploy waits for your approval"]


def test_after_a_missing_task_writes_nothing(store: SyncStore) -> None:
    with pytest.raises(UserError, match="there is no task 42"):
        store.run(tasks.add_task(draft("x after:42"), NOW))
    assert store.run(tasks.list_tasks()) == []
    with sqlite3.connect(store.path) as con:
        assert con.execute("SELECT count(*) FROM events").fetchone()[0] == 0


def test_edit_refuses_a_cycle_and_keeps_the_old_deps(store: SyncStore) -> None:
    a = store.run(tasks.add_task(draft("a"), NOW))
    b = store.run(tasks.add_task(draft(f"b after:{a}"), NOW))
    c = store.run(tasks.add_task(draft(f"c after:{b}"), NOW))
    with pytest.raises(UserError, match="cycle"):
        store.run(tasks.edit_task(a, parse([f"after:{c}"], now=NOW, editing=True), NOW))
    with pytest.raises(UserError, match="itself"):
        store.run(tasks.edit_task(a, parse([f"after:{a}"], now=NOW, editing=True), NOW))
    assert store.run(tasks.get_task(a))["after"] == []
    assert [k for k, _ in events(store.path, a)] == ["added"]


def test_edit_changes_only_what_is_given(store: SyncStore) -> None:
    task_id = store.run(tasks.add_task(draft("write +blog +draft project:site"), NOW))
    new = store.run(
        tasks.edit_task(task_id, parse(["-draft +final pri:L"], now=NOW, editing=True), NOW + 5)
    )
    assert new["title"] == "write"
    assert new["tags"] == ["blog", "final"]
    assert new["project"] == "site"
    assert new["priority"] == "L"
    kinds = [k for k, _ in events(store.path, task_id)]
    assert kinds == ["added", "edited"]


def test_transition_is_guarded_and_logged(store: SyncStore) -> None:
    task_id = store.run(tasks.add_task(draft("write"), NOW))
    done = store.run(tasks.transition(task_id, {TaskStatus.QUEUED}, TaskStatus.DONE, NOW + 9))
    assert done["status"] == "done"
    assert done["ended_at"] == NOW + 9
    with pytest.raises(UserError, match="already done"):
        store.run(tasks.transition(task_id, {TaskStatus.QUEUED}, TaskStatus.DONE, NOW + 10))
    assert [k for k, _ in events(store.path, task_id)] == ["added", "status"]


def test_notes_append(store: SyncStore) -> None:
    task_id = store.run(tasks.add_task(draft("write"), NOW))
    store.run(tasks.add_note(task_id, "first", NOW))
    record = store.run(tasks.add_note(task_id, "second", NOW))
    assert record["note"] == "first\nsecond"
    with pytest.raises(UserError, match="empty"):
        store.run(tasks.add_note(task_id, "  ", NOW))


def test_list_filters_and_orders_by_priority_then_age(store: SyncStore) -> None:
    low = store.run(tasks.add_task(draft("low pri:L +x"), NOW))
    mid = store.run(tasks.add_task(draft("mid"), NOW))
    high = store.run(tasks.add_task(draft("high pri:H +x"), NOW))
    job = store.run(tasks.add_task(draft("job", ["true"]), NOW))
    assert [r["id"] for r in store.run(tasks.list_tasks())] == [high, mid, job, low]
    assert [r["id"] for r in store.run(tasks.list_tasks(tag="x"))] == [high, low]
    assert [r["id"] for r in store.run(tasks.list_tasks(kind="mechanical"))] == [job]
    store.run(tasks.transition(mid, {TaskStatus.QUEUED}, TaskStatus.DROPPED, NOW))
    assert [r["id"] for r in store.run(tasks.list_tasks(["dropped"]))] == [mid]


def test_newer_schema_is_refused_untouched(paths: Paths) -> None:
    with SyncStore(paths.database):
        pass
    with sqlite3.connect(paths.database) as con:
        con.execute(f"PRAGMA user_version = {LATEST + 1}")
    before = Path(paths.database).read_bytes()
    with pytest.raises(DatabaseError, match="newer focusq"):
        SyncStore(paths.database).open()
    assert Path(paths.database).read_bytes() == before


def test_a_foreign_sqlite_file_is_refused(paths: Paths) -> None:
    Path(paths.home).mkdir(mode=0o700)
    with sqlite3.connect(paths.database) as con:
        con.execute("CREATE TABLE notes (x)")
    with pytest.raises(DatabaseError, match="not a focusq database"):
        SyncStore(paths.database).open()


def test_garbage_is_refused(paths: Paths) -> None:
    Path(paths.home).mkdir(mode=0o700)
    Path(paths.database).write_bytes(b"hello, this is not sqlite" * 100)
    with pytest.raises(DatabaseError, match="not a SQLite database"):
        SyncStore(paths.database).open()


async def test_async_store_runs_the_same_operations(paths: Paths) -> None:
    async with Store(paths.database) as store:
        task_id = await store.run(tasks.add_task(draft("async write"), NOW))
        record = await store.run(tasks.get_task(task_id))
        assert record["title"] == "async write"
        with pytest.raises(UserError):
            await store.run(tasks.add_task(draft("x after:99"), NOW))
        assert len(await store.run(tasks.list_tasks())) == 1
        seen = await store.run(tasks.events_since(0))
        assert [e["kind"] for e in seen] == ["added"]
    with SyncStore(paths.database) as sync:
        assert sync.run(tasks.get_task(task_id))["title"] == "async write"


def test_two_deliveries_racing_never_hand_over_one_item_twice(store: SyncStore) -> None:
    first = store.run(inbox.capture("Sam asked about the invoice", NOW))
    second = store.run(inbox.capture("lunch order", NOW + 1))
    assert store.run(inbox.deliver([first, second], NOW + 60, "the focus session ended")) == [
        first,
        second,
    ]
    # A delivery decided on an older board finds nothing left to hand over, and says so.
    assert store.run(inbox.deliver([first, second], NOW + 61, "the focus session ended")) == []
    with sqlite3.connect(store.path) as con:
        delivered = con.execute(
            "SELECT count(*) FROM events WHERE kind = 'interruption' "
            "AND json_extract(payload, '$.action') = 'delivered'"
        ).fetchone()[0]
    assert delivered == 1


def test_ls_json_built_by_sqlite_matches_the_records(store: SyncStore) -> None:
    """The JSON SQLite builds for ``ls --json`` is field for field what the records say."""
    import json

    from focusq.cli.output import json_record
    from focusq.quickadd import parse

    def add(words: str, command: list[str] | None = None, **extra: Any) -> int:
        draft = parse(words.split(), command, now=1_800_000_000.0)
        for key, value in extra.items():
            setattr(draft, key, value)
        return int(store.run(tasks.add_task(draft, 1_800_000_000.0)))

    first = add("build +ci project:site pri:H est:90m", ["make", "-C", "site"], cwd="/srv")
    add(
        f"deploy lock:prod after:{first} retry:2 timeout:10m group:ship gate:approve",
        ["./deploy", "a b", "ünï"],
        cwd="/srv",
        env={"MODE": 'q"uote'},
    )
    writing = add("write the launch post at:2099-01-01T09:00")
    store.run(tasks.add_note(writing, "line one\nline two ☃", 1_800_000_100.0))
    store.run(tasks.transition(first, ["queued"], TaskStatus.DONE, 1_800_000_200.0))
    built = json.loads(store.run(listing.task_json(None, reasons={2: "after #1"})))
    expected = [json_record(r) for r in store.run(tasks.list_tasks(None))]
    for record in expected:
        record["waiting_for"] = "after #1" if record["id"] == 2 else None
    assert built == expected
    assert store.run(listing.task_json(["failed"])) == "[]\n"


def test_a_store_opened_before_its_with_keeps_its_one_connection(paths: Paths) -> None:
    """``with open_store() as store`` (opened, then entered) connects once, not twice."""
    opened = SyncStore(paths.database)
    opened.open()
    first = opened._con
    with opened as store:
        assert store._con is first
    assert opened._con is None
