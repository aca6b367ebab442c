"""How jobs on a Dask cluster perform, against the same measure on the local executor.

Run it directly: ``python tests/bench/bench_dask.py``. It needs ``distributed`` (the
``focusq[dask]`` extra) and says so in one line without it. Each figure gets its own
throwaway ``FOCUSQ_HOME`` with a config of one executor ``here`` with no address, so its
worker (``focusq worker --foreground``, the installed console script) starts a loopback
cluster of 2 Dask workers x 1 thread under ``$FOCUSQ_HOME/executors/here``. The worker is
always stopped (SIGTERM, then wait), then the cluster (``dask_cluster.stop``), even on error.
Every figure is taken with the cluster already up: a first job starts it.

1. Dispatch: ``focusq add on:here -- date +%s%N`` returned -> the command ran (its output
   in the local log), median of 20 runs after a warm-up, on an idle worker. Baselines in
   the same run: the same measure without ``on:`` (the local executor, same worker), and
   ``date`` spawned straight from here.
2. Ends: a job's last action (``date +%s%N``) -> its run's ``ended_at`` set in the
   database; ``focusq cancel ID`` returned -> ``ended_at`` set, for a job that ends at once
   on TERM. Baseline: the same on the local executor.
3. Throughput: 1,000 ``true`` through the Dask executor (max_parallel 2) against the local
   executor at cap 2, makespan from the runs table (first start -> last end).
4. Log copy: a job writing 100 MB to stdout on the Dask executor, from the job's start to
   the local log complete and byte-identical (sha256). Baseline: the same job on the local
   executor, which writes its log directly.

The local path's own figures are bench_engine.py's. It prints a table with each figure, its
baseline, the ratio and the budget. It reports; it never fails: the exit code is 0 whatever
the numbers.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_engine import (
    PROBLEMS,
    direct_spawn_latency,
    make_env,
    ms,
    query,
    read_date_ns,
    running_worker,
    wait_for,
    worker_up,
)
from common import Row, compile_package, focusq_command, print_report

EXECUTOR = "here"
CAP = 2
CONFIG = f"""
[executors.{EXECUTOR}]
workers = 2
threads = 1
max_parallel = {CAP}
follow_interval = 0.1
"""
CLUSTER_TIMEOUT = 60.0
LATENCY_RUNS = 20
LATENCY_WARMUP = 1
LATENCY_BUDGET_MS = 50.0
END_RUNS = 10
END_BUDGET_MS = 50.0
CANCEL_RUNS = 10
CANCEL_BUDGET_MS = 100.0
THROUGHPUT_JOBS = 1000
THROUGHPUT_BUDGET = 3.0
THROUGHPUT_TIMEOUT = 90.0
LOG_BYTES = 100_000_000
LOG_BUDGET_MBS = 50.0
LOG_TIMEOUT = 60.0

ROWS: list[Row] = []
FOCUSQ = focusq_command()
# PROBLEMS is bench_engine's list: its running_worker reports there too.


# -- plumbing -------------------------------------------------------------------------------


@dataclass
class Home:
    """One figure's throwaway home, its running worker and how to reach them."""

    home: str
    work: str
    env: dict[str, str]
    database: str
    logs: str
    worker: subprocess.Popen[bytes]
    worker_log: str

    def check(self) -> None:
        """Raise if the worker is gone: every later job would wait in vain."""
        if self.worker.poll() is not None:
            raise RuntimeError(worker_gone(self.worker, self.worker_log))

    def log_tail(self) -> str:
        return f"the worker's log ends: {tail_of(self.worker_log)}"

    def add(self, *words: str) -> int:
        """``focusq add WORDS`` from the work folder; the new task's id."""
        self.check()
        result = self.focusq("add", *words)
        if result.returncode != 0:
            raise RuntimeError(f"focusq add {' '.join(words)} failed: {result.stderr.strip()}")
        return int(result.stdout.split()[0])

    def focusq(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*FOCUSQ, *args], capture_output=True, text=True, env=self.env, cwd=self.work
        )

    def status(self, task_id: int) -> str | None:
        rows = query(self.database, "SELECT status FROM tasks WHERE id=?", (task_id,))
        return rows[0][0] if rows else None

    def run(self, task_id: int) -> dict[str, object] | None:
        """The task's first run: pid, started_at, ended_at, result, exit_code, executor."""
        sql = (
            "SELECT pid, started_at, ended_at, result, exit_code, executor, host, log_path "
            "FROM runs WHERE task_id=? ORDER BY attempt LIMIT 1"
        )
        rows = query(self.database, sql, (task_id,))
        keys = ("pid", "started_at", "ended_at", "result", "exit_code", "executor", "host", "log")
        return dict(zip(keys, rows[0], strict=True)) if rows else None

    def wait_ended(self, task_id: int, timeout: float) -> bool:
        ended = wait_for(lambda: self.status(task_id) not in (None, "queued", "running"), timeout)
        if not ended:
            self.check()
        return ended

    def log_path(self, task_id: int) -> str:
        return os.path.join(self.logs, f"{task_id}-1.log")


def record_error(name: str, exc: BaseException) -> None:
    ROWS.append(Row(name, "error", "-", "-", "-", "ERROR"))
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    PROBLEMS.append(f"{name}: the benchmark failed: {detail}")
    traceback.print_exc()


def cluster_folder(home: str) -> str:
    return os.path.join(home, "executors", EXECUTOR)


@contextlib.contextmanager
def bench_home(tmp: str, name: str, *, cap: int = CAP) -> Iterator[Home]:
    """A home with the ``here`` executor and a running worker; the worker, then the Dask
    cluster it started, stopped however the block ends."""
    home = os.path.join(tmp, f"{name}-home")
    work = os.path.join(tmp, f"{name}-work")
    os.makedirs(home)
    os.makedirs(work)
    config = os.path.join(home, "config.toml")
    with open(config, "w", encoding="utf-8") as file:
        file.write(CONFIG)
    env = make_env(home, idle_exit=600, cap=cap)
    env["FOCUSQ_CONFIG_FILE"] = config
    database = os.path.join(home, "focusq.db")
    worker_log = os.path.join(tmp, f"{name}-worker.log")
    try:
        with running_worker(env, worker_log) as proc:
            if not wait_for(lambda: worker_up(database, worker_log), 20):
                raise RuntimeError(f"the worker did not start within 20s (exit {proc.poll()})")
            logs = os.path.join(home, "logs")
            yield Home(home, work, env, database, logs, proc, worker_log)
            if proc.poll() is not None:
                raise RuntimeError(worker_gone(proc, worker_log))
    finally:
        stop_cluster(cluster_folder(home))


def worker_gone(proc: subprocess.Popen[bytes], log_path: str) -> str:
    """Why the figure stopped: the worker exited on its own, and its log's last lines."""
    return (
        f"the worker exited on its own (code {proc.returncode}); its log ends: {tail_of(log_path)}"
    )


def tail_of(path: str, lines: int = 5) -> str:
    """The last ``lines`` lines of a log, joined on one line."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return " | ".join(file.read().strip().splitlines()[-lines:])
    except OSError as exc:
        return f"(unreadable: {exc})"


def stop_cluster(folder: str) -> None:
    """Stop the loopback cluster in ``folder`` as ``focusq executor stop`` does, then
    anything of it still running (a cluster whose start was cut short has no
    ``cluster.json``): the Dask processes whose command line names this folder."""
    from focusq.engine import dask_cluster

    with contextlib.suppress(OSError, ValueError, KeyError):
        dask_cluster.stop(folder)
    left = cluster_processes(folder)
    if not left:
        return
    PROBLEMS.append(f"{len(left)} process(es) of the cluster in {folder} outlived its stop")
    for pid in left:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def cluster_processes(folder: str) -> list[int]:
    """Pids of the ``distributed.cli`` processes started for ``folder`` (its scheduler
    file or a worker's local directory is on their command line)."""
    needle = folder.encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as file:
                argv = file.read()
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as file:
                state = file.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if b"distributed.cli" in argv and needle in argv and state not in ("Z", "X"):
            found.append(int(entry))
    return found


def warm_up(home: Home) -> float:
    """Run one job on ``here`` so its cluster is up and the worker's client connected;
    the seconds from ``add`` returned to the job done."""
    began = time.perf_counter()
    task_id = home.add(f"on:{EXECUTOR}", "--", "true")
    if not home.wait_ended(task_id, CLUSTER_TIMEOUT):
        raise RuntimeError(
            f"the first job on {EXECUTOR} did not end within {CLUSTER_TIMEOUT:g}s "
            f"(status {home.status(task_id)!r}; see {cluster_folder(home.home)})"
        )
    if home.status(task_id) != "done":
        run = home.run(task_id)
        raise RuntimeError(f"the first job on {EXECUTOR} ended {home.status(task_id)!r}: {run}")
    return time.perf_counter() - began


def median_row(
    name: str, values: list[float], base: float, base_label: str, budget_ms: float
) -> Row:
    value = statistics.median(values)
    return Row(
        name,
        ms(value),
        f"{ms(base)} {base_label}",
        f"{value / base:.1f}x" if base > 0 else "-",
        f"{budget_ms:g}ms",
        "ok" if value * 1000 <= budget_ms else "OVER",
    )


def spread(values: list[float]) -> str:
    return " ".join(f"{x * 1000:.1f}" for x in values)


# -- 1. dispatch ----------------------------------------------------------------------------


def dispatch_once(home: Home, placement: list[str]) -> tuple[float, float] | None:
    """Seconds from ``add`` returned to the job's ``date``, and the add's own time."""
    t_before = time.time_ns()
    task_id = home.add(*placement, "--", "/bin/date", "+%s%N")
    t_returned = time.time_ns()
    log_path = home.log_path(task_id)

    def printed() -> bool:
        return read_date_ns(log_path) is not None

    if not wait_for(printed, 10) or not home.wait_ended(task_id, 10):
        where = " ".join(placement) or "local"
        home.check()
        PROBLEMS.append(
            f"dispatch ({where}): job #{task_id} had not run 10s after its add "
            f"(status {home.status(task_id)!r})"
        )
        return None
    if home.status(task_id) != "done":
        PROBLEMS.append(f"dispatch: job #{task_id} ended {home.status(task_id)!r}")
    started_ns = read_date_ns(log_path)
    assert started_ns is not None
    return (started_ns - t_returned) / 1e9, (t_returned - t_before) / 1e9


def bench_dispatch(tmp: str) -> None:
    name = "1. dispatch"
    spawn = [direct_spawn_latency() for _ in range(LATENCY_RUNS + LATENCY_WARMUP)]
    spawn = spawn[LATENCY_WARMUP:]
    found: dict[str, list[float]] = {"dask": [], "local": []}
    adds: dict[str, list[float]] = {"dask": [], "local": []}
    with bench_home(tmp, "dispatch") as home:
        first = warm_up(home)
        print(f"  the cluster's first job (cluster start, client connect) took {first:.2f}s")
        time.sleep(0.3)
        # Alternate the two executors, so drift on the machine hits both alike.
        misses = 0
        for n in range(LATENCY_WARMUP + LATENCY_RUNS):
            for label, placement in (("dask", [f"on:{EXECUTOR}"]), ("local", [])):
                measured = dispatch_once(home, placement)
                misses = misses + 1 if measured is None else 0
                if misses >= 3:
                    raise RuntimeError(f"3 jobs in a row did not run; {home.log_tail()}")
                if measured is not None and n >= LATENCY_WARMUP:
                    found[label].append(measured[0])
                    adds[label].append(measured[1])
                time.sleep(0.25)  # let the worker go idle again
    if not found["dask"]:
        raise RuntimeError("no job ran on the Dask executor")
    spawn_median = statistics.median(spawn)
    for label in ("dask", "local"):
        values = found[label]
        if values:
            print(
                f"  {label}: {len(values)} runs, 'focusq add' took "
                f"{ms(statistics.median(adds[label]))} (median); add returned -> date ran "
                f"(ms): {spread(values)}"
            )
    local = statistics.median(found["local"]) if found["local"] else 0.0
    ROWS.append(
        median_row(
            f"{name} on:{EXECUTOR} (median)", found["dask"], local, "local", LATENCY_BUDGET_MS
        )
    )
    worst = max(found["dask"])
    ROWS.append(Row(f"{name} on:{EXECUTOR} (max)", ms(worst), "-", "-", "-", "info"))
    if found["local"]:
        ROWS.append(
            median_row(
                f"{name} local (median)", found["local"], spawn_median, "spawn", LATENCY_BUDGET_MS
            )
        )
    print(f"  date spawned from here: median {ms(spawn_median)}")


# -- 2. task ended -> recorded, cancel -> ended ---------------------------------------------


def end_once(home: Home, placement: list[str]) -> float | None:
    """Seconds from the job's last action to its run's ``ended_at`` seen in the database."""
    task_id = home.add(*placement, "--shell", "--", "sleep 0.3; date +%s%N")
    seen_ns = ended_seen(home, task_id)
    if seen_ns is None:
        home.check()
        PROBLEMS.append(f"end: job #{task_id}'s run not ended 15s after its add")
        return None
    if not home.wait_ended(task_id, 5) or home.status(task_id) != "done":
        PROBLEMS.append(f"end: job #{task_id} ended {home.status(task_id)!r}")
    last_ns = read_date_ns(home.log_path(task_id))
    if last_ns is None:
        PROBLEMS.append(f"end: job #{task_id}'s log holds no date")
        return None
    return (seen_ns - last_ns) / 1e9


def ended_seen(home: Home, task_id: int) -> int | None:
    """When (``time.time_ns()``) the run of ``task_id`` was first seen ended, looking every
    millisecond for up to 15 s; ``None`` if it was not."""
    seen_ns: list[int] = []

    def ended() -> bool:
        run = home.run(task_id)
        if run is not None and run["ended_at"] is not None:
            seen_ns.append(time.time_ns())
            return True
        return False

    return seen_ns[0] if wait_for(ended, 15, interval=0.001) else None


def cancel_once(home: Home, placement: list[str]) -> float | None:
    """Seconds from ``focusq cancel`` returned to the run's ``ended_at`` seen, for ``sleep``
    (which ends at once on TERM)."""
    task_id = home.add(*placement, "--", "sleep", "600")

    def started() -> bool:
        run = home.run(task_id)
        return run is not None and run["pid"] is not None

    if not wait_for(started, 15):
        home.check()
        PROBLEMS.append(f"cancel: job #{task_id}'s start not recorded within 15s")
        home.focusq("cancel", str(task_id))
        home.wait_ended(task_id, 15)
        return None
    time.sleep(0.2)  # running for a while, its log followed
    result = home.focusq("cancel", str(task_id))
    returned_ns = time.time_ns()
    if result.returncode != 0:
        raise RuntimeError(f"focusq cancel {task_id} failed: {result.stderr.strip()}")
    seen_ns = ended_seen(home, task_id)
    if seen_ns is None:
        home.check()
        PROBLEMS.append(f"cancel: job #{task_id}'s run not ended 15s after its cancel")
        return None
    home.wait_ended(task_id, 5)
    status, run = home.status(task_id), home.run(task_id)
    assert run is not None
    if status != "cancelled" or run["exit_code"] not in (None, -15, 143):
        PROBLEMS.append(
            f"cancel: job #{task_id} ended {status!r}, result {run['result']!r}, "
            f"exit code {run['exit_code']!r}"
        )
    return (seen_ns - returned_ns) / 1e9


def bench_ends(tmp: str) -> None:
    found: dict[tuple[str, str], list[float]] = {}
    with bench_home(tmp, "ends") as home:
        warm_up(home)
        time.sleep(0.3)
        for what, once, runs in (("end", end_once, END_RUNS), ("cancel", cancel_once, CANCEL_RUNS)):
            for n in range(runs + 1):  # the first of each kind is a warm-up
                for label, placement in (("dask", [f"on:{EXECUTOR}"]), ("local", [])):
                    value = once(home, placement)
                    if value is not None and n > 0:
                        found.setdefault((what, label), []).append(value)
                    time.sleep(0.15)
    for what, title, budget in (
        ("end", "2. job's last action -> ended_at", END_BUDGET_MS),
        ("cancel", "2. cancel returned -> ended_at", CANCEL_BUDGET_MS),
    ):
        dask = found.get((what, "dask"), [])
        local = found.get((what, "local"), [])
        for label, values in (("dask", dask), ("local", local)):
            if values:
                print(f"  {what}, {label}: {len(values)} runs (ms): {spread(values)}")
        if not dask:
            ROWS.append(Row(f"{title} on:{EXECUTOR}", "no run", "-", "-", "-", "ERROR"))
            continue
        base = statistics.median(local) if local else 0.0
        ROWS.append(median_row(f"{title} on:{EXECUTOR} (median)", dask, base, "local", budget))
        ROWS.append(Row(f"{title} on:{EXECUTOR} (max)", ms(max(dask)), "-", "-", "-", "info"))


# -- 3. throughput --------------------------------------------------------------------------


def throughput(tmp: str, label: str, executor: str | None) -> tuple[float, float]:
    """Seed 1,000 ``true`` (on ``executor``, or local) into a worker that has run one job
    there; their makespan from the runs table, and the wall time from the seed to all done."""
    from focusq import quickadd
    from focusq.store.ops import tasks
    from focusq.store.sync import SyncStore

    with bench_home(tmp, f"throughput-{label}") as home:
        if executor is None:
            warm = home.add("--", "true")
            if not home.wait_ended(warm, 15):
                raise RuntimeError("the local warm-up job did not end")
        else:
            warm_up(home)
        time.sleep(0.3)
        now = time.time()
        drafts = []
        for n in range(THROUGHPUT_JOBS):
            draft = quickadd.parse([f"true {n}"], ["true"], now=now)
            draft.cwd = home.work
            if executor is not None:
                draft.executor = executor
            drafts.append(draft)
        began = time.perf_counter()
        with SyncStore(home.database) as store:
            ids = store.run(tasks.add_tasks(drafts, now))
        low, high = min(ids), max(ids)

        def all_ended() -> bool:
            sql = "SELECT count(*) FROM runs WHERE task_id BETWEEN ? AND ? AND ended_at IS NOT NULL"
            return query(home.database, sql, (low, high))[0][0] == len(ids)

        if not wait_for(all_ended, THROUGHPUT_TIMEOUT, interval=0.05):
            home.check()
            PROBLEMS.append(
                f"throughput ({label}): not all {len(ids)} jobs ended within "
                f"{THROUGHPUT_TIMEOUT:g}s"
            )
        wall = time.perf_counter() - began
        home.wait_ended(high, 5)
        counts = dict(
            query(
                home.database,
                "SELECT status, count(*) FROM tasks WHERE id BETWEEN ? AND ? GROUP BY status",
                (low, high),
            )
        )
        if counts.get("done", 0) != len(ids):
            PROBLEMS.append(f"throughput ({label}): tasks by status {counts}")
        where = dict(
            query(
                home.database,
                "SELECT coalesce(executor, 'local'), count(*) FROM runs "
                "WHERE task_id BETWEEN ? AND ? GROUP BY 1",
                (low, high),
            )
        )
        expected = executor or "local"
        if where.get(expected, 0) != len(ids):
            PROBLEMS.append(f"throughput ({label}): runs by executor {where}")
        first, last = query(
            home.database,
            "SELECT min(started_at), max(ended_at) FROM runs WHERE task_id BETWEEN ? AND ?",
            (low, high),
        )[0]
        floor = bare_dask(home) if executor is not None else None
    span = float(last) - float(first)
    print(
        f"  {label}: makespan {span:.3f}s ({len(ids) / span:.0f} jobs/s, "
        f"{span / len(ids) * 1000:.2f} ms/job), seed to all ended {wall:.3f}s; {counts}"
    )
    if floor is not None:
        FLOOR.append(floor)
    return span, wall


FLOOR: list[float] = []
"""Seconds bare Dask took for the same 1,000 ``true`` on the same cluster (one figure)."""


def bare_dask(home: Home) -> float:
    """The floor under the Dask executor: 1,000 ``true`` submitted by a bare client to the
    same cluster, at most 2 in flight (focusq's cap), no claim, log or result copy: the
    seconds from the first submit to the last result."""
    import asyncio
    import json

    from distributed import Client

    with open(os.path.join(cluster_folder(home.home), "cluster.json"), encoding="utf-8") as file:
        address = json.load(file)["address"]

    async def run() -> float:
        async with Client(address, asynchronous=True) as client:
            slots = asyncio.Semaphore(CAP)

            async def one(n: int) -> int:
                async with slots:
                    done = await client.submit(subprocess.run, ["true"], key=f"floor-{n}")
                    return int(done.returncode)

            began = time.perf_counter()
            codes = await asyncio.gather(*(one(n) for n in range(THROUGHPUT_JOBS)))
            took = time.perf_counter() - began
            if any(codes):
                PROBLEMS.append(f"bare Dask: {sum(map(bool, codes))} true(s) failed")
            return took

    took = asyncio.run(run())
    print(f"  bare Dask, same cluster, {CAP} in flight: {took:.3f}s")
    return took


def bench_throughput(tmp: str) -> None:
    name = f"3. {THROUGHPUT_JOBS:,} true, 2 slots, makespan"
    local, _ = throughput(tmp, "local", None)
    dask, _ = throughput(tmp, "dask", EXECUTOR)
    ratio = dask / local
    ROWS.append(
        Row(
            f"{name} on:{EXECUTOR}",
            f"{dask:.3f}s",
            f"{local:.3f}s local",
            f"{ratio:.2f}x",
            f"{THROUGHPUT_BUDGET:g}x",
            "ok" if ratio <= THROUGHPUT_BUDGET else "OVER",
        )
    )
    if FLOOR:
        floor = FLOOR[-1]
        ROWS.append(
            Row(
                f"{name}: bare Dask client (floor)",
                f"{floor:.3f}s",
                f"{local:.3f}s local",
                f"{floor / local:.2f}x",
                "-",
                "info",
            )
        )
        ROWS.append(
            Row(
                f"{name} on:{EXECUTOR} vs the floor",
                f"{dask:.3f}s",
                f"{floor:.3f}s bare",
                f"{dask / floor:.2f}x",
                "-",
                "info",
            )
        )


# -- 4. log copy ----------------------------------------------------------------------------


def expected_sha256(size: int, byte: bytes = b"x") -> str:
    digest = hashlib.sha256()
    block = byte * (1 << 20)
    left = size
    while left:
        digest.update(block[: min(left, len(block))])
        left -= min(left, len(block))
    return digest.hexdigest()


def body_sha256(path: str) -> tuple[str, int]:
    """The sha256 and size of the log after its three ``#`` header lines."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as file:
        for _ in range(3):
            line = file.readline()
            if not line.startswith(b"#"):
                raise ValueError(f"{path}: no focusq header (read {line[:80]!r})")
        while chunk := file.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def header_size(path: str) -> int | None:
    """Bytes of the log's header, once its three lines are there."""
    with open(path, "rb") as file:
        head = file.read(4096)
    parts = head.split(b"\n", 3)
    return None if len(parts) < 4 else len(head) - len(parts[3])


def log_copy(home: Home, placement: list[str], label: str, sha: str) -> float | None:
    """MB/s from the job's start (its first action writes the time to a file) to its local
    log complete and byte-identical."""
    mark = os.path.join(home.work, f"started-{label}")
    script = f"date +%s%N > {mark}; head -c {LOG_BYTES} /dev/zero | tr '\\0' x"
    task_id = home.add(*placement, "--shell", "--", script)
    log_path = home.log_path(task_id)
    complete_ns: list[int] = []

    def complete() -> bool:
        head = header_size(log_path)
        if head is not None and os.path.getsize(log_path) >= head + LOG_BYTES:
            complete_ns.append(time.time_ns())
            return True
        return False

    try:
        if not wait_for(complete, LOG_TIMEOUT, interval=0.005):
            size = os.path.getsize(log_path) if os.path.exists(log_path) else 0
            home.check()
            PROBLEMS.append(
                f"log copy ({label}): the local log held {size:,} bytes {LOG_TIMEOUT:g}s after "
                f"the add (status {home.status(task_id)!r})"
            )
            return None
        if not home.wait_ended(task_id, 15) or home.status(task_id) != "done":
            PROBLEMS.append(f"log copy ({label}): job #{task_id} ended {home.status(task_id)!r}")
        with open(mark, encoding="ascii") as file:
            started_ns = int(file.read().strip())
        got, size = body_sha256(log_path)
        if got != sha or size != LOG_BYTES:
            PROBLEMS.append(
                f"log copy ({label}): the local log's body is {size:,} bytes, sha256 {got[:16]}, "
                f"not {LOG_BYTES:,} bytes of x (sha256 {sha[:16]})"
            )
            return None
        seconds = (complete_ns[0] - started_ns) / 1e9
        print(
            f"  {label}: {LOG_BYTES:,} bytes in {seconds:.3f}s from the job's start to its "
            f"local log complete, sha256 matches"
        )
        return LOG_BYTES / 1e6 / seconds
    finally:
        with contextlib.suppress(OSError):
            os.remove(log_path)


def bench_log_copy(tmp: str) -> None:
    name = "4. log copy, 100 MB on stdout"
    sha = expected_sha256(LOG_BYTES)
    with bench_home(tmp, "logcopy") as home:
        warm_up(home)
        time.sleep(0.3)
        local = log_copy(home, [], "local", sha)
        dask = log_copy(home, [f"on:{EXECUTOR}"], "dask", sha)
    if dask is None:
        ROWS.append(Row(f"{name} on:{EXECUTOR}", "failed", "-", "-", "-", "ERROR"))
        return
    ROWS.append(
        Row(
            f"{name} on:{EXECUTOR}",
            f"{dask:.1f}MB/s",
            f"{local:.1f}MB/s local" if local else "-",
            f"{dask / local:.2f}x" if local else "-",
            f">={LOG_BUDGET_MBS:g}MB/s",
            "ok" if dask >= LOG_BUDGET_MBS else "UNDER",
        )
    )


# -- main -----------------------------------------------------------------------------------


def main() -> int:
    if importlib.util.find_spec("distributed") is None:
        print("bench_dask: skipped, distributed is not installed (pip install 'focusq[dask]')")
        return 0
    compile_package()
    began = time.perf_counter()
    benches: tuple[tuple[str, Callable[[str], None]], ...] = (
        ("1. dispatch", bench_dispatch),
        ("2. ended -> recorded, cancel -> ended", bench_ends),
        ("3. throughput", bench_throughput),
        ("4. log copy", bench_log_copy),
    )
    with tempfile.TemporaryDirectory(prefix="focusq-bench-dask-") as tmp:
        for title, bench in benches:
            print(f"{title} ...", flush=True)
            try:
                bench(tmp)
            except Exception as exc:
                record_error(title, exc)
    notes = [
        f"executor {EXECUTOR}: a loopback Dask cluster of 2 workers x 1 thread, max_parallel "
        f"{CAP}, follow_interval 0.1s; local baselines at cap {CAP} in the same run"
    ]
    print_report(ROWS, PROBLEMS, began, detail=f", cap {CAP}", notes=notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
