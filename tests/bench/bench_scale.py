"""How the worker scales: per-job cost from 1,000 to 50,000 queued jobs, its memory, the
whole path a user sees, and a long history.

Run it directly: ``python tests/bench/bench_scale.py``. Each figure gets its own throwaway
``FOCUSQ_HOME`` and its own worker, always stopped when the benchmark ends.

1. Per-job cost: 1,000, 5,000 and 50,000 ``true`` jobs (cap 3) seeded into the queue, then
   one worker from its start to all done: milliseconds per job, each against the 1,000 one
   (budget: flat within 10%), and the worker's peak RSS (budget at 50,000: 100 MB).
1b. One lock shared by every job (a batch of builds in one worktree): 1,000 and 10,000
   jobs run one at a time, milliseconds per job against the 1,000 one (flat within 10%).
2. The whole path: ``focusq batch`` of N ``true`` jobs, the worker it starts, and
   ``focusq wait --all`` returning, against ``xargs -P3`` running the same N in the same
   run (budget 1.6x at 1,000 and 5,000), and task-spooler when it is installed; and the
   floor under it (``persisted_floor.py``: a bare Python loop that persists each change).
3. History: 1,000 jobs in a database that already holds 100,000 finished tasks, against
   the same 1,000 in an empty one (budget 1.05x).

It prints each figure, its baseline and the ratio. It reports; it never fails.
``BENCH_SCALE_MAX`` sets the largest queue of part 1 (default 50,000; CI uses 20,000).
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_engine import (
    CAP,
    bench_tsp,
    make_env,
    running_worker,
    seed,
    status_counts,
    time_shell,
)
from common import Row, compile_package, focusq_command, print_report

SIZES = (1_000, 5_000, int(os.environ.get("BENCH_SCALE_MAX", 50_000)))
FLAT = 1.10
MEMORY_BUDGET_MB = 100.0
WHOLE_PATH_SIZES = (1_000, 5_000)
LOCK_SIZES = (1_000, 10_000)
FLOOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "persisted_floor.py")
WHOLE_PATH_BUDGET = 1.6
HISTORY_TASKS = 100_000
HISTORY_BUDGET = 1.05
IDLE_EXIT = 0.5
SAMPLE_SECONDS = 0.05

ROWS: list[Row] = []
PROBLEMS: list[str] = []


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set so far (VmHWM), in MB."""
    try:
        with open(f"/proc/{pid}/status") as file:
            for line in file:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def through_worker(
    tmp: str, name: str, jobs: int, history: int = 0, lock: str | None = None
) -> tuple[float, float]:
    """Seed ``jobs`` ``true`` jobs (after ``history`` finished tasks; all holding ``lock``,
    if given), run one worker to the end; return the seconds from the first job's start to
    the last one's end (the runs table: the worker's own start is not a per-job cost) and
    its peak RSS in MB."""
    home = os.path.join(tmp, f"{name}-home")
    work = os.path.join(tmp, f"{name}-work")
    os.makedirs(work)
    database = os.path.join(home, "focusq.db")
    if history:
        seed_history(database, work, history)
    seed(database, work, [(f"true {n}", ["true"], None, []) for n in range(jobs)])
    if lock:  # as `lock:NAME` on each (a batch of builds in one worktree shares one)
        with sqlite3.connect(database) as con:
            con.execute("UPDATE tasks SET locks = ? WHERE status = 'queued'", (f'["{lock}"]',))
    env = make_env(home, idle_exit=IDLE_EXIT)
    peak = 0.0
    started = time.perf_counter()
    with running_worker(env, os.path.join(tmp, f"{name}-worker.log")) as proc:
        deadline = started + 600
        while proc.poll() is None and time.perf_counter() < deadline:
            peak = max(peak, peak_rss_mb(proc.pid))
            try:
                proc.wait(timeout=SAMPLE_SECONDS)
            except subprocess.TimeoutExpired:
                continue
        if proc.poll() is None:
            PROBLEMS.append(f"{name}: the worker was still running after 600 s")
    counts = status_counts(database)
    expected = jobs + history + (1 if history else 0)  # the history's first task
    if counts.get("done", 0) != expected:
        PROBLEMS.append(f"{name}: tasks by status {counts}, expected {expected} done")
    with sqlite3.connect(database) as con:
        first, last = con.execute(
            "SELECT min(started_at), max(ended_at) FROM runs WHERE task_id > ?",
            (history + 1 if history else 0,),
        ).fetchone()
    return last - first, peak


def flat_row(name: str, per_job: float, first: float | None) -> float:
    """A row of ms per job against the first size's (budget: flat within 10%); the first."""
    first = first or per_job
    ratio = per_job / first
    ROWS.append(
        Row(
            f"{name}: ms per job",
            f"{per_job:.3f} ms",
            f"{first:.3f} ms at the smallest",
            f"{ratio:.2f}x",
            f"{FLAT:g}x",
            "ok" if ratio <= FLAT else "OVER",
        )
    )
    return first


def bench_one_lock(tmp: str) -> None:
    """Jobs that all share one lock run one at a time: the cost of each must not grow with
    how many wait behind it."""
    first: float | None = None
    for jobs in LOCK_SIZES:
        wall, _ = through_worker(tmp, f"one-lock-{jobs}", jobs, lock="shared")
        first = flat_row(f"1b. {jobs:,} true sharing one lock", wall / jobs * 1000, first)


def seed_history(database: str, cwd: str, count: int) -> None:
    """``count`` finished jobs, each with its run and events, written straight to SQLite."""
    seed(database, cwd, [("warm", ["true"], None, [])])  # creates and migrates the file
    now = time.time() - 86400
    with sqlite3.connect(database) as con:
        first = con.execute("SELECT max(id) FROM tasks").fetchone()[0] + 1
        con.executemany(
            "INSERT INTO tasks (id, title, kind, status, priority, tags, command, cwd, env,"
            " locks, created_at, updated_at, started_at, ended_at, result, exit_code, attempts)"
            " VALUES (?, ?, 'mechanical', 'done', 'M', '[]', '[\"true\"]', ?, '{}', '[]',"
            " ?, ?, ?, ?, 'ok', 0, 1)",
            [
                (first + n, f"old {n}", cwd, now + n * 0.01, now + n * 0.01, now, now)
                for n in range(count)
            ],
        )
        con.executemany(
            "INSERT INTO runs (task_id, attempt, started_at, ended_at, result, exit_code,"
            " log_path) VALUES (?, 1, ?, ?, 'ok', 0, '')",
            [(first + n, now, now + 0.002) for n in range(count)],
        )
        con.executemany(
            "INSERT INTO events (task_id, kind, at, payload) VALUES (?, 'status', ?, ?)",
            [(first + n, now, '{"from": "running", "to": "done"}') for n in range(count)],
        )
        con.execute("UPDATE tasks SET status = 'done', result = 'ok' WHERE title = 'warm'")


def bench_per_job(tmp: str) -> None:
    first: float | None = None
    for jobs in SIZES:
        wall, peak = through_worker(tmp, f"per-job-{jobs}", jobs)
        first = flat_row(f"1. {jobs:,} true", wall / jobs * 1000, first)
        budget = MEMORY_BUDGET_MB if jobs == SIZES[-1] else None
        ROWS.append(
            Row(
                f"1. {jobs:,} true: worker peak RSS",
                f"{peak:.1f} MB",
                "-",
                "-",
                f"{budget:g} MB" if budget else "-",
                ("ok" if peak <= budget else "OVER") if budget else "info",
            )
        )


def bench_whole_path(tmp: str) -> None:
    baselines: dict[int, float] = {}
    for jobs in WHOLE_PATH_SIZES:
        work = os.path.join(tmp, f"whole-{jobs}-work")
        os.makedirs(work)
        batch = os.path.join(work, "jobs.toml")
        with open(batch, "w") as file:
            for n in range(jobs):
                file.write(f'[[task]]\ntitle = "true {n}"\ncommand = ["true"]\n\n')
        xargs = statistics.median(
            time_shell(f"seq {jobs} | xargs -P{CAP} -n1 true", work) for _ in range(3)
        )
        floor = statistics.median(
            time_shell(
                f"{sys.executable} {FLOOR} {jobs} {os.path.join(work, f'floor-{n}.db')} {CAP}",
                work,
            )
            for n in range(3)
        )
        baselines[jobs] = xargs
        floor_logs = statistics.median(floor_with_logs(work, jobs, n) for n in range(3))
        env = make_env(os.path.join(tmp, f"whole-{jobs}-home"), idle_exit=IDLE_EXIT)
        env.pop("FOCUSQ_WORKER__AUTOSTART", None)
        focusq = focusq_command()
        started, wall = time.perf_counter(), time.time()
        added = subprocess.run([*focusq, "batch", batch], env=env, cwd=work, capture_output=True)
        batch_done = time.time()
        waited = subprocess.run([*focusq, "wait", "--all"], env=env, cwd=work, capture_output=True)
        whole = time.perf_counter() - started
        if added.returncode or waited.returncode:
            codes = f"batch {added.returncode}, wait {waited.returncode}"
            PROBLEMS.append(f"whole path {jobs}: {codes}")
        ratio = whole / xargs
        ROWS.append(
            Row(
                f"2. batch {jobs:,} true + worker + wait",
                f"{whole:.3f}s",
                f"{xargs:.3f}s xargs -P{CAP}",
                f"{ratio:.2f}x",
                f"{WHOLE_PATH_BUDGET:g}x",
                "ok" if ratio <= WHOLE_PATH_BUDGET else "OVER",
            )
        )
        database = os.path.join(env["FOCUSQ_HOME"], "focusq.db")
        with sqlite3.connect(database) as con:
            first, last = con.execute("SELECT min(started_at), max(ended_at) FROM runs").fetchone()
        # Where the time went: the batch's transaction, the worker's start (Python, its
        # imports, the lease, recovery, the queue read), the runs, and wait seeing the end.
        parts = (
            ("the batch", batch_done - wall),
            ("the worker's start", first - batch_done),
            ("the runs (first start to last end)", last - first),
            ("wait returning", wall + whole - last),
        )
        ROWS.append(
            Row(
                f"2. {jobs:,}: a bare Python loop persisting each change (the floor)",
                f"{floor:.3f}s",
                f"{xargs:.3f}s xargs -P{CAP}",
                f"{floor / xargs:.2f}x",
                "-",
                "info",
            )
        )
        ROWS.append(
            Row(
                f"2. {jobs:,}: the same loop, each job with a log file of its own",
                f"{floor_logs:.3f}s",
                f"{xargs:.3f}s xargs -P{CAP}",
                f"{floor_logs / xargs:.2f}x",
                "-",
                "info",
            )
        )
        # The least this path can take as built: that loop, plus this batch's own insert
        # and this worker's own start (a Python process, its imports, the lease).
        least = floor_logs + parts[0][1] + parts[1][1]
        ROWS.append(
            Row(
                f"2. {jobs:,}: lower bound (the loop with logs + the batch + the worker's start)",
                f"{least:.3f}s",
                f"{xargs:.3f}s xargs -P{CAP}",
                f"{least / xargs:.2f}x",
                "-",
                "info",
            )
        )
        for part, seconds in parts:
            ROWS.append(
                Row(
                    f"2. {jobs:,}: {part}",
                    f"{seconds:.3f}s",
                    f"{xargs:.3f}s xargs -P{CAP}",
                    f"{seconds / xargs:.2f}x",
                    "-",
                    "info",
                )
            )
        stop_workers(env)
    tsp = bench_tsp(tmp)
    if tsp is not None:
        xargs = baselines.get(1_000)
        against = "-" if xargs is None else f"{xargs:.3f}s xargs -P{CAP}"
        ratio = "-" if xargs is None else f"{tsp / xargs:.2f}x"
        ROWS.append(Row(f"2. tsp -S {CAP}, 1,000 true", f"{tsp:.3f}s", against, ratio, "-", "info"))


def floor_with_logs(work: str, jobs: int, n: int) -> float:
    """The floor loop with a log file per job, in a folder of its own (as focusq's logs)."""
    logs = os.path.join(work, f"floor-logs-{n}")
    os.makedirs(logs)
    database = os.path.join(work, f"floor-logs-{n}.db")
    return time_shell(f"{sys.executable} {FLOOR} {jobs} {database} {CAP} {logs}", work)


def stop_workers(env: dict[str, str]) -> None:
    """Stop the worker ``batch`` started (it would exit when idle; don't wait for that)."""
    database = os.path.join(env["FOCUSQ_HOME"], "focusq.db")
    try:
        with sqlite3.connect(database) as con:
            rows = con.execute("SELECT pid FROM lease").fetchall()
    except sqlite3.Error:
        return
    for (pid,) in rows:
        try:
            os.kill(int(pid), 15)
        except (ProcessLookupError, ValueError):
            pass


def bench_history(tmp: str) -> None:
    empty, _ = through_worker(tmp, "history-empty", 1_000)
    full, _ = through_worker(tmp, "history-full", 1_000, history=HISTORY_TASKS)
    ratio = full / empty
    ROWS.append(
        Row(
            f"3. 1,000 true after {HISTORY_TASKS:,} finished tasks",
            f"{full:.3f}s",
            f"{empty:.3f}s empty",
            f"{ratio:.2f}x",
            f"{HISTORY_BUDGET:g}x",
            "ok" if ratio <= HISTORY_BUDGET else "OVER",
        )
    )


def main() -> int:
    compile_package()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="focusq-bench-scale-") as tmp:
        for title, bench in (
            ("1. per-job cost and memory", bench_per_job),
            ("1b. one lock shared by every job", bench_one_lock),
            ("2. the whole path", bench_whole_path),
            ("3. a long history", bench_history),
        ):
            print(f"{title} ...", flush=True)
            try:
                bench(tmp)
            except Exception as exc:
                PROBLEMS.append(f"{title}: {exc!r}")
                traceback.print_exc()
    print_report(ROWS, PROBLEMS, began, detail=f", cap {CAP}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
