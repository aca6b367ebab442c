"""How fast the quick commands start, against a bare interpreter.

Run it directly: ``python tests/bench/bench_cli.py``. It seeds a throwaway
``FOCUSQ_HOME`` with 10,000 open tasks, then times ``focusq add``, ``focusq status
--short``, ``focusq ls`` and ``focusq completion ids`` (the installed console script)
against ``python -c pass``, interleaving the runs so drift in machine load hits every
command alike. It prints
a table with each median, its ratio to the baseline and the budget, and checks that
``focusq add`` imports neither Textual, pydantic nor asyncio. It reports; it never
fails: the exit code is 0 whatever the numbers.
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
