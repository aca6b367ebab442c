"""Opening the TUI starts the worker a recurring job's passed due time needs."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from focusq.config import load_settings
from focusq.paths import Paths
from focusq.tui.app import make_app
from tests.engine_helpers import processes_of

pytestmark = pytest.mark.slow


def _rows(paths: Paths, sql: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(paths.database)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _add_due_series(paths: Paths) -> None:
    added = subprocess.run(
        [sys.executable, "-m", "focusq", "add", "nightly", "every:1h", "--", "true"],
        capture_output=True,
        text=True,
    )
    assert added.returncode == 0, added.stderr
    template = int(added.stdout)
    past = time.time() - 60
    con = sqlite3.connect(paths.database)
    with con:  # as if the series was added a minute ago and no worker ran since
        con.execute(
            "UPDATE recurring SET anchor = ?, next_due = ? WHERE task_id = ?",
            (past, past, template),
        )
    con.close()


async def test_a_due_time_that_passed_starts_a_worker(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add_due_series(paths)
    monkeypatch.setenv("FOCUSQ_WORKER__AUTOSTART", "true")
    app = make_app(load_settings(paths), paths)
    try:
        async with app.run_test(size=(100, 30)):
            deadline = time.monotonic() + 30
            while not _rows(paths, "SELECT id FROM tasks WHERE status = 'done'"):
                assert time.monotonic() < deadline, "no run of the due series was added"
                await asyncio.sleep(0.05)
        assert _rows(paths, "SELECT pid FROM lease")
    finally:
        for pid in processes_of(paths.home):  # type: ignore[arg-type]
            os.kill(pid, signal.SIGKILL)
