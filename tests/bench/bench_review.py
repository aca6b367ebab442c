"""How fast the review reads a day out of a year of history.

Run it directly: ``python tests/bench/bench_review.py``. It builds a throwaway
``FOCUSQ_HOME`` holding a year of work (100,000 tasks, 1,000,000 events, their runs and
focus sessions, spread over 365 days), then times ``focusq review --json`` (and the text
and Markdown reports) for one day, as a person would run it: the installed console script
in a fresh process. The budget is 300 ms of wall time; ``python -c pass`` is measured in
the same run and printed as the baseline, so the ratio shows what is startup and what is
work.

It reports; it never fails: the exit code is 0 whatever the numbers.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from datetime import date, datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import Row, compile_package, focusq_command, print_report

TASKS = 100_000
EVENTS = 1_000_000
DAYS = 365
RUNS = 7
BUDGET_MS = 300.0

ROWS: list[Row] = []
PROBLEMS: list[str] = []


def seed_year(home: str, today: date) -> dict[str, int]:
    """A year of history ending yesterday, written straight into the schema (seeding only)."""
    from focusq.paths import Paths
    from focusq.store.sync import SyncStore

    os.environ["FOCUSQ_HOME"] = home
    database = Paths.from_env().database
    with SyncStore(database):
        pass  # create and migrate the schema
    rng = random.Random(7)
    per_day = TASKS // DAYS + 1
    events_per_task = EVENTS // TASKS
    tasks, runs, focus, events = [], [], [], []
    task_id = run_id = session_id = 0
    first = today - timedelta(days=DAYS)
    for offset in range(DAYS):
        day = first + timedelta(days=offset)
        morning = datetime.combine(day, datetime.min.time()).timestamp() + 8 * 3600
        for n in range(per_day):
            if task_id >= TASKS:
                break
            task_id += 1
            start = morning + n * 120 + rng.random() * 60
            end = start + 30 + rng.random() * 600
            job = n % 5 < 3
            ok = rng.random() > 0.05
            done_today = offset < DAYS - 1 or n % 4
            status = ("done" if ok else "failed") if done_today else "queued"
            kind = "mechanical" if job else "creative"
            command = json.dumps(["make", f"t{n % 40}"]) if job else None
            tasks.append(
                (task_id, f"task {task_id}", kind, status, command, "[]", start - 600, end)
            )
            day_events = [(start - 600, task_id, "added", json.dumps({"title": "t", "kind": kind}))]
            if job:
                run_id += 1
                runs.append(
                    (run_id, task_id, 1, start, end, 0 if ok else 2, "ok" if ok else "failed")
                )
                claim = {"from": "queued", "to": "running", "attempt": 1}
                finish = {"from": "running", "to": status, "result": "ok" if ok else "failed"}
                day_events += [
                    (start, task_id, "status", json.dumps(claim)),
                    (end, task_id, "status", json.dumps(finish)),
                ]
            else:
                session_id += 1
                focus.append((session_id, task_id, start, end, 50, "done"))
                day_events += [
                    (
                        start,
                        task_id,
                        "focus",
                        json.dumps({"action": "start", "session": session_id}),
                    ),
                    (end, task_id, "focus", json.dumps({"action": "end", "outcome": "done"})),
                    (end, task_id, "status", json.dumps({"from": "queued", "to": "done"})),
                ]
            while len(day_events) < events_per_task:
                at = start + rng.random() * 900
                payload = {
                    "action": "captured",
                    "id": len(events),
                    "urgent": False,
                    "source": "note",
                }
                day_events.append((at, None, "interruption", json.dumps(payload)))
            events += day_events
    events.sort()
    con = sqlite3.connect(database)
    with con:
        con.execute("PRAGMA cache_size = -262144")
        con.executemany(
            "INSERT INTO tasks (id, title, kind, status, command, tags, created_at, updated_at, "
            "ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*t[:7], t[7], t[7]) for t in tasks],
        )
        con.executemany(
            "INSERT INTO runs (id, task_id, attempt, started_at, ended_at, exit_code, result) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            runs,
        )
        con.executemany(
            "INSERT INTO focus_sessions (id, task_id, started_at, ended_at, planned_minutes, "
            "outcome) VALUES (?, ?, ?, ?, ?, ?)",
            focus,
        )
        con.executemany(
            "INSERT INTO events (at, task_id, kind, payload) VALUES (?, ?, ?, ?)", events
        )
    con.execute("ANALYZE")
    con.close()
    return {"tasks": len(tasks), "events": len(events), "runs": len(runs)}


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        PROBLEMS.append(f"{' '.join(argv[-3:])} exited {done.returncode}: {done.stderr.strip()}")
    return elapsed, done.stdout


def median_ms(argv: list[str], env: dict[str, str]) -> tuple[float, list[float], str]:
    timed(argv, env)  # warm the page cache and the settings cache
    samples, out = [], ""
    for _ in range(RUNS):
        elapsed, out = timed(argv, env)
        samples.append(elapsed * 1000)
    return statistics.median(samples), samples, out


def main() -> int:
    compile_package()
    began = time.perf_counter()
    today = date.today()
    with tempfile.TemporaryDirectory(prefix="focusq-bench-review-") as tmp:
        home = os.path.join(tmp, "home")
        started = time.perf_counter()
        try:
            sizes = seed_year(home, today)
        except Exception as exc:  # report, never fail
            PROBLEMS.append("seeding raised:\n" + "".join(traceback.format_exception(exc)))
            sizes = {}
        print(f"seeded {sizes} in {time.perf_counter() - started:.1f}s")
        env = {
            **os.environ,
            "FOCUSQ_HOME": home,
            "XDG_CONFIG_HOME": os.path.join(tmp, "config"),
            "FOCUSQ_WORKER__AUTOSTART": "false",
        }
        baseline, _, _ = median_ms([sys.executable, "-c", "pass"], env)
        focusq = focusq_command()
        days = {
            "yesterday": (today - timedelta(days=1)).isoformat(),
            "mid-year": (today - timedelta(days=180)).isoformat(),
        }
        for label, day in days.items():
            for flag in ("--json", "--markdown", None):
                argv = [*focusq, "review", "--date", day] + ([flag] if flag else [])
                value, samples, out = median_ms(argv, env)
                if flag == "--json":
                    figures = json.loads(out or "{}")
                    runs = figures.get("jobs", {}).get("runs", 0)
                    if not runs:
                        PROBLEMS.append(f"review of {day} found no runs: the seed is wrong")
                ROWS.append(
                    Row(
                        f"review {flag or '(text)'} {label}",
                        f"{value:.0f} ms",
                        f"{baseline:.0f} ms python -c pass",
                        f"{value / baseline:.2f}x",
                        f"{BUDGET_MS:.0f} ms",
                        "ok" if value <= BUDGET_MS else "OVER",
                    )
                )
                print(f"  {ROWS[-1].name}: {' '.join(f'{s:.0f}' for s in samples)} ms")

    print_report(ROWS, PROBLEMS, began)
    return 0


if __name__ == "__main__":
    sys.exit(main())
