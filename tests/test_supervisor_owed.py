"""A supervisor left alone writes each job's exit code down for the next worker, and keeps
trying (holding its lock) while it cannot: a full disk must not lose an exit code."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from focusq.engine import supervisor
from tests.engine_helpers import lock_held, poll


def test_an_exit_code_it_cannot_write_yet_is_written_once_it_can(tmp_path: Path) -> None:
    logs, away = tmp_path / "logs", tmp_path / "away"
    logs.mkdir()
    lock = logs / "supervisor.lock"
    process = subprocess.Popen(
        [sys.executable, "-I", "-S", supervisor.__file__, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    sh = shutil.which("sh") or "/bin/sh"
    start = ["start", 1, str(logs / "7-1"), str(tmp_path), [sh, "-c", "exit 7"], None, "# x\n"]
    process.stdin.write((json.dumps(start) + "\n").encode())
    process.stdin.flush()
    assert process.stdout.readline().split()[:2] == [b"S", b"1"]
    assert process.stdout.readline().split() == [b"X", b"1", b"7"]
    logs.rename(away)  # its folder is gone for now: nothing can be written there
    process.stdin.close()  # the worker is gone: the supervisor is on its own
    poll(lambda: not (away / "7-1.exit").exists() and lock_held(away / "supervisor.lock"))
    assert process.poll() is None  # still there, still holding the lock
    away.rename(logs)
    assert process.wait(timeout=30) == 0, process.stderr.read() if process.stderr else ""
    assert (logs / "7-1.exit").read_text() == "7\n"
    assert not lock_held(lock)
    assert process.stderr is not None and process.stderr.read() == b""
