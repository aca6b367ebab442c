"""How the TUI performs: first screen and memory at 1k, 10k and 100k open tasks, live
updates at each size, idle CPU.

Run it directly: ``python tests/bench/bench_tui.py`` (``--profile`` prints the cProfile
excerpts of 1 and 2 even when they are within budget). Everything runs in throwaway
``FOCUSQ_HOME`` folders with ``FOCUSQ_WORKER__AUTOSTART=false``, so no background worker
ever starts. Queues are built by direct SQL inserts (``seed_queue``): seconds for 100k.

1. First screen and memory, at 1,000, 10,000 and 100,000 open tasks (half of them jobs,
   plus 20,000 done): wall time of a process that starts the TUI headless
   (``App.run_test``), waits until the task list counts every open task and has drawn its
   first rows, and exits; its peak RSS. Baseline: the same kind of process running a bare
   Textual app showing ``Static("hello")``. Median of interleaved runs.
2. Live update, at each size: with the TUI open in this process, ``focusq add "bench task
   N" pri:H`` (the installed console script) in another process; the time from that
   process's exit to the row being on screen (high priority: it is listed near the top).
   Baseline: the same ``focusq add`` watched by a bare ``watchfiles.awatch`` with the app's
   settings (the floor file watching sets).
3. Idle CPU: the real TUI (``python -m focusq ui``) in a pseudo-terminal of 120x36 with
   three jobs running (marked running in the store; no processes), CPU time over 10 s
   after 2 s to settle. Baseline: the bare Textual app in the same kind of terminal.

It prints a table with each figure, its baseline, the ratio and the budget, then where
the time goes (and a profile of what is over budget). It reports; it never fails: the
exit code is 0 whatever the numbers.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import fcntl
import io
import json
import os
import pstats
import signal
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

SIZE = (120, 36)
OPEN_SIZES = (1_000, 10_000, 100_000)
"""Open tasks in the queue, for the first screen, memory and live updates."""
HISTORY_TASKS = 20_000
"""Done tasks beside the open ones at every size."""
FIRST_SCREEN_RUNS = 3
FIRST_SCREEN_BUDGET_S = 1.5
FIRST_SCREEN_BUDGET_RATIO = 4.0
MEMORY_BUDGET_MB = 150.0
FIRST_SCREEN_TIMEOUT = 60.0
ADD_RUNS = 8
ADD_BUDGET_MS = 250.0
ADD_TIMEOUT = 10.0
PROFILE_ADDS = 3
POLL = 0.005
IDLE_JOBS = 3
IDLE_SETTLE = 2.0
IDLE_SECONDS = 10.0
IDLE_BUDGET_PCT = 3.0
WATCH_SETTINGS: dict[str, Any] = {"recursive": False, "debounce": 100, "step": 20}
"""What ``FocusqApp.watch_database`` passes to ``awatch`` (keep in step with it)."""
DB_FILES = {"focusq.db", "focusq.db-wal"}
PROFILE = "--profile" in sys.argv[1:]
"""Print the cProfile excerpts even when every figure is within budget."""


from common import Row, compile_package, focusq_command, print_report  # noqa: E402

ROWS: list[Row] = []
NOTES: list[str] = []
"""Breakdowns and profiles printed after the table."""
PROBLEMS: list[str] = []
"""Anything that looks like a bug: a crash, a row that never showed, a TUI that would not quit."""


# -- plumbing -------------------------------------------------------------------------------


def make_env(home: str) -> dict[str, str]:
    """This process's environment without any FOCUSQ_ setting, plus the benchmark's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOCUSQ_")}
    env["FOCUSQ_HOME"] = home
    env["FOCUSQ_WORKER__AUTOSTART"] = "false"
    return env


def isolate_this_process() -> None:
    """The in-process app reads settings from os.environ: give it the benchmark's."""
    for key in [k for k in os.environ if k.startswith("FOCUSQ_")]:
        del os.environ[key]
    os.environ["FOCUSQ_WORKER__AUTOSTART"] = "false"


def paths_for(home: str) -> Any:
    from focusq.paths import Paths

    return Paths.from_env({"FOCUSQ_HOME": home, "HOME": os.environ.get("HOME", home)})


def count_open(database: str) -> int:
    con = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
    try:
        statuses = ("queued", "waiting", "held", "running", "paused")
        sql = f"SELECT count(*) FROM tasks WHERE status IN ({','.join('?' * len(statuses))})"
        return int(con.execute(sql, statuses).fetchone()[0])
    finally:
        con.close()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms"


def verdict(ok: bool) -> str:
    return "ok" if ok else "OVER"


def record_error(title: str, exc: BaseException) -> None:
    ROWS.append(Row(title, "error", "-", "-", "-", "ERROR"))
    lines = traceback.format_exception(exc)
    PROBLEMS.append(f"{title} raised:\n    " + "".join(lines[-12:]).replace("\n", "\n    "))


# -- seeding --------------------------------------------------------------------------------


def seed_queue(home: str, open_count: int, done_count: int = HISTORY_TASKS) -> float:
    """``open_count`` open tasks (every other one a job, priorities M and L) and ``done_count``
    done ones, by direct SQL inserts in one transaction: seconds for 100k, where 100k
    ``focusq add`` calls would take minutes. The file is created and migrated by focusq."""
    from focusq.store.sync import SyncStore

    started = time.perf_counter()
    database = paths_for(home).database
    with SyncStore(database):
        pass
    now = time.time()
    rows = []
    for n in range(1, open_count + done_count + 1):
        job = n % 2 == 0
        done = n > open_count
        rows.append(
            (
                f"history task {n} {'convert' if job else 'write'}",
                "mechanical" if job else "creative",
                "done" if done else "queued",
                "L" if n % 3 == 0 else "M",
                '["bench"]' if n % 5 == 0 else "[]",
                f"p{n % 7}",
                json.dumps(["./convert", str(n)]) if job else None,
                "/srv" if job else None,
                now - 86_400,
                now - 3600 if done else now - 86_400,
                now - 3600 if done else None,
            )
        )
    con = sqlite3.connect(database)
    try:
        with con:
            con.executemany(
                "INSERT INTO tasks (title, kind, status, priority, tags, project, command, cwd,"
                " created_at, updated_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
    finally:
        con.close()
    return time.perf_counter() - started


def queue_home(tmp: str, open_count: int) -> str:
    """The home holding ``open_count`` open tasks, seeded on first use."""
    home = os.path.join(tmp, f"open-{open_count}")
    if not os.path.exists(paths_for(home).database):
        seconds = seed_queue(home, open_count)
        print(
            f"   seeded {open_count:,} open + {HISTORY_TASKS:,} done in {seconds:.1f}s", flush=True
        )
    return home


def seed_running_jobs(home: str, count: int) -> list[int]:
    """``count`` jobs marked running (claimed in the store, a log each, no process)."""
    from focusq import quickadd
    from focusq.store.ops import base, jobs, tasks
    from focusq.store.sync import SyncStore

    paths = paths_for(home)
    now = time.time()
    commands = [["make", "-C", "site", "build"], ["pytest", "-x"], ["./pull", "crm"]]
    drafts = []
    for n in range(count):
        draft = quickadd.parse([f"bench job {n + 1}"], commands[n % len(commands)], now=now)
        draft.cwd = f"/srv/bench{n + 1}"
        drafts.append(draft)

    def claim(task_id: int, started: float):  # type: ignore[no-untyped-def]
        yield base.WRITE
        return (yield from jobs.claim(task_id, started, paths.logs))

    with SyncStore(paths.database) as store:
        ids = store.run(tasks.add_tasks(drafts, now - 3600))
        os.makedirs(paths.logs, exist_ok=True)
        for n, task_id in enumerate(ids):
            run = store.run(claim(task_id, now - 30 * (n + 1)))
            with open(run["log_path"], "w", encoding="utf-8") as log:
                log.write(f"# focusq: job\n# cwd: /srv\n# started: x\nstep {n + 1} of 9\n")
    return ids


# -- 1. first screen ------------------------------------------------------------------------

FIRST_SCREEN_PROGRAM = """
import time
marks = {"start": time.monotonic()}
import asyncio, json, resource, sys
from focusq.config import load_settings
from focusq.paths import Paths
from focusq.tui.app import make_app
from focusq.tui.widgets.task_table import TaskTable
marks["imported"] = time.monotonic()

async def main():
    paths = Paths.from_env()
    app = make_app(load_settings(paths), paths)
    marks["built"] = time.monotonic()
    rows = -1
    async with app.run_test(size=SIZE) as pilot:
        marks["running"] = time.monotonic()
        deadline = time.monotonic() + TIMEOUT
        while True:
            await pilot.pause()
            try:
                table = app.screen.query_one(TaskTable)
                rows = table.row_count if table.held_rows else -1
            except Exception:
                rows = -1
            if rows == WANTED or time.monotonic() > deadline:
                break
        marks["loaded"] = time.monotonic()
    marks["closed"] = time.monotonic()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "marks": marks, "rss_mb": rss}))

asyncio.run(main())
"""

BARE_PROGRAM = """
import asyncio
from textual.app import App
from textual.widgets import Static

class Hello(App):
    def compose(self):
        yield Static("hello")

async def main():
    async with Hello().run_test(size=SIZE) as pilot:
        await pilot.pause()

asyncio.run(main())
"""


def first_screen_program(wanted: int) -> str:
    return (
        FIRST_SCREEN_PROGRAM.replace("SIZE", repr(SIZE))
        .replace("TIMEOUT", repr(FIRST_SCREEN_TIMEOUT))
        .replace("WANTED", repr(wanted))
    )


def timed_run(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, float, str, str]:
    """(monotonic start, wall seconds, stdout, error text or "") of one process."""
    started = time.monotonic()
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    wall = time.monotonic() - started
    error = ""
    if result.returncode != 0:
        error = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
        error = error or f"exit {result.returncode}"
    return started, wall, result.stdout, error


def bench_first_screen(tmp: str) -> None:
    for open_count in OPEN_SIZES:
        first_screen_at(tmp, open_count)


def first_screen_at(tmp: str, open_count: int) -> None:
    home = queue_home(tmp, open_count)
    wanted = count_open(paths_for(home).database)
    env = make_env(home)
    focus_argv = [sys.executable, "-c", first_screen_program(wanted)]
    bare_argv = [sys.executable, "-c", BARE_PROGRAM.replace("SIZE", repr(SIZE))]

    # One warm-up each fills the OS cache; then interleaved runs share the machine's drift.
    timed_run(bare_argv, env, tmp)
    timed_run(focus_argv, env, tmp)
    focus: list[float] = []
    bare: list[float] = []
    memory: list[float] = []
    phases: list[dict[str, float]] = []
    for _ in range(FIRST_SCREEN_RUNS):
        _, wall, _, error = timed_run(bare_argv, env, tmp)
        bare.append(wall)
        if error:
            PROBLEMS.append(f"bare Textual app failed: {error}")
        started, wall, out, error = timed_run(focus_argv, env, tmp)
        focus.append(wall)
        if error:
            PROBLEMS.append(f"first screen failed: {error}")
            continue
        report = json.loads(out.strip().splitlines()[-1])
        if report["rows"] != wanted:
            PROBLEMS.append(f"first screen: the list counted {report['rows']} rows, not {wanted}")
        memory.append(report["rss_mb"])
        marks = report["marks"]
        phases.append(
            {
                "interpreter start": marks["start"] - started,
                "imports (focusq.config, focusq.tui.app)": marks["imported"] - marks["start"],
                "settings + make_app": marks["built"] - marks["imported"],
                "run_test until the app runs": marks["running"] - marks["built"],
                "until the list is counted and drawn": marks["loaded"] - marks["running"],
                "closing the app": marks["closed"] - marks["loaded"],
                "interpreter exit": started + wall - marks["closed"],
            }
        )

    figure, base = statistics.median(focus), statistics.median(bare)
    ratio = figure / base
    name = f"1. first screen, {open_count // 1000}k open"
    ROWS.append(
        Row(
            f"{name} (wall)",
            f"{figure:.2f}s",
            f"{base:.2f}s",
            f"{ratio:.2f}x",
            f"<={FIRST_SCREEN_BUDGET_S:g}s",
            verdict(figure <= FIRST_SCREEN_BUDGET_S),
        )
    )
    ROWS.append(
        Row(
            f"{name} (vs bare app)",
            f"{figure:.2f}s",
            f"{base:.2f}s",
            f"{ratio:.2f}x",
            f"<={FIRST_SCREEN_BUDGET_RATIO:g}x",
            verdict(ratio <= FIRST_SCREEN_BUDGET_RATIO),
        )
    )
    if memory:
        rss = statistics.median(memory)
        ROWS.append(
            Row(
                f"{name} (peak RSS)",
                f"{rss:.0f}MB",
                "-",
                "-",
                f"<={MEMORY_BUDGET_MB:g}MB",
                verdict(rss <= MEMORY_BUDGET_MB),
            )
        )
    runs = ", ".join(f"{t:.2f}" for t in focus)
    bare_runs = ", ".join(f"{t:.2f}" for t in bare)
    lines = [f"{name} runs (s): {runs}; bare app: {bare_runs}"]
    if phases:
        lines.append("   where the first screen's time goes (median of the runs):")
        for key in phases[0]:
            lines.append(f"     {key:<42} {ms(statistics.median(p[key] for p in phases)):>7}")
    NOTES.append("\n".join(lines))
    if PROFILE or figure > FIRST_SCREEN_BUDGET_S or ratio > FIRST_SCREEN_BUDGET_RATIO:
        NOTES.append(profile_first_screen(tmp, env, wanted))


def profile_first_screen(tmp: str, env: dict[str, str], wanted: int) -> str:
    """One more first screen under cProfile: the functions taking the most time."""
    program = os.path.join(tmp, "first_screen.py")
    stats = os.path.join(tmp, "first_screen.prof")
    with open(program, "w", encoding="utf-8") as file:
        file.write(first_screen_program(wanted))
    argv = [sys.executable, "-m", "cProfile", "-o", stats, program]
    subprocess.run(argv, capture_output=True, env=env, cwd=tmp, check=False)
    out = io.StringIO()
    try:
        pstats.Stats(stats, stream=out).sort_stats("cumulative").print_stats(
            r"focusq|task_table|_compositor|stylesheet|run_test|load_board", 20
        )
    except OSError as exc:
        return f"1. profile: could not run ({exc})"
    body = out.getvalue()
    body = (body[body.find("ncalls") :] if "ncalls" in body else body).rstrip()
    return "1. cProfile of one more first screen, main thread, by cumulative time:\n" + body


# -- 2. quick-add -> row visible ------------------------------------------------------------


async def run_add(
    focusq: list[str], title: str, env: dict[str, str], cwd: str
) -> tuple[float, float, str]:
    """``focusq add TITLE`` as its own process: (start, exit, error or "")."""
    t0 = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *focusq,
        "add",
        title,
        "pri:H",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=cwd,
    )
    _, err = await proc.communicate()
    exited = time.perf_counter()
    error = "" if proc.returncode == 0 else (err.decode(errors="replace").strip() or "failed")
    return t0, exited, error


async def add_until_listed(
    focusq: list[str],
    title: str,
    env: dict[str, str],
    cwd: str,
    listed: Callable[[str], bool],
) -> tuple[float, float, float | None, str]:
    """Start the add, poll ``listed`` without blocking: (t0, exit, seen or None, error)."""
    adding = asyncio.ensure_future(run_add(focusq, title, env, cwd))
    seen = None
    deadline = time.perf_counter() + ADD_TIMEOUT
    while time.perf_counter() < deadline:
        if listed(title):
            seen = time.perf_counter()
            break
        if adding.done() and adding.result()[2]:
            break  # the add failed: nothing will show
        await asyncio.sleep(POLL)
    t0, exited, error = await adding
    return t0, exited, seen, error


async def live_update_in_tui(
    home: str, env: dict[str, str], focusq: list[str]
) -> tuple[list[tuple], str]:
    from focusq.config import load_settings
    from focusq.tui.app import make_app
    from focusq.tui.widgets.task_table import TaskTable

    paths = paths_for(home)
    wanted = count_open(paths.database)
    app = make_app(load_settings(paths), paths)
    results = []
    async with app.run_test(size=SIZE) as pilot:
        deadline = time.perf_counter() + FIRST_SCREEN_TIMEOUT
        while True:
            await pilot.pause()
            with contextlib.suppress(Exception):
                table = app.screen.query_one(TaskTable)
                if table.row_count == wanted and table.held_rows:
                    break
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the TUI did not list {wanted} tasks")
        await asyncio.sleep(0.5)  # let the first load's idle work finish

        def listed(title: str) -> bool:
            """Whether a row on screen holds ``title`` (read from the cells drawn)."""
            table = app.screen.query_one(TaskTable)
            top = int(table.scroll_y)
            shown = table.scrollable_content_region.height - 1
            for row in range(top, min(top + shown, table.row_count)):
                with contextlib.suppress(KeyError):
                    if table.get_row_at(row)[4].plain == title:
                        return True
            return False

        for n in range(ADD_RUNS + 1):  # the first is a warm-up
            result = await add_until_listed(focusq, f"bench task {n}", env, home, listed)
            if n:
                results.append(result)
            await asyncio.sleep(0.3)  # the list's idle work after a reload
        # A few more adds under cProfile (this thread only), shown if the figure is over.
        profiler = cProfile.Profile()
        for n in range(PROFILE_ADDS):
            profiler.enable()
            await add_until_listed(focusq, f"profiled task {n}", env, home, listed)
            profiler.disable()
            await asyncio.sleep(0.3)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
    stats.print_stats(r"focusq|task_table|aiosqlite|watchfiles", 18)
    text = out.getvalue()
    return results, (text[text.find("ncalls") :] if "ncalls" in text else text).rstrip()


async def time_load_board(home: str) -> list[float]:
    """Seconds for ``load_board`` (what every refresh reads), on the app's kind of store."""
    from focusq.store.aio import Store
    from focusq.tui.board import load_board

    times = []
    async with Store(paths_for(home).database) as store:
        for _ in range(5):
            started = time.perf_counter()
            await load_board(store, now=time.time(), view="all", query="", slot_count=3)
            times.append(time.perf_counter() - started)
    return times


async def live_update_floor(home: str, env: dict[str, str], focusq: list[str]) -> list[tuple]:
    """The same adds, watched by a bare awatch with the app's settings (no app)."""
    from watchfiles import awatch

    stop = asyncio.Event()
    seen: list[float] = []

    async def watch() -> None:
        filter_ = lambda _c, p: os.path.basename(p) in DB_FILES  # noqa: E731
        async for _ in awatch(home, watch_filter=filter_, stop_event=stop, **WATCH_SETTINGS):
            seen.append(time.perf_counter())

    watcher = asyncio.ensure_future(watch())
    await asyncio.sleep(0.5)
    results = []
    try:
        for n in range(ADD_RUNS + 1):
            seen.clear()
            result = await add_until_listed(
                focusq, f"floor task {n}", env, home, lambda _title: bool(seen)
            )
            if n:
                results.append((result[0], result[1], seen[0] if seen else None, result[3]))
            await asyncio.sleep(0.3)
    finally:
        stop.set()
        await watcher
    return results


def bench_live_update(tmp: str) -> None:
    focusq = focusq_command()
    floor: list[tuple] = []
    for open_count in OPEN_SIZES:
        home = queue_home(tmp, open_count)
        env = make_env(home)
        tui, profile = asyncio.run(live_update_in_tui(home, env, focusq))
        if not floor:  # the floor is file watching's: one measure serves every size
            floor = asyncio.run(live_update_floor(home, env, focusq))
        board_times = asyncio.run(time_load_board(home))
        live_update_report(open_count, tui, floor, profile, board_times)


def live_update_report(
    open_count: int,
    tui: list[tuple],
    floor: list[tuple],
    profile: str,
    board_times: list[float],
) -> None:
    size = f"{open_count // 1000}k open"

    def latencies(results: list[tuple], label: str) -> tuple[list[float], list[float]]:
        after_exit, from_t0 = [], []
        for n, (t0, exited, seen, error) in enumerate(results, 1):
            if error:
                PROBLEMS.append(f"{label}: focusq add #{n} failed: {error}")
            elif seen is None:
                PROBLEMS.append(f"{label}: add #{n} not seen within {ADD_TIMEOUT:g}s")
            else:
                after_exit.append(seen - exited)
                from_t0.append(seen - t0)
        return after_exit, from_t0

    tui_exit, tui_t0 = latencies(tui, "TUI")
    floor_exit, floor_t0 = latencies(floor, "awatch floor")
    if not tui_exit or not floor_exit:
        ROWS.append(Row(f"2. add -> row visible, {size}", "no data", "-", "-", "-", "ERROR"))
        return
    budget = f"<={ADD_BUDGET_MS:g}ms"
    for label, values, floor_values in (
        ("median", tui_exit, floor_exit),
        ("max", [max(tui_exit)], [max(floor_exit)]),
    ):
        figure, base = statistics.median(values), statistics.median(floor_values)
        ROWS.append(
            Row(
                f"2. add -> row visible, {size}, after exit ({label})",
                ms(figure),
                ms(base),
                f"{figure / base:.2f}x" if base > 0 else "-",
                budget,
                verdict(figure * 1000 <= ADD_BUDGET_MS),
            )
        )
    for label, values, floor_values in (
        ("median", tui_t0, floor_t0),
        ("max", [max(tui_t0)], [max(floor_t0)]),
    ):
        figure, base = statistics.median(values), statistics.median(floor_values)
        ROWS.append(
            Row(
                f"2. add -> row visible, {size}, from t0 ({label})",
                ms(figure),
                ms(base),
                f"{figure / base:.2f}x",
                "-",
                "info",
            )
        )
    adds = [exited - t0 for t0, exited, _, error in tui if not error]
    NOTES.append(
        f"2. {size}: {len(tui_exit)} adds (after 1 warm-up), polled every {POLL * 1000:g}ms; "
        f"after exit (ms): {', '.join(f'{v * 1000:.0f}' for v in tui_exit)}; "
        f"the focusq add process itself took {ms(statistics.median(adds))} (median); "
        f"baseline = bare awatch({WATCH_SETTINGS}) on the same adds; "
        f"load_board alone (the read each refresh does): {ms(statistics.median(board_times))}"
    )
    if PROFILE or max(tui_exit) * 1000 > ADD_BUDGET_MS:
        NOTES.append(
            f"2. {size}: cProfile of the TUI's main thread over {PROFILE_ADDS} more adds "
            f"(add start -> row listed), by cumulative time:\n{profile}"
        )


# -- 3. idle CPU ----------------------------------------------------------------------------

BARE_TUI_PROGRAM = """
from textual.app import App
from textual.widgets import Static

class Hello(App):
    def compose(self):
        yield Static("hello")

Hello().run()
"""


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and its live descendants, plus their reaped children."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/stat", encoding="ascii") as file:
                fields = file.read().rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
            for tid in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{tid}/children", encoding="ascii") as file:
                    todo.extend(int(c) for c in file.read().split())
        except (OSError, ValueError, IndexError):
            continue
    return total / ticks


class Terminal:
    """A process in a pseudo-terminal of SIZE, its output drained (and counted) by a thread."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str, needle: bytes) -> None:
        master, slave = os.openpty()
        columns, lines = SIZE
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        env = {**env, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(lines)}
        self.master = master
        self.output = 0
        self.tail = b""
        self.needle = needle
        self.saw_needle = False
        """Whether ``needle`` (text the app must draw) went by in the output."""
        try:
            self.proc = subprocess.Popen(
                argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                start_new_session=True,
            )  # fmt: skip
        finally:
            os.close(slave)
        self._drain = threading.Thread(target=self._read, daemon=True)
        self._drain.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.output += len(data)
            if not self.saw_needle and self.needle in self.tail[-len(self.needle) :] + data:
                self.saw_needle = True
            self.tail = (self.tail + data)[-4096:]

    def close(self, quit_key: bytes) -> bool:
        """Quit by key; SIGTERM, then SIGKILL, if it lingers. Whether the key was enough."""
        quit_by_key = True
        with contextlib.suppress(OSError):
            os.write(self.master, quit_key)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            quit_by_key = False
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        os.close(self.master)
        self._drain.join(timeout=2)
        return quit_by_key


def idle_cpu(
    argv: list[str], env: dict[str, str], cwd: str, label: str, quit_key: bytes, needle: bytes
) -> tuple[float, int]:
    """Percent of one core over IDLE_SECONDS after IDLE_SETTLE, and bytes written meanwhile."""
    terminal = Terminal(argv, env, cwd, needle)
    try:
        time.sleep(IDLE_SETTLE)
        if terminal.proc.poll() is not None:
            raise RuntimeError(f"{label} exited early: {terminal.tail[-400:]!r}")
        cpu0, out0, t0 = cpu_seconds(terminal.proc.pid), terminal.output, time.monotonic()
        time.sleep(IDLE_SECONDS)
        cpu1, out1, t1 = cpu_seconds(terminal.proc.pid), terminal.output, time.monotonic()
        if terminal.proc.poll() is not None:
            raise RuntimeError(f"{label} exited during the measure: {terminal.tail[-400:]!r}")
    finally:
        if not terminal.close(quit_key):
            PROBLEMS.append(f"{label} did not quit on {quit_key!r} within 5s; it was terminated")
    if not terminal.saw_needle:
        PROBLEMS.append(f"{label} never drew {needle!r}: the figure may not be of a working app")
    return 100.0 * (cpu1 - cpu0) / (t1 - t0), out1 - out0


def bench_idle_cpu(tmp: str) -> None:
    home = os.path.join(tmp, "idle")
    ids = seed_running_jobs(home, IDLE_JOBS)
    env = make_env(home)
    focus, focus_bytes = idle_cpu(
        [sys.executable, "-m", "focusq", "ui"], env, home, "focusq ui", b"q", b"bench job 1"
    )
    bare_argv = [sys.executable, "-c", BARE_TUI_PROGRAM]
    bare, bare_bytes = idle_cpu(bare_argv, env, home, "bare app", b"\x11", b"hello")  # ctrl+q
    running = count_open(paths_for(home).database)
    if running != len(ids):
        PROBLEMS.append(f"idle CPU: {running} open tasks after the run, expected {len(ids)}")
    ROWS.append(
        Row(
            f"3. idle CPU, {IDLE_JOBS} jobs running",
            f"{focus:.2f}%",
            f"{bare:.2f}%",
            f"{focus / bare:.2f}x" if bare > 0 else "-",
            f"<{IDLE_BUDGET_PCT:g}%",
            verdict(focus < IDLE_BUDGET_PCT),
        )
    )
    NOTES.append(
        f"3. % of one core over {IDLE_SECONDS:g}s after {IDLE_SETTLE:g}s to settle "
        f"(pty {SIZE[0]}x{SIZE[1]}); terminal output meanwhile: focusq "
        f"{focus_bytes / IDLE_SECONDS / 1024:.1f} KiB/s, bare app "
        f"{bare_bytes / IDLE_SECONDS / 1024:.1f} KiB/s"
    )


# -- main -----------------------------------------------------------------------------------


def main() -> int:
    isolate_this_process()
    compile_package()
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="focusq-bench-tui-") as tmp:
        for title, bench in (
            ("1. first screen", bench_first_screen),
            ("2. add -> row visible", bench_live_update),
            ("3. idle CPU", bench_idle_cpu),
        ):
            print(f"{title} ...", flush=True)
            try:
                bench(tmp)
            except Exception as exc:
                record_error(title, exc)

    print_report(ROWS, PROBLEMS, began, notes=NOTES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
