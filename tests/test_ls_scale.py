"""``focusq ls`` at any queue size: a terminal gets a screenful and how many more, a pipe
every row, ``--json`` the records ``show --json`` gives, filters and reasons kept."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from focusq.paths import Paths

HOSTILE = [
    'say "hi" \\ back',
    "two\nlines\rand a return",
    "red \x1b[31malert\x1b[0m and \x9b2J",
    "naïve café ☃ 中文 \u202eevil",
    "tab\there",
]


def _drafts(
    lines: list[tuple[str, list[str] | None]], now: float, *, raw: bool = False
) -> list[Any]:
    """Drafts as quick-add makes them; with ``raw`` each line is the title as it is."""
    from focusq import quickadd

    drafts = []
    for words, command in lines:
        draft = quickadd.parse(words.split(" "), command, now=now)
        if raw:
            draft.title = words
        if command is not None:
            draft.cwd = "/srv"
        drafts.append(draft)
    return drafts


def seed(
    paths: Paths,
    lines: list[tuple[str, list[str] | None]],
    now: float,
    *,
    raw: bool = False,
    **deps: list[int],
) -> list[int]:
    """Add ``(quick-add words, command)`` tasks in one transaction; their ids. ``deps``:
    ``after`` and ``afterany`` of the last one, as batch positions (-1 is the first)."""
    from focusq.store.ops import tasks
    from focusq.store.sync import SyncStore

    drafts = _drafts(lines, now, raw=raw)
    for key, value in deps.items():
        setattr(drafts[-1], key, value)
    with SyncStore(paths.database) as store:
        return list(store.run(tasks.add_tasks(drafts, now)))


def at_tomorrow_evening(now: float) -> str:
    """``at:`` 23:59 tomorrow: ahead whenever the test runs, and said ``at 23:59``. A bare
    ``at:23:59`` seeded in the second before 23:59 has passed by the time ``ls`` looks."""
    from datetime import date, timedelta

    return f"at:{date.fromtimestamp(now) + timedelta(days=1)}T23:59"


def seed_many(paths: Paths, count: int, now: float) -> None:
    """``count`` tasks: jobs and creative work, tags, priorities (no dependency)."""
    lines: list[tuple[str, list[str] | None]] = []
    for n in range(count):
        if n % 3:
            tag = "+even" if n % 2 == 0 else "+odd"
            lines.append((f"convert img{n}.png {tag} pri:{'HML'[n % 3]}", ["true"]))
        else:
            lines.append((f"write part {n} +draft project:book", None))
    seed(paths, lines, now)


def run_job(paths: Paths, task_id: int, now: float, executor: str = "local") -> None:
    """Mark a queued job running on ``executor`` (a claim as the worker makes, no process)."""
    from focusq.store.ops import base, jobs
    from focusq.store.sync import SyncStore

    with SyncStore(paths.database) as store:
        store.run(base.apply([jobs.claim(task_id, now, paths.logs, executor)]))


def varied_queue(paths: Paths) -> dict[str, int]:
    """Running jobs holding a lock, a group and the cap; jobs waiting on each; held, gated,
    timed, finished and creative tasks; hostile titles and notes."""
    from focusq.states import TaskStatus
    from focusq.store.ops import groups, tasks
    from focusq.store.sync import SyncStore

    now = time.time()
    names = [
        "holder",
        "runner",
        "third",
        "wants lock",
        "in group",
        "gated",
        "timed",
        "plain",
        "finished",
        "after holder",
    ]
    ids = dict(
        zip(
            names,
            seed(
                paths,
                [
                    ("holder lock:disk group:conv pri:H", ["make", "a b", "ünï"]),
                    ("runner", ["sleep", "9"]),
                    ("third +x", ["true"]),
                    ("wants lock lock:disk +x pri:H", ["true"]),
                    ("in group group:conv pri:L", ["true"]),
                    ("gated gate:approve", ["./deploy"]),
                    (f"timed {at_tomorrow_evening(now)} project:night", ["true"]),
                    ("plain job", ["echo", 'q"uote']),
                    ("finished", ["true"]),
                    ("after holder retry:2 timeout:10m est:5m", ["true"]),
                ],
                now,
                after=[-1],
                afterany=[-2],
            ),
            strict=True,
        )
    )
    hostile = seed(paths, [(title, None) for title in HOSTILE], now, raw=True)
    ids.update({f"hostile {n}": task_id for n, task_id in enumerate(hostile)})
    held = seed(paths, [("held back +x", ["true"])], now)[0]
    ids["held"] = held
    with SyncStore(paths.database) as store:
        store.run(groups.set_group("conv", now, parallel=1))
        store.run(tasks.add_note(hostile[0], "a note\nwith \x1b[2J two lines ☃", now))
        store.run(tasks.transition(held, [TaskStatus.QUEUED], TaskStatus.HELD, now))
        store.run(tasks.transition(ids["finished"], [TaskStatus.QUEUED], TaskStatus.DONE, now))
    for name in ("holder", "runner", "third"):
        run_job(paths, ids[name], now)
    return ids


def focusq(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "focusq", *args],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
        check=True,
    )


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}


def on_terminal(*args: str, rows: int = 24, columns: int = 100) -> list[str]:
    """``focusq ARGS`` with its output on a pseudo-terminal of ``rows`` x ``columns``: the
    lines it drew."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "focusq", *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    os.close(slave)
    out = b"".join(_read_all(master, deadline=time.monotonic() + 120))
    os.close(master)
    assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    return out.decode().replace("\r\n", "\n").splitlines()


def _read_all(master: int, deadline: float) -> Iterator[bytes]:
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            continue
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: every writer closed the terminal
            return
        if not data:
            return
        yield data
    raise AssertionError("focusq ls did not finish")


def reference(paths: Paths, **filters: Any) -> list[dict[str, Any]]:
    """``ls --json`` as ``show --json`` builds each record: ``json_record`` of the full
    record, with why it waits from ``with_waiting_for``."""
    from focusq.cli.common import cached_settings
    from focusq.cli.output import json_record, with_waiting_for
    from focusq.states import ACTIVE
    from focusq.store.ops import tasks
    from focusq.store.sync import SyncStore

    statuses = filters.pop("statuses", {s.value for s in ACTIVE})
    with SyncStore(paths.database) as store:
        records = store.run(tasks.list_tasks(statuses, **filters))
        with_waiting_for(store, cached_settings(paths), records)
    return [json_record(r) for r in records]


def test_a_terminal_gets_a_screenful_and_how_many_more(paths: Paths) -> None:
    seed_many(paths, 10_500, time.time())
    ids = varied_queue(paths)

    lines = on_terminal("ls", rows=24, columns=100)

    assert lines[0].split() == ["ID", "KIND", "P", "STATUS", "TITLE"]
    rows, hint = lines[1:-1], lines[-1]
    assert len(rows) == 24 - 3  # header, the hint and the prompt keep the screen
    total = 10_500 + len(ids) - 1  # the finished one is not listed
    assert hint == (
        f"… {total - 21:,} more ({total:,} in all); see them all with: focusq ls | less -S"
    )
    assert all(len(line) <= 100 for line in lines)
    # The first rows are the high-priority ones, in the order they will be taken.
    shown = [int(row.split()[0]) for row in rows]
    assert shown == [r["id"] for r in reference(paths)][:21]
    assert shown[:2] == [ids["holder"], ids["wants lock"]]
    by_id = {int(row.split()[0]): row for row in rows}
    assert "(lock disk held by #" in by_id[ids["wants lock"]]


def test_why_it_waits_is_said_for_the_rows_shown(paths: Paths) -> None:
    ids = varied_queue(paths)

    lines = on_terminal("ls", "--all", rows=60, columns=120)

    assert not lines[-1].startswith("…")  # all of it fits
    by_id = {int(line.split()[0]): line for line in lines[1:]}
    said = {
        "wants lock": f"(lock disk held by #{ids['holder']})",
        "in group": "(group conv full (1/1))",
        "after holder": f"(after #{ids['holder']})",
        "gated": "(gate: approve)",
        "timed": "(at 23:59)",
        "plain": "(cap 3 reached)",
    }
    for name, why in said.items():
        assert why in by_id[ids[name]], by_id[ids[name]]
    assert "(held)" not in by_id[ids["held"]] and " held " in by_id[ids["held"]]
    assert "(" not in by_id[ids["holder"]].split("holder")[0]  # running: no reason
    # Escapes in titles are shown as pictures, never obeyed; one row each.
    text = "\n".join(lines)
    assert "\x1b" not in text and "\x9b" not in text and "\u202e" not in text
    assert "␛[31malert" in by_id[ids["hostile 2"]]
    assert "two␊lines␍and" in by_id[ids["hostile 1"]]


def test_a_pipe_gets_every_row_and_no_hint(paths: Paths) -> None:
    seed_many(paths, 12_000, time.time())
    ids = varied_queue(paths)

    out = focusq("ls").stdout.splitlines()

    total = 12_000 + len(ids) - 1
    assert len(out) == 1 + total
    assert not any(line.startswith("…") for line in out)
    listed = [int(line.split()[0]) for line in out[1:]]
    assert listed == [r["id"] for r in reference(paths)]
    long_title = next(line for line in out if line.split()[0] == str(ids["after holder"]))
    assert "after holder" in long_title and "…" not in long_title  # nothing is cut
    assert len(focusq("ls", "--limit", "7").stdout.splitlines()) == 1 + 7
    assert len(on_terminal("ls", "--limit", "0", rows=24)) == 1 + total


@pytest.mark.parametrize(
    "tags",
    [
        ["x"],
        ["build", "ci", "v2.1"],
        ['q"t'],
        ["back\\slash"],
        ["ünï", "中文"],
        ['a","b', "c"],
        ["][", "a, b"],
        ["/", ", ", "b/"],
        [",", ""],
    ],
)
@pytest.mark.parametrize("separators", [(", ", ": "), (",", ":")])
def test_a_row_says_each_tag_as_it_was_given(
    paths: Paths, tags: list[str], separators: tuple[str, str]
) -> None:
    """Tags are cut out of their JSON text where nothing in it is escaped, else read through
    json_each: both say each tag once, as given, however the list was written (focusq
    writes it spaced, and compact where SQLite rewrites it)."""
    [draft] = _drafts([("tagged", None)], time.time())
    from focusq.store.ops import tasks
    from focusq.store.sync import SyncStore

    with SyncStore(paths.database) as store:
        [task_id] = store.run(tasks.add_tasks([draft], time.time()))
    with sqlite3.connect(paths.database) as con:
        text = json.dumps(tags, separators=separators)
        con.execute("UPDATE tasks SET tags = ? WHERE id = ?", (text, task_id))
    [row] = focusq("ls").stdout.splitlines()[1:]
    assert row.endswith("  tagged " + " ".join(f"+{tag}" for tag in tags)), row
    assert focusq("show", str(task_id), "--json").returncode == 0


def test_json_is_what_show_json_says_of_every_task(paths: Paths) -> None:
    ids = varied_queue(paths)

    listed = json.loads(focusq("ls", "--json").stdout)
    everything = json.loads(focusq("ls", "--json", "--all").stdout)

    assert listed == reference(paths)
    assert everything == reference(paths, statuses=None)
    waiting = {r["id"]: r["waiting_for"] for r in listed}
    assert waiting[ids["wants lock"]] == f"lock disk held by #{ids['holder']}"
    assert waiting[ids["held"]] == "held" and waiting[ids["holder"]] is None
    show = json.loads(focusq("show", str(ids["after holder"]), "--json").stdout)
    show.pop("runs")
    assert show == next(r for r in listed if r["id"] == ids["after holder"])
    titles = {r["title"] for r in listed}
    assert set(HOSTILE) <= titles
    # One task a line, as before.
    text = focusq("ls", "--json").stdout
    assert text.startswith("[\n{") and text.endswith("}\n]\n")
    assert len(text.splitlines()) == len(listed) + 2


CONFIG = """
[engine]
max_parallel = 3
[locks]
"shared:*" = 2
[groups.remote]
executor = "far"
[groups.spare]
executor = "near"
[groups.wide]
max_parallel = 2
[executors.far]
max_parallel = 1
[executors.near]
max_parallel = 2
"""
"""Caps that make every reason ``engine.waiting`` gives come up at once."""


def every_reason(paths: Paths) -> dict[str, int]:
    """Running jobs holding a lock, a worktree, a shared lock twice, a group and the far
    executor, more of them than the cap; a job held back by each, by a paused group, by an
    ``at`` and a retry, after an open dependency beside a finished one, held and gated; a
    job whose group's executor is free (nothing holds it back though the local cap is
    reached) and creative work. By name."""
    from focusq.states import TaskStatus
    from focusq.store.ops import base, groups, jobs, tasks
    from focusq.store.sync import SyncStore

    config = Path(paths.config_file)
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(CONFIG)
    now = time.time()
    tasks_by_name = {
        "disk holder": "lock:disk group:conv",
        "tree holder": "lock:worktree:/srv/app",
        "shared one": "lock:shared:x",
        "shared two": "lock:shared:x lock:other",
        "far runner": "group:remote",
        "finished": "",
        "wants disk": "lock:free lock:disk",
        "wants tree": "lock:worktree:/srv/app",
        "wants shared": "lock:shared:x pri:H",
        "in conv": "group:conv pri:L",
        "in stopped": "group:stopped",
        "in remote": "group:remote",
        "in spare": "group:spare",
        "in wide": "group:wide",
        "timed": f"{at_tomorrow_evening(now)} lock:disk",
        "retried": "retry:3",
        "gated": "gate:approve",
        "held": "",
        "plain": "",
        "on far": "on:far",
        "on near in conv": "on:near group:conv",
        "on near": "on:near",
        "on gone": "on:near",
        "after both": "",
    }
    lines: list[tuple[str, list[str] | None]] = [
        (f"{name} {words}".strip(), ["true"]) for name, words in tasks_by_name.items()
    ]
    lines.append(("write the post +blog", None))
    names = [*tasks_by_name, "creative"]
    batch = seed(paths, lines[:-1], now, after=[-6], afterany=[-19])
    ids = dict(zip(names, [*batch, *seed(paths, lines[-1:], now)], strict=True))
    retry_at = now + 5 * 3600 + 30 * 60 + 15  # "retry in 5h30m" for 15 seconds
    with SyncStore(paths.database) as store:
        store.run(groups.set_group("conv", now, parallel=1))
        store.run(groups.set_group("stopped", now, paused=True))
        store.run(tasks.transition(ids["held"], [TaskStatus.QUEUED], TaskStatus.HELD, now))
        store.run(tasks.transition(ids["finished"], [TaskStatus.QUEUED], TaskStatus.DONE, now))
        [claimed] = store.run(base.apply([jobs.claim(ids["retried"], now, paths.logs)]))
        store.run(
            base.apply(
                [
                    jobs.finish(
                        ids["retried"],
                        claimed["run_id"],
                        now,
                        result="failed",
                        status=TaskStatus.QUEUED,
                        exit_code=1,
                        not_before=retry_at,
                    )
                ]
            )
        )
    for name in ("disk holder", "tree holder", "shared one", "shared two"):
        run_job(paths, ids[name], now)
    run_job(paths, ids["far runner"], now, "far")  # its group's executor
    with sqlite3.connect(paths.database) as con:  # its executor taken out of the config
        con.execute("UPDATE tasks SET executor = 'gone' WHERE id = ?", (ids["on gone"],))
    return ids


def test_json_says_every_reason_as_show_does(paths: Paths) -> None:
    ids = every_reason(paths)

    listed = json.loads(focusq("ls", "--json").stdout)

    assert listed == reference(paths)
    waiting = {r["id"]: r["waiting_for"] for r in listed}
    said = {
        "wants disk": f"lock disk held by #{ids['disk holder']}",
        "wants tree": f"same worktree as #{ids['tree holder']}",
        "wants shared": f"lock shared:x held by #{ids['shared one']}",
        "in conv": "group conv full (1/1)",
        "in stopped": "group stopped paused",
        "in remote": "far full (1/1)",
        "in spare": None,
        "in wide": "cap 3 reached",
        "timed": "at 23:59",
        "retried": "failed, retry in 5h30m",
        "gated": "gate: approve",
        "held": "held",
        "plain": "cap 3 reached",
        "on far": "far full (1/1)",  # its own executor's cap, not the local one
        "on near in conv": "group conv full (1/1)",  # its group first
        "on near": None,
        "on gone": "executor gone is not configured",
        "after both": f"after #{ids['plain']}",
        "creative": None,
        "disk holder": None,
    }
    assert {name: waiting[ids[name]] for name in said} == said
    # The terminal's table says the same, in its own words.
    lines = on_terminal("ls", rows=40, columns=120)
    by_id = {int(line.split()[0]): line for line in lines[1:]}
    for name in ("wants tree", "in remote", "retried", "after both", "on far", "on gone"):
        assert f"({said[name]})" in by_id[ids[name]], by_id[ids[name]]
    assert "(" not in by_id[ids["in spare"]] and "(" not in by_id[ids["on near"]]


def test_a_job_running_on_an_executor_of_its_own_counts_there(paths: Paths) -> None:
    config = Path(paths.config_file)
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[engine]\nmax_parallel = 1\n[executors.far]\nmax_parallel = 1\n")
    now = time.time()
    lines: list[tuple[str, list[str] | None]] = [
        ("runs far on:far", ["true"]),
        ("here", ["true"]),
        ("there on:far", ["true"]),
    ]
    running, here, there = seed(paths, lines, now)
    run_job(paths, running, now, "far")
    said = {here: None, there: "far full (1/1)"}  # the local slot is free
    listed = {r["id"]: r["waiting_for"] for r in json.loads(focusq("ls", "--json").stdout)}
    assert {i: listed[i] for i in said} == said
    for task_id, why in said.items():
        assert json.loads(focusq("show", str(task_id), "--json").stdout)["waiting_for"] == why
    table = {int(line.split()[0]): line for line in focusq("ls").stdout.splitlines()[1:]}
    assert "(far full (1/1))" in table[there] and "(" not in table[here]


@pytest.mark.parametrize(
    ("argv", "heavy"),
    [
        (["ls", "--json"], {"focusq.engine.scheduler", "focusq.engine.waiting"}),
        (["ls"], {"focusq.engine.scheduler"}),  # the table asks engine.waiting, kept light
    ],
)
def test_reasons_import_no_scheduler(paths: Paths, argv: list[str], heavy: set[str]) -> None:
    every_reason(paths)
    focusq("status")  # the first command in a home validates the settings and caches them
    probe = (
        "import contextlib, io, json, sys\n"
        "from focusq.cli.main import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()) as out: main({argv!r})\n"
        "assert 'lock disk held by' in out.getvalue()\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    modules = set(json.loads(out.stdout.splitlines()[-1]))
    heavy = {*heavy, "dataclasses", "typing", "statistics"}
    assert not heavy & modules, heavy & modules


def test_json_moments_across_a_clock_change_match_show(paths: Paths) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from focusq.store.ops import tasks
    from focusq.store.sync import SyncStore

    berlin = ZoneInfo("Europe/Berlin")
    now = time.time()
    year = datetime.fromtimestamp(now).year
    moments = [
        datetime(year, 3, 29, 0, 59, 59, 999_999, tzinfo=ZoneInfo("UTC")).timestamp(),
        datetime(year, 3, 29, 1, 0, 0, tzinfo=ZoneInfo("UTC")).timestamp(),
        datetime(year, 10, 25, 0, 59, 59, 400_000, tzinfo=ZoneInfo("UTC")).timestamp(),
        datetime(year, 10, 25, 1, 0, 0, 600_000, tzinfo=ZoneInfo("UTC")).timestamp(),
        datetime(year, 7, 1, 12, tzinfo=berlin).timestamp() + 0.9996,  # rounds like Python
        datetime(year - 3, 1, 1, tzinfo=berlin).timestamp(),  # outside the fast year
        now,
    ]
    with SyncStore(paths.database) as store:
        for n, moment in enumerate(moments):
            draft = _drafts([(f"moment {n}", None)], moment)[0]
            store.run(tasks.add_task(draft, moment))
    env = {**_env(), "TZ": "Europe/Berlin"}
    listed = json.loads(
        subprocess.run(
            [sys.executable, "-m", "focusq", "ls", "--json"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=60,
        ).stdout
    )
    said = {r["id"]: r["created_at"] for r in listed}
    for task_id, moment in enumerate(moments, start=1):
        expected = datetime.fromtimestamp(moment, berlin).isoformat(timespec="seconds")
        assert said[task_id] == expected, (task_id, moment)


def test_filters_hold_at_ten_thousand(paths: Paths) -> None:
    seed_many(paths, 10_200, time.time())
    varied_queue(paths)

    def ids_in(text: str) -> list[int]:
        return [int(line.split()[0]) for line in text.splitlines()[1:]]

    for args, filters in [
        (["--tag", "even"], {"tag": "even"}),
        (["--kind", "creative"], {"kind": "creative"}),
        (["--status", "held,running"], {"statuses": {"held", "running"}}),
        (
            ["--status", "queued", "--kind", "mechanical", "--tag", "odd"],
            {"statuses": {"queued"}, "kind": "mechanical", "tag": "odd"},
        ),
        (["--all", "--tag", "x"], {"statuses": None, "tag": "x"}),
    ]:
        expected = reference(paths, **dict(filters))
        assert ids_in(focusq("ls", *args).stdout) == [r["id"] for r in expected], args
        assert json.loads(focusq("ls", "--json", *args).stdout) == expected, args
    lines = on_terminal("ls", "--tag", "even", rows=10)
    assert lines[-1].endswith("see them all with: focusq ls --tag even | less -S")
    assert len(lines) == 1 + 7 + 1


@pytest.mark.parametrize("value", ["-1", "many", "\u00b2", "\u2460"])
def test_a_limit_is_a_whole_number(value: str, tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "focusq", "ls", "--limit", value],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
    )
    assert out.returncode == 2 and "--limit" in out.stderr
