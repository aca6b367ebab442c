"""Reliability with real processes and real SQLite files: no mocks, no sleeps.

Concurrent writers, a writer killed mid-loop, a lock held past the timeout, file
modes, and files that are not focusq's. Every test runs the CLI in subprocesses
against its own ``FOCUSQ_HOME`` inside ``tmp_path``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import select
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DEADLINE = 60.0
"""Seconds any one wait may take before the test fails instead of hanging."""


def _env(home: Path, **extra: str) -> dict[str, str]:
    """The test process's environment with ``FOCUSQ_HOME`` set and no other focusq settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOCUSQ_")}
    env["FOCUSQ_HOME"] = str(home)
    env.update(extra)
    return env


def _focusq(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "focusq", *args],
        capture_output=True,
        text=True,
        cwd=home.parent,
        env=_env(home, **env),
        timeout=DEADLINE,
    )


def _ls_all(home: Path) -> list[dict[str, Any]]:
    result = _focusq(home, "ls", "--all", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    records: list[dict[str, Any]] = json.loads(result.stdout)
    return records


def _add_one(home: Path, title: str = "seed") -> int:
    result = _focusq(home, "add", title)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return int(result.stdout)


def _read_exactly(fd: int, size: int, deadline: float) -> bytes:
    """``size`` bytes from ``fd``, or fewer if it reaches end of file; fails past ``deadline``."""
    data = b""
    while len(data) < size:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out: got {data!r} of {size} bytes"
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, size - len(data))
            if not chunk:
                break
            data += chunk
    return data


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- many writers at once -------------------------------------------------------------------

WRITERS = 4
ADDS_PER_WRITER = 250

_WRITER = """
import os, sys
from focusq.cli.main import main

worker, go_fd, ready_fd, count = (int(a) for a in sys.argv[1:])
os.write(ready_fd, b"r")
os.close(ready_fd)
while os.read(go_fd, 1):  # blocks until the test closes the other end: go
    pass
os.close(go_fd)
for n in range(count):
    code = main(["add", f"task {worker}-{n}"])
    if code != 0:
        sys.exit(code)
"""


@pytest.mark.slow
def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    home = tmp_path / "fq"
    go_r, go_w = os.pipe()
    ready_r, ready_w = os.pipe()
    procs: list[subprocess.Popen[str]] = []
    try:
        for worker in range(WRITERS):
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        _WRITER,
                        str(worker),
                        str(go_r),
                        str(ready_w),
                        str(ADDS_PER_WRITER),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    cwd=tmp_path,
                    env=_env(home),
                    pass_fds=(go_r, ready_w),
                )
            )
        os.close(go_r)
        os.close(ready_w)
        ready = _read_exactly(ready_r, WRITERS, time.monotonic() + DEADLINE)
        assert ready == b"r" * WRITERS, "a writer died before the start"
        os.close(go_w)  # every writer sees end of file at once and starts adding
        go_w = -1
        outputs = [proc.communicate(timeout=DEADLINE) for proc in procs]
    finally:
        for fd in (go_w, ready_r):
            if fd >= 0:
                os.close(fd)
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    for proc, (_, stderr) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, stderr
        assert stderr == ""
    printed = [[int(line) for line in out.split()] for out, _ in outputs]
    assert all(len(ids) == ADDS_PER_WRITER for ids in printed)
    # Each writer's own ids rise; together they are 1..1000 with none twice.
    assert all(ids == sorted(ids) for ids in printed)
    total = WRITERS * ADDS_PER_WRITER
    assert sorted(i for ids in printed for i in ids) == list(range(1, total + 1))
    # The premise of the test: the writers really ran at once, their ids interleaved.
    spans = sorted((ids[0], ids[-1]) for ids in printed)
    assert any(nxt[0] < cur[1] for cur, nxt in itertools.pairwise(spans)), spans

    records = _ls_all(home)
    assert sorted(r["id"] for r in records) == list(range(1, total + 1))
    titles = {r["title"] for r in records}
    assert titles == {f"task {w}-{n}" for w in range(WRITERS) for n in range(ADDS_PER_WRITER)}
    # The id a writer printed belongs to the title it added.
    by_id = {r["id"]: r["title"] for r in records}
    for worker, ids in enumerate(printed):
        assert [by_id[i] for i in ids] == [f"task {worker}-{n}" for n in range(ADDS_PER_WRITER)]


# -- a writer killed mid-loop ---------------------------------------------------------------

_ADD_FOREVER = """
import contextlib, io, os, sys
from focusq.cli.main import main

for i in range(1, 1_000_000):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["add", f"t{i}"])
    if code != 0:
        sys.exit(code)
    os.write(1, out.getvalue().encode())  # only once add has returned
"""


@pytest.mark.slow
def test_sigkill_mid_writes_keeps_every_returned_add(tmp_path: Path) -> None:
    home = tmp_path / "fq"
    wanted = 200
    proc = subprocess.Popen(
        [sys.executable, "-c", _ADD_FOREVER],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=_env(home),
    )
    assert proc.stdout is not None and proc.stderr is not None
    fd = proc.stdout.fileno()
    buffer = b""
    try:
        deadline = time.monotonic() + DEADLINE
        while buffer.count(b"\n") < wanted:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"the child reported only {len(buffer.splitlines())} adds"
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 65536)
                assert chunk, f"the child ended early: {proc.stderr.read().decode()}"
                buffer += chunk
        os.kill(proc.pid, signal.SIGKILL)  # it is busy with the next add
        proc.wait(timeout=DEADLINE)
        while chunk := _read_exactly(fd, 65536, time.monotonic() + DEADLINE):
            buffer += chunk  # what it reported before dying
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()

    assert proc.returncode == -signal.SIGKILL, "the child must die mid-loop, not finish"
    complete = buffer[: buffer.rfind(b"\n") + 1]  # a torn last line was never reported
    reported = [int(line) for line in complete.split()]
    assert len(reported) >= wanted
    assert reported == list(range(1, len(reported) + 1))

    stored = {r["id"]: r["title"] for r in _ls_all(home)}
    missing = [i for i in reported if i not in stored]
    assert not missing, f"adds that returned but are gone: {missing}"
    assert all(stored[i] == f"t{i}" for i in reported)
    assert len(stored) - len(reported) <= 1  # at most the add it was killed in

    con = sqlite3.connect(home / "focusq.db")
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        con.close()


# -- a lock held longer than the timeout ----------------------------------------------------


def test_locked_database_fails_in_one_line_and_writes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "fq"
    _add_one(home)
    db = home / "focusq.db"
    holder = sqlite3.connect(db, isolation_level=None, timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        result = _focusq(home, "add", "x", FOCUSQ_STORE__BUSY_TIMEOUT="0.3")
        elapsed = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "locked" in lines[0]
    assert elapsed < 4.0, "FOCUSQ_STORE__BUSY_TIMEOUT was ignored (the default is 5s)"

    con = sqlite3.connect(db)
    try:
        assert con.execute("SELECT count(*) FROM tasks").fetchone() == (1,)
    finally:
        con.close()
    assert [r["title"] for r in _ls_all(home)] == ["seed"]


# -- private files --------------------------------------------------------------------------


def test_database_and_folder_are_private(tmp_path: Path) -> None:
    home = tmp_path / "fq"
    # The most permissive umask: the modes must come from focusq, not from the shell.
    result = subprocess.run(
        [sys.executable, "-m", "focusq", "add", "secret plans"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(home),
        timeout=DEADLINE,
        umask=0,
    )
    assert result.returncode == 0, result.stderr

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(home) == 0o700
    assert mode(home / "focusq.db") == 0o600
    for side in ("focusq.db-wal", "focusq.db-shm", "focusq.db-journal"):
        if (home / side).exists():
            assert mode(home / side) == 0o600, side


# -- files that are not focusq's ------------------------------------------------------------


def _text_file(db: Path) -> None:
    db.parent.mkdir(mode=0o700)
    db.write_text(
        "shopping list\n- milk\n- eggs\n- a new database for my tasks\n" * 8, encoding="utf-8"
    )


def _other_apps_database(db: Path) -> None:
    db.parent.mkdir(mode=0o700)
    con = sqlite3.connect(db)
    try:
        con.execute("CREATE TABLE bookmarks (id INTEGER PRIMARY KEY, url TEXT)")
        con.execute("INSERT INTO bookmarks (url) VALUES ('https://example.org')")
        con.commit()
    finally:
        con.close()


def _newer_focusq_database(db: Path) -> None:
    _add_one(db.parent)
    con = sqlite3.connect(db)
    try:
        con.execute("PRAGMA user_version = 999")
    finally:
        con.close()


_FOREIGN = [
    pytest.param(_text_file, "not a SQLite database", id="text-file"),
    pytest.param(_other_apps_database, "not a focusq database", id="other-apps-sqlite"),
    pytest.param(_newer_focusq_database, "newer focusq", id="newer-schema"),
]


@pytest.mark.parametrize(("make", "complaint"), _FOREIGN)
def test_foreign_database_is_refused_and_left_untouched(
    tmp_path: Path, make: Callable[[Path], None], complaint: str
) -> None:
    home = tmp_path / "fq"
    db = home / "focusq.db"
    make(db)
    before = _sha256(db)

    result = _focusq(home, "ls")

    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert complaint in lines[0]
    assert _sha256(db) == before


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(_text_file, id="text-file"),
        pytest.param(_other_apps_database, id="other-apps-sqlite"),
        pytest.param(_newer_focusq_database, id="newer-schema"),
    ],
)
def test_refusal_names_the_file(tmp_path: Path, make: Callable[[Path], None]) -> None:
    home = tmp_path / "fq"
    db = home / "focusq.db"
    make(db)

    result = _focusq(home, "ls")

    assert result.returncode == 2
    assert str(db) in result.stderr, result.stderr
