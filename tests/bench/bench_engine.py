"""How the engine performs: dispatch latency, throughput, DAG makespan and worker memory.

Run it directly: ``python tests/bench/bench_engine.py``. Each benchmark gets its own
throwaway ``FOCUSQ_HOME`` and its own ``focusq worker --foreground`` (the installed
console script), which is always stopped (SIGTERM, then wait) when the benchmark ends,
even on error; jobs a stopped worker leaves behind are stopped too.

1. Dispatch latency: ``focusq add`` of a job on an idle worker, from the moment the
   ``add`` process returned to the moment the job's command ran (``date +%s%N`` in its
   log). Baseline: the same measure for ``/bin/date`` spawned straight from here.
2. Throughput: 1,000 ``true`` jobs, cap 3, against ``xargs -P3`` (and ``tsp -S 3`` when
   task-spooler is installed).
3. Makespan of DAGs of ``sleep`` jobs whose durations the scheduler is told, against the
   lower bound max(critical path, total work / 3), with FIFO's makespan simulated beside.
4. The worker's memory while a job writes 1 GB to its log.

It prints a table with each figure, its baseline, the ratio and the budget. It reports;
it never fails: the exit code is 0 whatever the numbers.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

CAP = 3
LATENCY_RUNS = 20
LATENCY_WARMUP = 1
LATENCY_BUDGET_MS = 50.0
THROUGHPUT_JOBS = 1000
THROUGHPUT_BUDGET = 2.0
THROUGHPUT_IDLE_EXIT = 0.5
DAG_BUDGET = 1.10
DAG_IDLE_EXIT = 0.5
MEMORY_BYTES = 1_000_000_000
MEMORY_BUDGET_MB = 100.0
SAMPLE_SECONDS = 0.05


from common import Row, compile_package, focusq_command, print_report  # noqa: E402

ROWS: list[Row] = []
PROBLEMS: list[str] = []
"""Anything that looks like a bug: a job that never ran, a wrong status, a worker crash."""


# -- plumbing -------------------------------------------------------------------------------


FOCUSQ = focusq_command()


def make_env(home: str, *, idle_exit: float, cap: int = CAP) -> dict[str, str]:
    """This process's environment without any FOCUSQ_ setting, plus the benchmark's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOCUSQ_")}
    env["FOCUSQ_HOME"] = home
    env["FOCUSQ_WORKER__IDLE_EXIT"] = str(idle_exit)
    env["FOCUSQ_WORKER__AUTOSTART"] = "false"
    env["FOCUSQ_ENGINE__MAX_PARALLEL"] = str(cap)
    return env


def query(database: str, sql: str, params: Sequence[object] = ()) -> list[tuple]:
    """Rows from a short read-only connection (never creates the file)."""
    con = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.002) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError, sqlite3.Error, ValueError, IndexError):
            if predicate():
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def lease_taken(database: str) -> bool:
    return bool(query(database, "SELECT 1 FROM lease WHERE heartbeat IS NOT NULL"))


def worker_up(database: str, log_path: str) -> bool:
    """The worker holds the lease and logged that it started."""
    if not lease_taken(database):
        return False
    with open(log_path, encoding="utf-8", errors="replace") as file:
        return "started for" in file.read()


@contextlib.contextmanager
def running_worker(env: dict[str, str], log_path: str) -> Iterator[subprocess.Popen[bytes]]:
    """``focusq worker --foreground``, stopped (SIGTERM, wait) however the block ends."""
    home = env["FOCUSQ_HOME"]
    os.makedirs(home, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [*FOCUSQ, "worker", "--foreground"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=home,
        )
    try:
        yield proc
    finally:
        stop_worker(proc)
        stop_leftover_jobs(home)
        check_worker_log(log_path)


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            PROBLEMS.append(f"worker pid {proc.pid} ignored SIGTERM for 15s; killed it")
            proc.kill()
            proc.wait()


def stop_leftover_jobs(home: str) -> None:
    """SIGTERM the group of each job still running when its worker stopped.

    Its pid is in the runs table, or in the pid file its supervisor wrote if the worker
    had not recorded it yet.
    """
    pids: set[int] = set()
    with contextlib.suppress(OSError, sqlite3.Error):
        sql = "SELECT pgid FROM runs WHERE ended_at IS NULL"
        rows = query(os.path.join(home, "focusq.db"), sql)
        pids.update(pgid for (pgid,) in rows if pgid)
    logs = os.path.join(home, "logs")
    for name in os.listdir(logs) if os.path.isdir(logs) else ():
        if name.endswith(".pid"):
            with contextlib.suppress(OSError, ValueError), open(os.path.join(logs, name)) as file:
                pids.add(int(file.read().strip()))
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as file:
                fields = file.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{fields[1]}/cmdline", "rb") as file:
                parent = file.read()
        except (OSError, IndexError):
            continue
        # Only our job: it leads its own session and focusq's job supervisor started it.
        if int(fields[3]) == pid and b"focusq/engine/supervisor.py" in parent:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGTERM)


def check_worker_log(log_path: str) -> None:
    """Report a traceback in the worker's log: a crash is a bug whatever the numbers say."""
    try:
        with open(log_path, encoding="utf-8", errors="replace") as file:
            text = file.read()
    except OSError:
        return
    if "Traceback" in text:
        start = text.index("Traceback")
        excerpt = "\n    ".join(text[start:].strip().splitlines()[-12:])
        PROBLEMS.append(
            f"worker log {os.path.basename(log_path)} holds a traceback:\n    {excerpt}"
        )


def seed(
    database: str, cwd: str, specs: Sequence[tuple[str, list[str], float | None, list[int]]]
) -> list[int]:
    """Add ``(title, command, estimate, after)`` tasks in one transaction; return their ids.

    ``after`` holds 0-based indices into ``specs``, as ``tasks.add_tasks`` takes them
    (negative: -1 is the first draft of the batch).
    """
    from focusq import quickadd
    from focusq.store.ops import tasks
    from focusq.store.sync import SyncStore

    now = time.time()
    drafts = []
    for title, command, seconds, after in specs:
        draft = quickadd.parse([title], command, now=now)
        draft.cwd = cwd
        if seconds is not None:
            # est: in a quick-add line takes whole seconds; the store takes any float.
            draft.estimate = seconds  # type: ignore[assignment]
        if after:
            draft.after = [-(i + 1) for i in after]
        drafts.append(draft)
    os.makedirs(os.path.dirname(database), exist_ok=True)
    with SyncStore(database) as store:
        return store.run(tasks.add_tasks(drafts, now))


def status_counts(database: str) -> dict[str, int]:
    return dict(query(database, "SELECT status, count(*) FROM tasks GROUP BY status"))


def makespan(database: str) -> float:
    first, last = query(database, "SELECT min(started_at), max(ended_at) FROM runs")[0]
    return float(last) - float(first)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}ms"


def record_error(name: str, exc: BaseException) -> None:
    ROWS.append(Row(name, "error", "-", "-", "-", "ERROR"))
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    PROBLEMS.append(f"{name}: the benchmark failed: {detail}")
    traceback.print_exc()


# -- 1. dispatch latency --------------------------------------------------------------------


def read_date_ns(log_path: str) -> int | None:
    """The ``date +%s%N`` the job printed after the log's three ``#`` header lines."""
    with open(log_path, encoding="utf-8", errors="replace") as file:
        lines = [line for line in file.read().splitlines() if line and not line.startswith("#")]
    return int(lines[0]) if lines else None


def direct_spawn_latency() -> float:
    """Seconds from just before spawning ``/bin/date +%s%N`` here to the time it printed."""
    before = time.time_ns()
    out = subprocess.run(["/bin/date", "+%s%N"], capture_output=True, check=True).stdout
    return (int(out) - before) / 1e9


def bench_latency(tmp: str) -> None:
    name = "1. dispatch latency"
    home = os.path.join(tmp, "latency-home")
    work = os.path.join(tmp, "latency-work")
    os.makedirs(work)
    env = make_env(home, idle_exit=60)
    database = os.path.join(home, "focusq.db")
    logs = os.path.join(home, "logs")
    worker_log = os.path.join(tmp, "latency-worker.log")

    baseline = [direct_spawn_latency() for _ in range(LATENCY_RUNS + LATENCY_WARMUP)]
    baseline = baseline[LATENCY_WARMUP:]

    latencies: list[float] = []
    noticed: list[float] = []
    add_times: list[float] = []
    with running_worker(env, worker_log) as proc:
        if not wait_for(lambda: worker_up(database, worker_log), 20):
            raise RuntimeError(f"the worker did not start within 20s (exit {proc.poll()})")
        time.sleep(0.3)  # let its first ticks settle
        for n in range(LATENCY_WARMUP + LATENCY_RUNS):
            t_before = time.time_ns()
            result = subprocess.run(
                [*FOCUSQ, "add", "--", "/bin/date", "+%s%N"],
                capture_output=True,
                text=True,
                env=env,
                cwd=work,
                check=False,
            )
            t_returned = time.time_ns()
            if result.returncode != 0:
                raise RuntimeError(f"focusq add failed: {result.stderr.strip()}")
            task_id = int(result.stdout.split()[0])
            prefix = os.path.join(logs, f"{task_id}-1")
            if not wait_for(
                lambda t=task_id: (
                    query(database, "SELECT status FROM tasks WHERE id=?", (t,))[0][0] == "done"
                ),
                10,
            ):
                state = query(database, "SELECT status FROM tasks WHERE id=?", (task_id,))
                PROBLEMS.append(f"latency: job #{task_id} not done 10s after its add: {state}")
                continue
            started_ns = read_date_ns(prefix + ".log")
            claimed = query(database, "SELECT started_at FROM runs WHERE task_id=?", (task_id,))
            if n >= LATENCY_WARMUP and started_ns is not None:
                latencies.append((started_ns - t_returned) / 1e9)
                noticed.append(claimed[0][0] - t_returned / 1e9)
                add_times.append((t_returned - t_before) / 1e9)
            time.sleep(0.25)  # the worker's own writes wake it once more: let it go idle

    if not latencies:
        raise RuntimeError("no job ran")
    base = statistics.median(baseline)
    median = statistics.median(latencies)
    worst = max(latencies)
    print(
        f"  {len(latencies)} runs; 'focusq add' itself took {ms(statistics.median(add_times))} "
        f"(median); after it returned: worker claimed the task at "
        f"{ms(statistics.median(noticed))}, its date ran at {ms(median)} (medians)"
    )
    print(
        f"  all latencies (ms; below 0: the job ran before 'focusq add' had exited): "
        f"{' '.join(f'{x * 1000:.1f}' for x in latencies)}"
    )
    for label, value in (("median", median), ("max", worst)):
        ROWS.append(
            Row(
                f"{name} ({label})",
                ms(value),
                f"{ms(base)} spawn",
                f"{value / base:.1f}x" if base > 0 else "-",
                f"{LATENCY_BUDGET_MS:g}ms",
                "ok" if value * 1000 <= LATENCY_BUDGET_MS else "OVER",
            )
        )


# -- 2. throughput --------------------------------------------------------------------------


def time_shell(command: str, cwd: str) -> float:
    started = time.perf_counter()
    subprocess.run(command, shell=True, check=True, cwd=cwd)
    return time.perf_counter() - started


def bench_tsp(tmp: str) -> float | None:
    """``tsp -S 3`` running 1,000 ``true`` jobs on its own socket; ``None`` if not installed."""
    tsp = shutil.which("tsp")
    if tsp is None:
        return None
    env = dict(os.environ)
    env["TS_SOCKET"] = os.path.join(tmp, "tsp.socket")
    env["TMPDIR"] = tmp
    env["TS_MAXFINISHED"] = str(THROUGHPUT_JOBS + 10)
    subprocess.run([tsp, "-S", str(CAP)], env=env, check=True, capture_output=True)
    try:
        started = time.perf_counter()
        for _ in range(THROUGHPUT_JOBS):
            subprocess.run([tsp, "-n", "true"], env=env, check=True, capture_output=True)
        subprocess.run([tsp, "-w"], env=env, check=False, capture_output=True)
        # -w waits for the last job only; with 3 slots earlier ones may still be running.
        deadline = time.monotonic() + 60
        while b"running" in subprocess.run([tsp], env=env, capture_output=True).stdout:
            if time.monotonic() > deadline:
                raise RuntimeError("tsp jobs still running after 60s")
            time.sleep(0.005)
        return time.perf_counter() - started
    finally:
        subprocess.run([tsp, "-K"], env=env, check=False, capture_output=True)


def bench_throughput(tmp: str) -> None:
    name = f"2. throughput, {THROUGHPUT_JOBS:,} true"
    home = os.path.join(tmp, "throughput-home")
    work = os.path.join(tmp, "throughput-work")
    os.makedirs(work)
    database = os.path.join(home, "focusq.db")
    env = make_env(home, idle_exit=THROUGHPUT_IDLE_EXIT)

    xargs_runs = [
        time_shell(f"seq {THROUGHPUT_JOBS} | xargs -P{CAP} -n1 true", work) for _ in range(3)
    ]
    xargs = statistics.median(xargs_runs)
    print(f"  xargs -P{CAP}: {' '.join(f'{x:.3f}s' for x in xargs_runs)} (median {xargs:.3f}s)")
    tsp = bench_tsp(tmp)
    print("  tsp not installed" if tsp is None else f"  tsp -S {CAP}: {tsp:.3f}s")

    seed(database, work, [(f"true {n}", ["true"], None, []) for n in range(THROUGHPUT_JOBS)])
    started = time.perf_counter()
    with running_worker(env, os.path.join(tmp, "throughput-worker.log")) as proc:
        try:
            proc.wait(timeout=100)
        except subprocess.TimeoutExpired:
            PROBLEMS.append("throughput: the worker was still running after 100s")
        wall = time.perf_counter() - started
    counts = status_counts(database)
    if counts.get("done", 0) != THROUGHPUT_JOBS:
        PROBLEMS.append(f"throughput: tasks by status {counts}, expected {THROUGHPUT_JOBS} done")
    span = makespan(database)
    busy = wall - THROUGHPUT_IDLE_EXIT
    print(
        f"  focusq: makespan from the runs table {span:.3f}s; worker start to exit {wall:.3f}s, "
        f"minus the {THROUGHPUT_IDLE_EXIT:g}s idle wait {busy:.3f}s "
        f"({THROUGHPUT_JOBS / span:.0f} jobs/s); tasks {counts}"
    )
    for label, value in (("makespan (db)", span), ("worker wall - idle", busy)):
        ratio = value / xargs
        ROWS.append(
            Row(
                f"{name} {label}",
                f"{value:.3f}s",
                f"{xargs:.3f}s xargs",
                f"{ratio:.2f}x",
                f"{THROUGHPUT_BUDGET:g}x",
                "ok" if ratio <= THROUGHPUT_BUDGET else "OVER",
            )
        )
    if tsp is None:
        ROWS.append(Row(f"{name} tsp -S {CAP}", "not installed", "-", "-", "-", "-"))
    else:
        ROWS.append(
            Row(
                f"{name} tsp -S {CAP}",
                f"{tsp:.3f}s",
                f"{xargs:.3f}s xargs",
                f"{tsp / xargs:.2f}x",
                "-",
                "info",
            )
        )


# -- 3. DAG makespan ------------------------------------------------------------------------


@dataclass
class Dag:
    name: str
    titles: list[str]
    seconds: list[float]
    after: list[list[int]]
    """0-based indices of each job's dependencies (always earlier jobs)."""


def bottom_levels(dag: Dag) -> list[float]:
    """Each job's duration plus the longest chain of jobs waiting on it."""
    level = list(dag.seconds)
    for i in reversed(range(len(dag.seconds))):
        for dep in dag.after[i]:
            level[dep] = max(level[dep], dag.seconds[dep] + level[i])
    return level


def lower_bound(dag: Dag, slots: int) -> float:
    return max(max(bottom_levels(dag)), sum(dag.seconds) / slots)


def simulate(dag: Dag, slots: int, key: Callable[[int], object]) -> float:
    """List scheduling with known durations: at each end, start ready jobs in ``key`` order."""
    n = len(dag.seconds)
    done: set[int] = set()
    started: set[int] = set()
    running: list[tuple[float, int]] = []
    now = 0.0
    while len(done) < n:
        ready = sorted(
            (i for i in range(n) if i not in started and all(d in done for d in dag.after[i])),
            key=key,
        )
        for i in ready[: slots - len(running)]:
            started.add(i)
            running.append((now + dag.seconds[i], i))
        now = min(end for end, _ in running)
        for end, i in [r for r in running if r[0] == now]:
            running.remove((end, i))
            done.add(i)
    return now


def fan_in_dag() -> Dag:
    titles = ["pull crm", "pull billing", "pull tickets", "pull analytics", "merge", "report"]
    seconds = [0.6, 0.9, 0.4, 1.0, 0.3, 0.5]
    after: list[list[int]] = [[], [], [], [], [0, 1, 2, 3], [4]]
    return Dag("a. pull 4 systems, build report", titles, seconds, after)


def fifo_trap_dag() -> Dag:
    titles = [f"short {n}" for n in range(6)] + [f"chain step {n}" for n in range(4)]
    seconds = [0.3] * 6 + [0.5] * 4
    after: list[list[int]] = [[] for _ in range(6)] + [[], [6], [7], [8]]
    return Dag("b. short jobs first, long chain last", titles, seconds, after)


def random_dag(seed_value: int = 7, layers: Sequence[int] = (4, 4, 4, 3)) -> Dag:
    rng = random.Random(seed_value)
    titles: list[str] = []
    seconds: list[float] = []
    after: list[list[int]] = []
    previous: list[int] = []
    for depth, width in enumerate(layers):
        current = []
        for k in range(width):
            index = len(titles)
            titles.append(f"layer {depth} job {k}")
            seconds.append(round(rng.uniform(0.2, 1.0), 1))
            count = min(len(previous), rng.randint(1, 2))
            after.append(sorted(rng.sample(previous, count)) if previous else [])
            current.append(index)
        previous = current
    return Dag(f"c. random layered, {len(titles)} jobs", titles, seconds, after)


def run_dag(tmp: str, dag: Dag, tag: str) -> None:
    name = f"3{dag.name}"
    home = os.path.join(tmp, f"dag-{tag}-home")
    work = os.path.join(tmp, f"dag-{tag}-work")
    os.makedirs(work)
    database = os.path.join(home, "focusq.db")
    env = make_env(home, idle_exit=DAG_IDLE_EXIT)
    specs = [
        (title, ["sleep", f"{s:g}"], s, deps)
        for title, s, deps in zip(dag.titles, dag.seconds, dag.after, strict=True)
    ]
    ids = seed(database, work, specs)
    with running_worker(env, os.path.join(tmp, f"dag-{tag}-worker.log")) as proc:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            PROBLEMS.append(f"DAG {dag.name}: the worker was still running after 60s")
    counts = status_counts(database)
    if counts.get("done", 0) != len(ids):
        PROBLEMS.append(f"DAG {dag.name}: tasks by status {counts}, expected {len(ids)} done")
    span = makespan(database)
    bound = lower_bound(dag, CAP)
    level = bottom_levels(dag)
    fifo = simulate(dag, CAP, key=lambda i: i)
    best = simulate(dag, CAP, key=lambda i: (-level[i], i))
    runs = query(database, "SELECT task_id, started_at, ended_at FROM runs ORDER BY started_at, id")
    index = {task_id: i for i, task_id in enumerate(ids)}
    start = {index[r[0]]: r[1] for r in runs}
    end = {index[r[0]]: r[2] for r in runs}
    # How long each job whose dependencies are all done waited for its start, and every
    # time the slot its last dependency freed went to a job with a shorter path to go.
    dep_waits: list[float] = []
    inversions: list[str] = []
    for i, deps in enumerate(dag.after):
        if not deps or i not in start or any(end.get(d) is None for d in deps):
            continue
        last = max(deps, key=lambda d: end[d])
        wait = start[i] - end[last]
        dep_waits.append(wait)
        if wait < 0.005:
            continue
        for j, began in start.items():
            if j != i and abs(began - end[last]) < 0.005 and level[j] < level[i]:
                inversions.append(
                    f"'{dag.titles[j]}' ({level[j]:g}s to go) took the slot '{dag.titles[last]}' "
                    f"freed; '{dag.titles[i]}' ({level[i]:g}s to go), which waited on it, "
                    f"started {ms(wait)} later"
                )
    print(
        f"  {dag.name}: focusq {span:.3f}s, lower bound {bound:.2f}s (critical path "
        f"{max(level):.2f}s, work/{CAP} {sum(dag.seconds) / CAP:.2f}s); simulated FIFO "
        f"{fifo:.2f}s ({fifo / bound:.2f}x), simulated critical-path-first {best:.2f}s "
        f"({best / bound:.2f}x)"
    )
    print(f"    focusq started the jobs in the order {[index[r[0]] for r in runs]}")
    if dep_waits:
        print(
            f"    last dependency ended -> dependent started: median "
            f"{ms(statistics.median(dep_waits))}, max {ms(max(dep_waits))} ({len(dep_waits)} jobs)"
        )
    for text in inversions:
        print(f"    note: {text}")
    ratio = span / bound
    ROWS.append(
        Row(
            name,
            f"{span:.3f}s",
            f"LB {bound:.2f}s, FIFO {fifo / bound:.2f}x",
            f"{ratio:.3f}x",
            f"{DAG_BUDGET:g}x",
            "ok" if ratio <= DAG_BUDGET else "OVER",
        )
    )


def bench_dags(tmp: str) -> None:
    for tag, build in (("a", fan_in_dag), ("b", fifo_trap_dag), ("c", random_dag)):
        dag = build()
        try:
            run_dag(tmp, dag, tag)
        except Exception as exc:
            record_error(f"3{dag.name}", exc)


# -- 4. worker memory -----------------------------------------------------------------------


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of ``pid`` in kB."""
    out = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as file:
        for line in file:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def bench_memory(tmp: str) -> None:
    name = "4. worker RSS, job prints 1 GB"
    home = os.path.join(tmp, "memory-home")
    work = os.path.join(tmp, "memory-work")
    os.makedirs(work)
    database = os.path.join(home, "focusq.db")
    logs = os.path.join(home, "logs")
    env = make_env(home, idle_exit=60)
    worker_log = os.path.join(tmp, "memory-worker.log")
    with running_worker(env, worker_log) as proc:
        if not wait_for(lambda: worker_up(database, worker_log), 20):
            raise RuntimeError(f"the worker did not start within 20s (exit {proc.poll()})")
        time.sleep(0.3)
        idle_kb = 0
        for _ in range(5):
            idle_kb = max(idle_kb, memory_kb(proc.pid)["VmRSS"])
            time.sleep(0.02)
        result = subprocess.run(
            [*FOCUSQ, "add", "--", "head", "-c", str(MEMORY_BYTES), "/dev/zero"],
            capture_output=True,
            text=True,
            env=env,
            cwd=work,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"focusq add failed: {result.stderr.strip()}")
        task_id = int(result.stdout.split()[0])
        prefix = os.path.join(logs, f"{task_id}-1")
        samples: list[int] = []
        started = time.monotonic()
        state = None
        while time.monotonic() - started < 60:
            samples.append(memory_kb(proc.pid)["VmRSS"])
            rows = query(database, "SELECT status FROM tasks WHERE id=?", (task_id,))
            state = rows[0][0] if rows else None
            if state not in ("queued", "running"):
                break
            time.sleep(SAMPLE_SECONDS)
        elapsed = time.monotonic() - started
        samples.append(memory_kb(proc.pid)["VmRSS"])
        hwm_kb = memory_kb(proc.pid)["VmHWM"]
        if state != "done":
            PROBLEMS.append(f"memory: the 1 GB job's task ended {state!r} after {elapsed:.1f}s")
    size = 0
    with contextlib.suppress(OSError):
        size = os.path.getsize(prefix + ".log")
    with contextlib.suppress(OSError):
        os.remove(prefix + ".log")
    header = size - MEMORY_BYTES
    if not 0 < header < 1000:
        PROBLEMS.append(f"memory: the log holds {size:,} bytes, expected {MEMORY_BYTES:,} + header")
    peak_mb = max(samples) / 1024
    idle_mb = idle_kb / 1024
    print(
        f"  {len(samples)} samples over {elapsed:.2f}s; RSS idle {idle_mb:.1f} MB, peak while "
        f"running {peak_mb:.1f} MB, VmHWM (whole life) {hwm_kb / 1024:.1f} MB; log "
        f"{size:,} bytes ({MEMORY_BYTES:,} of output + {header} of header), deleted"
    )
    for label, value in (("peak RSS", peak_mb), ("VmHWM", hwm_kb / 1024)):
        ROWS.append(
            Row(
                f"{name} ({label})",
                f"{value:.1f}MB",
                f"{idle_mb:.1f}MB idle",
                f"{value / idle_mb:.2f}x",
                f"{MEMORY_BUDGET_MB:g}MB",
                "ok" if value <= MEMORY_BUDGET_MB else "OVER",
            )
        )


# -- main -----------------------------------------------------------------------------------


def main() -> int:
    compile_package()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="focusq-bench-engine-") as tmp:
        for title, bench in (
            ("1. dispatch latency", bench_latency),
            ("2. throughput", bench_throughput),
            ("3. DAG makespan", bench_dags),
            ("4. worker memory", bench_memory),
        ):
            print(f"{title} ...", flush=True)
            try:
                bench(tmp)
            except Exception as exc:
                record_error(title, exc)

    print_report(ROWS, PROBLEMS, began, detail=f", cap {CAP}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
