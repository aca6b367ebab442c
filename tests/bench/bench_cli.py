"""How fast the quick commands start, against a bare interpreter.

Run it directly: ``python tests/bench/bench_cli.py``. It seeds a throwaway
``FOCUSQ_HOME`` with 10,000 open tasks, then times ``focusq add``, ``focusq status
--short``, ``focusq ls`` and ``focusq completion ids`` (the installed console script)
against ``python -c pass``, interleaving the runs so drift in machine load hits every
command alike. It prints
a table with each median, its ratio to the baseline and the budget, and checks that
``focusq add`` imports neither Textual, pydantic nor asyncio. Then ``ls`` at scale: queues
of 1,000, 10,000 and 100,000 open tasks (mostly jobs: locks, groups, dependencies, held,
gated and timed ones, three running), each timed for ``ls`` on a pseudo-terminal (a
screenful), ``ls`` into a pipe (every row) and ``ls --json``, against ``python -c pass``
run in turn with them. It reports; it never fails: the exit code is 0 whatever the numbers.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

from common import compile_package

RUNS = 30
WARMUP = 2
SEED_TASKS = 10_000
HEAVY_MODULES = ("textual", "pydantic", "asyncio")


def seed(database: str, count: int) -> None:
    """``count`` open creative tasks in one transaction, the way ``focusq add`` builds them."""
    from focusq import quickadd
    from focusq.store.ops import tasks
    from focusq.store.sync import SyncStore

    now = time.time()
    drafts = [quickadd.parse([f"seeded task {n} +bench"], None, now=now) for n in range(count)]
    with SyncStore(database) as store:
        ids = store.run(tasks.add_tasks(drafts, now))
    assert len(ids) == count


SCALES = (1_000, 10_000, 100_000)
"""Open tasks in the queues ``ls`` is timed on."""

SCALE_RUNS = {1_000: 15, 10_000: 11, 100_000: 5}
"""Runs per command at each scale: fewer where one run takes a second."""


def seed_open(database: str, count: int) -> None:
    """``count`` open tasks, fast: 100 made by quick-add (jobs with locks, a group,
    dependencies, a gate and an ``at:``; held ones; creative work with tags and a project;
    three running), then copied by SQL, doubling, ids and dependencies shifted."""
    import sqlite3

    from focusq import quickadd
    from focusq.store.ops import tasks
    from focusq.store.sync import SyncStore

    now = time.time()
    drafts = []
    for n in range(100):
        if n % 5 == 4:
            drafts.append(
                quickadd.parse([f"write section {n} +draft project:book pri:H"], None, now=now)
            )
            continue
        words = [f"convert img{n}.png +batch"]
        words += ["lock:disk"] * (n % 7 == 0) + ["group:conv"] * (n % 3 == 0)
        words += ["gate:approve"] * (n % 31 == 0) + ["at:23:59"] * (n % 23 == 0)
        words += ["pri:L"] * (n % 11 == 0)
        draft = quickadd.parse(words, ["convert", f"img{n}.png", f"img{n}.webp"], now=now)
        draft.cwd = "/srv/images"
        if n % 4 == 1:
            draft.after = [-n]  # the draft n places before it in this batch
        drafts.append(draft)
    os.makedirs(os.path.dirname(database), exist_ok=True)
    with SyncStore(database) as store:
        store.run(tasks.add_tasks(drafts, now))
    con = sqlite3.connect(database)
    with con:
        con.execute("UPDATE tasks SET status = 'running', started_at = ? WHERE id <= 3", (now,))
        con.execute("UPDATE tasks SET status = 'held' WHERE id % 17 = 0")
        skip = ("id", "prio_rank", "status", "started_at")
        columns = [r[1] for r in con.execute("PRAGMA table_info(tasks)") if r[1] not in skip]
        names = ", ".join(columns)
        have = len(drafts)
        while have < count:
            take = min(have, count - have)
            con.execute(
                f"INSERT INTO tasks (id, status, {names}) SELECT id + {have}, "
                f"CASE status WHEN 'running' THEN 'queued' ELSE status END, {names} "
                f"FROM tasks WHERE id <= {take}"
            )
            con.execute(
                f"INSERT INTO deps SELECT task_id + {have}, dep_id + {have}, kind FROM deps "
                f"WHERE task_id <= {take}"
            )
            have += take
    con.close()


def time_on_terminal(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, str | None]:
    """Wall seconds for one run with stdout on a 24x100 pseudo-terminal, read as it writes."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=slave, stderr=subprocess.PIPE, env=env, cwd=cwd)
    os.close(slave)
    while True:
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                if os.read(master, 65536):
                    continue
            except OSError:  # EIO: the run closed the terminal
                pass
            break
    error = proc.stderr.read() if proc.stderr else b""
    code = proc.wait()
    elapsed = time.perf_counter() - started
    os.close(master)
    if proc.stderr:
        proc.stderr.close()
    if code != 0:
        return elapsed, error.decode(errors="replace").strip() or f"exit {code}"
    return elapsed, None


def time_piped(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, str | None]:
    """Wall seconds for one run writing into a pipe this process drains."""
    started = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, env=env, cwd=cwd, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        return elapsed, result.stderr.decode(
            errors="replace"
        ).strip() or f"exit {result.returncode}"
    return elapsed, None


def bench_ls_at_scale(focus_cmd: list[str], tmp: str) -> None:
    """Time ``ls`` (terminal, pipe) and ``ls --json`` at each of SCALES; print the table."""
    from focusq.paths import Paths

    print(f"\nls at scale: {', '.join(f'{n:,}' for n in SCALES)} open tasks")
    results: list[tuple[str, float, float, float | None, str | None]] = []
    for count in SCALES:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FOCUSQ_")}
        env["FOCUSQ_HOME"] = os.path.join(tmp, f"open-{count}")
        env["FOCUSQ_WORKER__AUTOSTART"] = "false"  # the seeded jobs are not to run
        env.pop("COLUMNS", None)
        env.pop("LINES", None)
        started = time.perf_counter()
        seed_open(Paths.from_env(env).database, count)
        print(f"seeded {count:,} open tasks in {time.perf_counter() - started:.2f}s")
        timed = [
            ("python -c pass", time_once, [sys.executable, "-c", "pass"], None),
            (f"ls, terminal ({count:,})", time_on_terminal, [*focus_cmd, "ls"], 5.0),
            (f"ls | cat ({count:,})", time_piped, [*focus_cmd, "ls"], None),
            (f"ls --json ({count:,})", time_once, [*focus_cmd, "ls", "--json"], 5.0),
        ]
        times: dict[str, list[float]] = {name: [] for name, *_ in timed}
        failures: dict[str, str] = {}
        for run in range(SCALE_RUNS[count] + 1):  # the first run warms the caches
            for name, timer, argv, _ in timed:
                elapsed, error = timer(argv, env, tmp)
                if error:
                    failures.setdefault(name, error)
                if run:
                    times[name].append(elapsed)
        baseline = statistics.median(times["python -c pass"])
        for name, _, _, budget in timed[1:]:
            median = statistics.median(times[name])
            if name.startswith("ls --json") and count >= 100_000:
                budget = None  # the budget at 100k is absolute
                verdict = "ok (<= 1 s)" if median <= 1.0 else "OVER (1 s)"
            elif budget is None:
                verdict = "report"
            else:
                verdict = "ok" if median / baseline <= budget else "OVER"
            results.append((name, median, baseline, budget, failures.get(name, verdict)))
    width = max(len(r[0]) for r in results)
    print(
        f"{'command':<{width}}  {'median':>9}  {'baseline':>8}  {'ratio':>7}  {'budget':>6}  result"
    )
    for name, median, baseline, budget, verdict in results:
        budget_text = "-" if budget is None else f"{budget:g}x"
        print(
            f"{name:<{width}}  {median * 1000:>7.1f}ms  {baseline * 1000:>6.1f}ms  "
            f"{median / baseline:>6.1f}x  {budget_text:>6}  {verdict}"
        )


def time_once(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, str | None]:
    """Wall seconds for one run, and its stderr when it failed."""
    started = time.perf_counter()
    result = subprocess.run(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd, check=False
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        return elapsed, result.stderr.decode(
            errors="replace"
        ).strip() or f"exit {result.returncode}"
    return elapsed, None


def heavy_imports(env: dict[str, str], cwd: str) -> tuple[list[str], str | None]:
    """Modules among HEAVY_MODULES that ``python -X importtime -m focusq add x`` imports."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "focusq", "add", "x"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
    )
    if result.returncode != 0:
        return [], result.stderr.strip().splitlines()[-1]
    found = set()
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        name = line.rsplit("|", 1)[1].strip()
        if name.split(".")[0] in HEAVY_MODULES:
            found.add(name.split(".")[0])
    return sorted(found), None


def main() -> int:
    focusq_script = os.path.join(os.path.dirname(sys.executable), "focusq")
    if not os.access(focusq_script, os.X_OK):
        print(f"no focusq console script at {focusq_script}; using python -m focusq")
        focus_cmd = [sys.executable, "-m", "focusq"]
    else:
        focus_cmd = [focusq_script]

    with tempfile.TemporaryDirectory(prefix="focusq-bench-") as tmp:
        home = os.path.join(tmp, "home")
        env = {k: v for k, v in os.environ.items() if not k.startswith("FOCUSQ_")}
        env["FOCUSQ_HOME"] = home

        from focusq.paths import Paths

        compile_package()
        started = time.perf_counter()
        seed(Paths.from_env(env).database, SEED_TASKS)
        print(f"seeded {SEED_TASKS:,} tasks in {time.perf_counter() - started:.2f}s")

        # name, argv, budget (times the baseline; None for the baseline itself)
        commands: list[tuple[str, list[str], float | None]] = [
            ("python -c pass", [sys.executable, "-c", "pass"], None),
            ('focusq add "benchmark task"', [*focus_cmd, "add", "benchmark task"], 3.0),
            ("focusq status --short", [*focus_cmd, "status", "--short"], 3.0),
            # Two configurations in turn (a tmux status line and a shell): both stay cached.
            (
                "focusq add, FOCUSQ_ENGINE__MAX_PARALLEL=2",
                ["env", "FOCUSQ_ENGINE__MAX_PARALLEL=2", *focus_cmd, "add", "one env"],
                3.0,
            ),
            (
                "focusq add, FOCUSQ_ENGINE__MAX_PARALLEL=4",
                ["env", "FOCUSQ_ENGINE__MAX_PARALLEL=4", *focus_cmd, "add", "other env"],
                3.0,
            ),
            (f"focusq ls ({SEED_TASKS:,} open)", [*focus_cmd, "ls"], 5.0),
            (f"focusq ls --json ({SEED_TASKS:,} open)", [*focus_cmd, "ls", "--json"], 5.0),
            # What a Tab press runs; report-only, like every row here.
            (
                f"focusq completion ids ({SEED_TASKS:,} open)",
                [*focus_cmd, "completion", "ids"],
                3.0,
            ),
        ]
        times: dict[str, list[float]] = {name: [] for name, _, _ in commands}
        failures: dict[str, str] = {}
        # Warm-up runs fill the OS cache and write the settings cache beside the database.
        for _ in range(WARMUP):
            for name, argv, _ in commands:
                _, error = time_once(argv, env, tmp)
                if error:
                    failures.setdefault(name, error)
        for _ in range(RUNS):
            for name, argv, _ in commands:
                elapsed, error = time_once(argv, env, tmp)
                times[name].append(elapsed)
                if error:
                    failures.setdefault(name, error)

        heavy, import_error = heavy_imports(env, tmp)
        print_quick_table(commands, times, failures, heavy, import_error)
        bench_ls_at_scale(focus_cmd, tmp)
    return 0


def print_quick_table(
    commands: list[tuple[str, list[str], float | None]],
    times: dict[str, list[float]],
    failures: dict[str, str],
    heavy: list[str],
    import_error: str | None,
) -> None:
    """The quick commands' table and the import check."""
    baseline = statistics.median(times[commands[0][0]])
    width = max(len(name) for name, _, _ in commands)
    print(f"\nmedian of {RUNS} interleaved runs each (Python {sys.version.split()[0]})")
    print(f"{'command':<{width}}  {'median':>9}  {'ratio':>6}  {'budget':>6}  result")
    for name, _, budget in commands:
        median = statistics.median(times[name])
        ratio = median / baseline
        if budget is None:
            budget_text, verdict = "-", "baseline"
        else:
            budget_text = f"{budget:g}x"
            verdict = "ok" if ratio <= budget else "OVER"
        if name in failures:
            verdict = "FAILED"
        print(
            f"{name:<{width}}  {median * 1000:>7.1f}ms  {ratio:>5.2f}x  {budget_text:>6}  {verdict}"
        )
    for name, error in failures.items():
        print(f"  {name} failed: {error}")

    if import_error:
        print(f"\nimport check: could not run ({import_error})")
    elif heavy:
        print(f"\nimport check: OVER, 'focusq add' imports {', '.join(heavy)}")
    else:
        print(f"\nimport check: ok, 'focusq add' imports none of {', '.join(HEAVY_MODULES)}")


if __name__ == "__main__":
    sys.exit(main())
