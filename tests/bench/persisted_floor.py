"""The floor under the whole path: one bare Python process that adds N tasks to SQLite in
one transaction, then runs them three at a time with ``posix_spawn``, writing every state
change in a transaction of its own (running, its pid, its end), in WAL mode with
``synchronous = NORMAL`` as focusq's store does. No event loop, no supervisor, no events:
what persisting each change costs at the least.

With ``LOGS``, each job also gets a log of its own there, created and given a header line
before the job starts with its output in it, as focusq's supervisor does: what a log per
run adds (creating a file costs the kernel far more than a pipe write).

``python persisted_floor.py N DATABASE [CAP [LOGS]]``; ``bench_scale`` times it beside
``xargs``.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import time


def main() -> int:
    count, database = int(sys.argv[1]), sys.argv[2]
    cap = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    logs = sys.argv[4] if len(sys.argv) > 4 else None
    true = shutil.which("true") or "/bin/true"
    con = sqlite3.connect(database, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = NORMAL")
    con.execute(
        "CREATE TABLE jobs (id INTEGER PRIMARY KEY, status TEXT NOT NULL, pid INTEGER, "
        "code INTEGER, started_at REAL, ended_at REAL)"
    )
    con.execute("BEGIN")
    con.executemany("INSERT INTO jobs (status) VALUES ('queued')", [()] * count)
    con.execute("COMMIT")

    def write(sql: str, *params: object) -> None:
        con.execute("BEGIN IMMEDIATE")
        con.execute(sql, params)
        con.execute("COMMIT")

    queued = iter(range(1, count + 1))
    running: dict[int, int] = {}

    def start() -> None:
        job = next(queued, None)
        if job is None:
            return
        write("UPDATE jobs SET status = 'running', started_at = ? WHERE id = ?", time.time(), job)
        if logs is None:
            pid = os.posix_spawn(true, [true], os.environ)
        else:
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC
            fd = os.open(os.path.join(logs, f"{job}-1.log"), flags, 0o600)
            os.write(fd, b"# focusq: true\n")
            actions = [(os.POSIX_SPAWN_DUP2, fd, 1), (os.POSIX_SPAWN_DUP2, fd, 2)]
            pid = os.posix_spawn(true, [true], os.environ, file_actions=actions, setsid=True)
            os.close(fd)
        running[pid] = job
        write("UPDATE jobs SET pid = ? WHERE id = ?", pid, job)

    for _ in range(cap):
        start()
    while running:
        pid, status = os.wait()
        job = running.pop(pid)
        write(
            "UPDATE jobs SET status = 'done', code = ?, ended_at = ? WHERE id = ?",
            os.waitstatus_to_exitcode(status),
            time.time(),
            job,
        )
        start()
    done = con.execute("SELECT count(*) FROM jobs WHERE status = 'done'").fetchone()[0]
    return 0 if done == count else 1


if __name__ == "__main__":
    sys.exit(main())
