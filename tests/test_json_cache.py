"""``ls --json`` keeps each open task's record ready (``json_cache``) and never shows one
that is stale: every change to a task, by any statement, moves its ``rev`` on."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from focusq.paths import Paths
from focusq.store.ops import json_records
from tests.test_ls_scale import _env, focusq, reference, seed, varied_queue


def kept(paths: Paths) -> dict[int, int]:
    """Task id -> the ``rev`` its kept record was written at."""
    with sqlite3.connect(paths.database) as con:
        return dict(con.execute("SELECT id, rev FROM json_cache").fetchall())


def revs(paths: Paths) -> dict[int, int]:
    with sqlite3.connect(paths.database) as con:
        return dict(con.execute("SELECT id, rev FROM tasks").fetchall())


def listed(*args: str) -> list[dict[str, object]]:
    return json.loads(focusq("ls", "--json", *args).stdout)  # type: ignore[no-any-return]


def in_zone(zone: str, *args: str) -> Any:
    """``focusq ARGS`` run with ``$TZ`` set to ``zone``: its JSON."""
    out = subprocess.run(
        [sys.executable, "-m", "focusq", *args],
        capture_output=True,
        text=True,
        env={**_env(), "TZ": zone},
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout)


def test_a_listing_keeps_records_and_the_next_one_uses_them(paths: Paths) -> None:
    ids = varied_queue(paths)
    first = listed()
    assert first == reference(paths)
    open_ids = {r["id"] for r in first}
    assert set(kept(paths)) == open_ids
    # The kept records are what the next listing shows: spoil one behind SQLite's back
    # (its rev unchanged) and it shows through, which proves the record was not rebuilt.
    with sqlite3.connect(paths.database) as con:
        con.execute(
            "UPDATE json_cache SET head = replace(head, '\"plain job\"', '\"from the cache\"')"
        )
    titles = {r["id"]: r["title"] for r in listed()}
    assert titles[ids["plain"]] == "from the cache"


@pytest.mark.parametrize(
    "change",
    [
        ["edit", "{plain}", "renamed", "+tagged", "pri:L"],
        ["note", "{plain}", 'a note with "quotes" and a \x1b[2J escape'],
        ["hold", "{plain}"],
        ["done", "{hostile 1}"],
        ["drop", "{hostile 2}"],
        ["cancel", "{plain}"],
        ["edit", "{plain}", "after:{held}"],
        ["approve", "{gated}"],
    ],
)
def test_every_change_is_listed_as_it_is_now(paths: Paths, change: list[str]) -> None:
    ids = varied_queue(paths)
    listed()  # keeps every open record
    before = revs(paths)
    focusq(*(word.format(**{k: v for k, v in ids.items()}) for word in change))
    after = revs(paths)
    assert any(after[i] != before[i] for i in before), "the change moved no rev"
    assert listed() == reference(paths)
    assert listed() == reference(paths)  # and from what that listing kept


def test_a_change_by_any_statement_moves_rev(paths: Paths) -> None:
    """Even SQL that knows nothing of the cache (a future statement, a repair by hand)."""
    ids = varied_queue(paths)
    listed()
    with sqlite3.connect(paths.database) as con:
        con.execute("UPDATE tasks SET note = 'written by hand' WHERE id = ?", (ids["plain"],))
        con.execute("DELETE FROM deps WHERE task_id = ?", (ids["after holder"],))
    by_id = {r["id"]: r for r in listed()}
    assert by_id[ids["plain"]]["note"] == "written by hand"
    assert by_id[ids["after holder"]]["after"] == []
    assert listed() == reference(paths)


def test_records_leave_the_cache_with_their_tasks(paths: Paths) -> None:
    ids = varied_queue(paths)
    listed()
    focusq("done", str(ids["plain"]))
    assert listed() == reference(paths)  # its record is stale; the listing leaves it out
    focusq("add", "one more")  # the next listing that keeps a record drops the stale ones
    listed()
    assert ids["plain"] not in kept(paths)
    assert set(kept(paths)) == {r["id"] for r in reference(paths)}


def test_another_time_zone_writes_every_record_again(paths: Paths) -> None:
    seed(paths, [("write the post", None), ("build", ["make"])], time.time())
    listed()

    tokyo = in_zone("Asia/Tokyo", "ls", "--json")
    assert all(str(r["created_at"]).endswith("+09:00") for r in tokyo)
    again = in_zone("Asia/Tokyo", "ls", "--json")  # from the records kept under Tokyo's time
    assert again == tokyo
    lima = in_zone("America/Lima", "ls", "--json")
    assert all(str(r["created_at"]).endswith("-05:00") for r in lima)


def test_zones_alike_for_a_year_are_told_apart(paths: Paths) -> None:
    """Mexico City and Regina say the same of the year around now (CST, no clock change),
    and differ in 2022: a record kept under one is not shown under the other."""

    (task_id,) = seed(paths, [("plan the summer", None)], time.time())
    focusq("edit", str(task_id), "at:2022-07-01T12:00")
    in_zone("America/Mexico_City", "ls", "--json")  # keeps the record under Mexico City's rules
    for zone in ("America/Regina", "America/Mexico_City", "CST6", "America/Regina"):
        (listed_here,) = in_zone(zone, "ls", "--json")
        shown = in_zone(zone, "show", str(task_id), "--json")
        assert listed_here["at"] == shown["at"], zone
        assert listed_here["created_at"] == shown["created_at"], zone


def test_keeping_leaves_the_connection_as_it_found_it(paths: Paths) -> None:
    from focusq.store.sync import SyncStore

    seed(paths, [("write the post", None)], time.time())
    with SyncStore(paths.database, busy_timeout=7.0) as store:
        assert store.run(json_records.keep_json()) == 1
        assert store._con is not None
        assert store._con.execute("PRAGMA busy_timeout").fetchone()[0] == 7000


def test_a_busy_database_never_holds_the_listing_up(paths: Paths) -> None:
    """Another process holds the write lock: the listing is printed whole, at once, and
    nothing is kept; the next free listing keeps the records."""
    seed(paths, [(f"task {n}", None) for n in range(50)], time.time())
    con = sqlite3.connect(paths.database, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    try:
        # Were the write lock waited for, the store's busy timeout would outlast the test's.
        out = subprocess.run(
            [sys.executable, "-m", "focusq", "ls", "--json"],
            capture_output=True,
            text=True,
            env={**_env(), "FOCUSQ_STORE__BUSY_TIMEOUT": "600"},
            check=True,
            timeout=60,
        )
        assert len(json.loads(out.stdout)) == 50 and out.stderr == ""
        assert kept(paths) == {}
    finally:
        con.execute("ROLLBACK")
        con.close()
    listed()
    assert len(kept(paths)) == 50


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to a file whatever its mode")
def test_a_read_only_database_still_lists(paths: Paths, tmp_path: Path) -> None:
    seed(paths, [("write the post", None)], time.time())
    focusq("status")
    with sqlite3.connect(paths.database) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    Path(paths.database).chmod(0o400)
    try:
        assert [r["title"] for r in listed()] == ["write the post"]
    finally:
        Path(paths.database).chmod(0o600)


def test_a_huge_first_listing_keeps_a_share_and_the_next_ones_the_rest(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    from focusq.store.sync import SyncStore

    seed(paths, [(f"task {n}", None) for n in range(120)], time.time())
    monkeypatch.setattr(json_records, "KEEP_AT_ONCE", 50)
    with SyncStore(paths.database) as store:
        assert store.run(json_records.keep_json()) == 50
        assert store.run(json_records.keep_json()) == 50
        assert store.run(json_records.keep_json()) == 20
        assert store.run(json_records.keep_json()) == 0
    assert listed() == reference(paths)


def test_a_database_from_before_is_migrated_and_listed(paths: Paths) -> None:
    """A file written by the previous schema (no rev, no cache) opens, migrates and lists."""
    from focusq.store.ops.base import _statements
    from focusq.store.schema import APPLICATION_ID, MIGRATIONS

    Path(paths.database).parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(paths.database) as con:
        for script in MIGRATIONS[:9]:
            for statement in _statements(script):
                con.execute(statement)
        con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        con.execute("PRAGMA user_version = 9")
        now = time.time()
        for n in (1, 2):
            con.execute(
                "INSERT INTO tasks (title, kind, created_at, updated_at, command) "
                "VALUES (?, 'mechanical', ?, ?, '[\"true\"]')",
                (f"old {n}", now, now),
            )
        con.execute("INSERT INTO deps VALUES (2, 1, 'after')")
    records = listed()
    assert [(r["title"], r["after"]) for r in records] == [("old 1", []), ("old 2", [1])]
    assert records == reference(paths)
    focusq("edit", "2", "renamed")
    assert [r["title"] for r in listed()] == ["old 1", "renamed"]
