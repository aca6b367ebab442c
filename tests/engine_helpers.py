"""Helpers for tests that run a real worker and real jobs."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DEADLINE = 30.0


def poll(predicate: Callable[[], Any], timeout: float = DEADLINE, what: str = "") -> Any:
    """Return ``predicate()``'s first truthy value, polling until a deadline."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.02)


def db_rows(home: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows from the focusq database in ``home`` (empty if it does not exist yet)."""
    path = home / "focusq.db"
    if not path.exists():
        return []
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


def task(home: Path, task_id: int) -> dict[str, Any]:
    """A task row as a dict."""
    con = sqlite3.connect(f"file:{home / 'focusq.db'}?mode=ro", uri=True, timeout=10)
    con.row_factory = sqlite3.Row
    try:
        row = con.execute("SELECT * FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return dict(row)
    finally:
        con.close()


def runs(home: Path, task_id: int) -> list[dict[str, Any]]:
    """Every run of a task, oldest first."""
    con = sqlite3.connect(f"file:{home / 'focusq.db'}?mode=ro", uri=True, timeout=10)
    con.row_factory = sqlite3.Row
    try:
        rows = con.execute("SELECT * FROM runs WHERE task_id = ? ORDER BY attempt", (task_id,))
        return [dict(r) for r in rows]
    finally:
        con.close()


def alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def group_alive(pgid: int) -> bool:
    """Whether any process is left in process group ``pgid``."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


class Focusq:
    """Runs the real CLI and worker against one home."""

    def __init__(self, home: Path, workdir: Path, env: dict[str, str]) -> None:
        self.home = home
        self.workdir = workdir
        self.env = env
        self.workers: list[subprocess.Popen[str]] = []

    def __call__(
        self, *args: str, timeout: float = 60, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "focusq", *args],
            capture_output=True,
            text=True,
            errors="replace",
            cwd=self.workdir,
            env={**self.env, **env},
            timeout=timeout,
        )

    def add(self, *args: str) -> int:
        """``focusq add ARGS``; the new id."""
        result = self(*["add", *args])
        assert result.returncode == 0, result.stderr
        return int(result.stdout.strip())

    def start_worker(self, **env: str) -> subprocess.Popen[str]:
        """A foreground worker; returns once it holds the lease."""
        worker = subprocess.Popen(
            [sys.executable, "-m", "focusq", "worker", "--foreground"],
            cwd=self.workdir,
            env={**self.env, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.workers.append(worker)
        poll(
            lambda: (
                worker.poll() is not None
                or db_rows(self.home, "SELECT pid FROM lease WHERE pid = ?", worker.pid)
            ),
            what="the worker's lease",
        )
        assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
        return worker

    def wait(self, *ids: int, timeout: float = DEADLINE) -> subprocess.CompletedProcess[str]:
        """``focusq wait IDS``: returns when they ended (event-driven, no polling)."""
        return self("wait", *map(str, ids), "--timeout", str(timeout), timeout=timeout + 30)

    def status(self, task_id: int) -> str:
        return str(task(self.home, task_id)["status"])

    def show(self, task_id: int) -> dict[str, Any]:
        result = self("show", str(task_id), "--json")
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout))

    def cleanup(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
            if worker.stderr:
                worker.stderr.close()
        # Jobs outlive workers by design; end any this test left behind.
        for (pgid,) in db_rows(self.home, "SELECT pgid FROM runs WHERE ended_at IS NULL"):
            if pgid:
                try:
                    os.killpg(pgid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        # And whatever else runs for this home: a worker a command started detached (a
        # revive, an autostart), its supervisor, their jobs.
        for pid in processes_of(self.home):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


@contextmanager
def focusq_session(home: Path, workdir: Path, **env: str) -> Iterator[Focusq]:
    """A :class:`Focusq` with quick engine settings; its workers and jobs end with it."""
    base = {
        **os.environ,
        "FOCUSQ_HOME": str(home),
        "FOCUSQ_WORKER__AUTOSTART": "false",
        "FOCUSQ_WORKER__IDLE_EXIT": "120",
        "FOCUSQ_ENGINE__KILL_GRACE": "0.5",
        "FOCUSQ_ENGINE__BACKOFF_BASE": "0.05",
        **env,
    }
    session = Focusq(home, workdir, base)
    try:
        yield session
    finally:
        session.cleanup()


def start_run(
    store: Any,
    task_id: int,
    start: float,
    *,
    logs: str = "/tmp",
    executor: str = "local",
    host: str | None = None,
) -> dict[str, Any]:
    """Claim ``task_id`` at ``start``, as the worker does (for ``executor``, if another);
    ``host`` (if any) as the run's spawn says."""
    from focusq.store.ops import base, jobs

    claim: dict[str, Any] = store.run(base.apply([jobs.claim(task_id, start, logs, executor)]))[0]
    if host is not None:
        store.run(base.apply([jobs.record_spawn(claim["run_id"], 4242, 4242, host)]))
    return claim


def record_run(
    store: Any,
    task_id: int,
    start: float,
    end: float,
    *,
    ok: bool,
    tail: str = "",
    logs: str = "/tmp",
    executor: str = "local",
    host: str | None = None,
) -> None:
    """One attempt of a job written straight to the store, no process: claimed at ``start``
    (on ``executor`` at ``host``, if given), ended at ``end`` with exit 0 or 1."""
    from focusq.states import TaskStatus
    from focusq.store.ops import base, jobs

    claim = start_run(store, task_id, start, logs=logs, executor=executor, host=host)
    finish = jobs.finish(
        task_id,
        claim["run_id"],
        end,
        result="ok" if ok else "failed",
        status=TaskStatus.DONE if ok else TaskStatus.FAILED,
        exit_code=0 if ok else 1,
        tail=tail,
    )
    store.run(base.apply([finish]))


def supervisor_of(worker_pid: int) -> int | None:
    """The job supervisor a worker started (its child running supervisor.py), if any."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat, open(f"/proc/{name}/cmdline", "rb") as cmd:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
                if ppid == worker_pid and b"supervisor.py" in cmd.read():
                    return int(name)
        except (OSError, ValueError, IndexError):
            continue
    return None


def processes_of(home: Path) -> list[int]:
    """Live processes (not zombies) whose environment names ``home`` as FOCUSQ_HOME."""
    wanted = f"FOCUSQ_HOME={home}".encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as file:
                if wanted in file.read().split(b"\0") and alive(int(name)):
                    found.append(int(name))
        except OSError:
            continue
    return found


def group_stopped(pgid: int) -> bool:
    """Whether nothing in the process group ``pgid`` can run: each member is stopped, or
    is a shell that stopped in the middle of starting a command (state D, waiting on a
    vfork child that is stopped before its exec)."""
    members: dict[int, tuple[str, int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as file:
                    fields = file.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                members[int(entry)] = (fields[0], int(fields[1]))
    parents = {parent for st, parent in members.values() if st in ("T", "t")}
    return bool(parents) and all(
        st in ("T", "t") or (st == "D" and pid in parents) for pid, (st, _) in members.items()
    )


def lock_held(lock: str | os.PathLike[str]) -> bool:
    """Whether a job supervisor still holds ``lock`` (its shared lock, kept until the files
    it owes are written, keeps an exclusive one out)."""
    import fcntl

    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
