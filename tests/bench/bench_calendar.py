"""The quick commands and ``focusq blocks`` with a 5,000-event calendar configured.

Run it directly: ``python tests/bench/bench_calendar.py``. It writes a throwaway
``FOCUSQ_HOME`` whose config names an iCalendar file of 5,000 events (weekly recurring
meetings with exceptions, and one-off meetings spread over a year, in several zones), then
times ``focusq add``, ``focusq status --short`` and ``focusq blocks`` (the installed console
script) against ``python -c pass``, interleaving the runs so drift in machine load hits every
command alike. ``focusq blocks`` is timed with the day cached (the first run, which parses
the file, is reported on its own line). It reports; it never fails: the exit code is 0
whatever the numbers.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta

from common import Row, compile_package, focusq_command, print_report

RUNS = 30
WARMUP = 2
EVENTS = 5_000
RECURRING = 50
"""Weekly series among the events (each with an EXDATE and a moved instance)."""
ZONES = ("America/New_York", "Europe/Berlin", "Asia/Tokyo", "UTC")


def calendar_text(events: int, today: date, seed: int = 7) -> str:
    """An iCalendar file of ``events`` events around ``today``."""
    rng = random.Random(seed)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//focusq bench//EN"]
    start = datetime.combine(today - timedelta(days=180), datetime.min.time())
    for n in range(RECURRING):
        first = start + timedelta(days=rng.randrange(7), hours=8 + rng.randrange(9))
        skip = first + timedelta(weeks=3)
        moved = first + timedelta(weeks=5)
        lines += [
            "BEGIN:VEVENT",
            f"UID:series-{n}",
            f"DTSTART;TZID={ZONES[n % len(ZONES)]}:{first:%Y%m%dT%H%M%S}",
            f"DTEND;TZID={ZONES[n % len(ZONES)]}:{first + timedelta(minutes=30):%Y%m%dT%H%M%S}",
            "RRULE:FREQ=WEEKLY;COUNT=60",
            f"EXDATE;TZID={ZONES[n % len(ZONES)]}:{skip:%Y%m%dT%H%M%S}",
            f"SUMMARY:Weekly {n}",
            "END:VEVENT",
            "BEGIN:VEVENT",
            f"UID:series-{n}",
            f"RECURRENCE-ID;TZID={ZONES[n % len(ZONES)]}:{moved:%Y%m%dT%H%M%S}",
            f"DTSTART;TZID={ZONES[n % len(ZONES)]}:{moved + timedelta(hours=1):%Y%m%dT%H%M%S}",
            f"DTEND;TZID={ZONES[n % len(ZONES)]}:{moved + timedelta(hours=2):%Y%m%dT%H%M%S}",
            f"SUMMARY:Weekly {n} (moved)",
            "END:VEVENT",
        ]
    for n in range(events - 2 * RECURRING):
        at = start + timedelta(days=rng.randrange(365), minutes=15 * rng.randrange(96))
        lines += [
            "BEGIN:VEVENT",
            f"UID:one-{n}",
            f"DTSTART:{at:%Y%m%dT%H%M%S}Z",
            f"DTEND:{at + timedelta(minutes=15 * (1 + rng.randrange(4))):%Y%m%dT%H%M%S}Z",
            f"SUMMARY:Meeting {n}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


CONFIG = """
[calendar]
ics = ["{ics}"]

[[blocks]]
days = "daily"
start = "09:00"
end = "12:00"
mode = "async"
label = "deep work"
"""


def time_once(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, str | None]:
    """Wall seconds for one run, and its stderr when it failed."""
    started = time.perf_counter()
    result = subprocess.run(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd, check=False
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0 or result.stderr:
        return elapsed, result.stderr.decode(errors="replace").strip() or "exit non-zero"
    return elapsed, None


def main() -> int:
    began = time.perf_counter()
    focus_cmd = focusq_command()
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="focusq-bench-") as tmp:
        home = os.path.join(tmp, "home")
        os.makedirs(home)
        ics = os.path.join(tmp, "work.ics")
        with open(ics, "w", encoding="utf-8", newline="") as file:
            file.write(calendar_text(EVENTS, date.today()))
        with open(os.path.join(home, "config.toml"), "w", encoding="utf-8") as file:
            file.write(CONFIG.format(ics=ics))
        env = {k: v for k, v in os.environ.items() if not k.startswith("FOCUSQ_")}
        env["FOCUSQ_HOME"] = home
        env["FOCUSQ_WORKER__AUTOSTART"] = "false"
        compile_package()
        # The settings cache is written by the first command; the calendar is parsed once.
        time_once([*focus_cmd, "status"], env, tmp)
        first, error = time_once([*focus_cmd, "blocks"], env, tmp)
        if error:
            problems.append(f"focusq blocks (parsing): {error}")

        commands: list[tuple[str, list[str], float | None]] = [
            ("python -c pass", [sys.executable, "-c", "pass"], None),
            ('focusq add "benchmark task"', [*focus_cmd, "add", "benchmark task"], 3.0),
            ("focusq status --short", [*focus_cmd, "status", "--short"], 3.0),
            (f"focusq blocks ({EVENTS:,} events, cached)", [*focus_cmd, "blocks"], 5.0),
        ]
        times: dict[str, list[float]] = {name: [] for name, _, _ in commands}
        for round_ in range(WARMUP + RUNS):
            for name, argv, _ in commands:
                elapsed, error = time_once(argv, env, tmp)
                if error:
                    problems.append(f"{name}: {error}")
                if round_ >= WARMUP:
                    times[name].append(elapsed)

    baseline = statistics.median(times[commands[0][0]])
    rows = []
    for name, _, budget in commands:
        median = statistics.median(times[name])
        ratio = median / baseline
        rows.append(
            Row(
                name,
                f"{median * 1000:.1f} ms",
                f"{baseline * 1000:.1f} ms",
                f"{ratio:.2f}x",
                "-" if budget is None else f"<= {budget:g}x",
                "baseline" if budget is None else ("ok" if ratio <= budget else "OVER"),
            )
        )
    rows.append(
        Row(
            f"focusq blocks ({EVENTS:,} events, first read)",
            f"{first * 1000:.0f} ms",
            f"{baseline * 1000:.1f} ms",
            f"{first / baseline:.1f}x",
            "-",
            "report",
        )
    )
    print_report(
        rows,
        sorted(set(problems)),
        began,
        detail=f", median of {RUNS} interleaved runs",
        notes=["The first read parses the file and fills the cache beside the database."],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
