"""``focusq doctor``: one line per check with its fix; exit 1 when anything is broken."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Focusq = Callable[..., Any]
COLOURFUL = {"TERM": "xterm-256color", "COLORTERM": "truecolor"}
NAMES = ["folder", "database", "integrity", "schema", "worker", "supervisor", "config"]
NAMES += ["themes", "notify", "watcher", "terminal"]


def doctor(focusq: Focusq, **env: str) -> tuple[int, dict[str, list[str]]]:
    """The exit code, and each check's lines (``verdict  detail; fix: ...``) by name."""
    result = focusq("doctor", env={**COLOURFUL, **env})
    found: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        verdict, name, rest = line.split(None, 2)
        assert verdict in ("ok", "warn", "FAIL"), line
        found.setdefault(name, []).append(f"{verdict} {rest}")
    return result.returncode, found


def verdicts(found: dict[str, list[str]]) -> dict[str, str]:
    return {name: " ".join(line.split()[0] for line in lines) for name, lines in found.items()}


@pytest.fixture
def healthy(focusq: Focusq) -> None:
    assert focusq("add", "write the post").returncode == 0


def test_a_healthy_home_passes_every_check(focusq: Focusq, healthy: None) -> None:
    code, found = doctor(focusq)
    assert code == 0
    assert list(found) == NAMES
    seen = verdicts(found)
    assert all(seen[name] == "ok" for name in NAMES if name != "notify"), found
    assert "passes quick_check" in found["integrity"][0]
    assert "not running; it starts when a job is added" in found["worker"][0]


def test_jobs_waiting_with_no_worker_are_a_warning(focusq: Focusq, healthy: None) -> None:
    assert focusq("add", "tests", "--", "true").returncode == 0  # autostart is off
    code, found = doctor(focusq)
    assert code == 0
    assert found["worker"] == [
        "warn not running, and runnable jobs wait; fix: focusq worker (focusq ls or status "
        "starts one when worker.autostart is on)"
    ]


def test_a_home_not_made_yet_is_fine_and_stays_unmade(focusq: Focusq, focusq_home: Path) -> None:
    code, found = doctor(focusq)
    assert code == 0
    assert "does not exist yet" in found["folder"][0]
    assert not focusq_home.exists()


def test_a_database_open_to_others_fails_with_chmod(
    focusq: Focusq, healthy: None, focusq_home: Path
) -> None:
    database = focusq_home / "focusq.db"
    database.chmod(0o644)
    code, found = doctor(focusq)
    assert code == 1
    assert found["database"] == [
        f"FAIL {database} is open to others (644): it holds your jobs' environments; "
        f"fix: chmod 600 {database} (the next focusq command does it too)"
    ]
    assert verdicts(found)["integrity"] == "ok"


def test_a_folder_open_to_others_fails_with_chmod(
    focusq: Focusq, healthy: None, focusq_home: Path
) -> None:
    focusq_home.chmod(0o755)
    code, found = doctor(focusq)
    assert code == 1
    assert (
        found["folder"][0].startswith("FAIL") and f"chmod 700 {focusq_home}" in found["folder"][0]
    )


def test_a_bad_config_fails_naming_the_key(
    focusq: Focusq, healthy: None, focusq_home: Path
) -> None:
    (focusq_home / "config.toml").write_text('[engine]\nmax_parallel = "many"\n')
    code, found = doctor(focusq)
    assert code == 1
    assert len(found["config"]) == 1
    assert found["config"][0].startswith("FAIL") and "max_parallel" in found["config"][0]


def test_a_bad_theme_fails_naming_the_file(
    focusq: Focusq, healthy: None, focusq_home: Path
) -> None:
    themes = focusq_home / "themes"  # beside config.toml
    themes.mkdir()
    (themes / "broken.toml").write_text('name = "broken"\nprimary = "not a colour"\n')
    code, found = doctor(focusq)
    assert code == 1
    assert found["themes"][0].startswith("FAIL") and "broken.toml" in found["themes"][0]
    assert "primary" in found["themes"][0] and "fix: fix the file" in found["themes"][0]


def test_a_damaged_database_fails_its_quick_check(focusq: Focusq, focusq_home: Path) -> None:
    for n in range(5):
        focusq("add", f"task {n}")
    database = focusq_home / "focusq.db"
    with sqlite3.connect(database) as con:  # as in test_engine_promises: zero an index page
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
        root = con.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'focus_by_start'"
        ).fetchone()[0]
    with open(database, "r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(b"\x00" * 8)
    code, found = doctor(focusq)
    assert code == 1
    assert found["integrity"][0].startswith("FAIL quick_check of")
    assert "REINDEX" in found["integrity"][0]


def test_a_plain_terminal_is_a_warning_not_a_failure(focusq: Focusq, healthy: None) -> None:
    code, found = doctor(focusq, TERM="dumb", COLORTERM="")
    assert code == 0
    assert found["terminal"][0].startswith("warn TERM=dumb")


def test_a_database_written_by_a_newer_focusq_fails(
    focusq: Focusq, healthy: None, focusq_home: Path
) -> None:
    with sqlite3.connect(focusq_home / "focusq.db") as con:
        con.execute("PRAGMA user_version = 999")
    code, found = doctor(focusq)
    assert code == 1
    assert found["database"][-1].startswith("FAIL") and "upgrade focusq" in found["database"][-1]
    assert os.stat(focusq_home / "focusq.db").st_size > 0


def test_a_live_worker_and_its_supervisor_are_seen(tmp_path: Path, focusq_home: Path) -> None:
    from tests.engine_helpers import focusq_session, poll

    work = tmp_path / "work"
    work.mkdir()
    with focusq_session(focusq_home, work) as fq:
        job = fq.add("nap", "--", "sleep", "30")
        worker = fq.start_worker()
        poll(lambda: fq.status(job) == "running", what="the job to start")
        result = fq("doctor", **COLOURFUL)
        assert fq("cancel", str(job)).returncode == 0
    lines = {line.split()[1]: line for line in result.stdout.splitlines()}
    assert lines["worker"].startswith(f"ok    worker      pid {worker.pid} on ")
    assert lines["supervisor"] == f"ok    supervisor  running for worker pid {worker.pid}"
