"""The core never imports Textual; the quick CLI path imports no heavy library at all."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from focusq.calendar import CACHE_NAME
from focusq.paths import Paths

CALENDAR = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//focusq tests//EN
BEGIN:VEVENT
UID:standup@focusq
DTSTART:20260101T090000Z
DTEND:20260101T091500Z
RRULE:FREQ=DAILY
SUMMARY:standup
END:VEVENT
END:VCALENDAR
"""
"""A meeting every day, so any day a quick command runs on has one."""

CORE = [
    "focusq.states",
    "focusq.models",
    "focusq.durations",
    "focusq.quickadd",
    "focusq.paths",
    "focusq.config",
    "focusq.settings",
    "focusq.store.ops.base",
    "focusq.store.ops.tasks",
    "focusq.store.ops.jobs",
    "focusq.store.ops.lease",
    "focusq.store.ops.focus",
    "focusq.store.ops.inbox",
    "focusq.store.ops.review",
    "focusq.store.ops.listing",
    "focusq.engine.scheduler",
    "focusq.engine.outcome",
    "focusq.focus.blocks",
    "focusq.focus.policy",
    "focusq.review.day",
    "focusq.review.sessions",
    "focusq.review.untracked",
    "focusq.review.planned",
    "focusq.calendar",
    "focusq.store.sync",
    "focusq.store.aio",
    "focusq.review.figures",
    "focusq.review.export",
    "focusq.cli.main",
    "focusq.cli.tasks",
    "focusq.cli.jobs",
    "focusq.cli.day",
]


def loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


@pytest.mark.parametrize("module", CORE)
def test_core_module_does_not_import_textual(module: str) -> None:
    assert "textual" not in loaded_after(f"import {module}")


@pytest.mark.parametrize(
    "argv", [["add", "write the post"], ["status", "--short"], ["ls"], ["add", "--", "true"]]
)
def test_quick_commands_stay_light(argv: list[str], focusq_home: Path, tmp_path: Path) -> None:
    # A calendar is configured, and the day it holds is not cached: the quick commands
    # must still never parse it.
    calendar = tmp_path / "work.ics"
    calendar.write_text(CALENDAR)
    config = Path(Paths.from_env().config_file)
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f"[calendar]\nics = [{json.dumps(str(calendar))}]\n")
    # The first command in a home validates the settings (pydantic) and caches them.
    subprocess.run([sys.executable, "-m", "focusq", "status"], check=True, capture_output=True)
    (focusq_home / CACHE_NAME).unlink(missing_ok=True)
    modules = loaded_after(
        "import contextlib, io\nfrom focusq.cli.main import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()): main({argv!r})"
    )
    heavy = {
        *("textual", "pydantic", "asyncio", "aiosqlite", "watchfiles", "typing", "pathlib"),
        *("icalendar", "recurring_ical_events"),
    }
    heavy.add("argparse")  # read by hand on the quickest paths
    assert not heavy & modules, heavy & modules


def test_a_changed_config_is_validated_again(focusq_home: object) -> None:
    subprocess.run([sys.executable, "-m", "focusq", "status"], check=True, capture_output=True)
    from focusq.paths import Paths

    with open(Paths.from_env().config_file, "w") as config:
        config.write("[engine]\nmax_parallel = 2\n")
    modules = loaded_after("from focusq.cli.main import main\nmain(['status'])")
    assert "pydantic" in modules


def test_a_config_rewritten_with_its_old_size_and_time_is_validated_again(
    focusq_home: object,
) -> None:
    """Same inode, same size, its modification time put back (``touch -d``, a restore, a
    sync tool): the change time still moves, and the settings are read again."""
    import os

    from focusq.paths import Paths

    path = Paths.from_env().config_file
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("[engine]\nmax_parallel = 2\n")
    subprocess.run([sys.executable, "-m", "focusq", "status"], check=True, capture_output=True)
    before = os.stat(path)
    with open(path, "r+") as config:  # in place: the same inode
        config.write("[engine]\nmax_parallel = 5\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = os.stat(path)
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )
    modules = loaded_after("from focusq.cli.main import main\nmain(['status'])")
    assert "pydantic" in modules


def test_review_reads_the_day_without_the_tui_or_pydantic() -> None:
    subprocess.run([sys.executable, "-m", "focusq", "status"], check=True, capture_output=True)
    modules = loaded_after(
        "import contextlib, io\nfrom focusq.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['review', '--json'])"
    )
    heavy = {"textual", "pydantic", "asyncio", "aiosqlite", "watchfiles"}
    assert not heavy & modules, heavy & modules


def test_alternating_configurations_each_stay_cached(focusq_home: object) -> None:
    """A tmux status line with one environment and shells with another: neither validates
    the settings again once each was seen."""
    import os

    one = {**os.environ, "FOCUSQ_ENGINE__MAX_PARALLEL": "2"}
    two = {**os.environ, "FOCUSQ_ENGINE__MAX_PARALLEL": "4"}
    for env in (one, two):
        subprocess.run(
            [sys.executable, "-m", "focusq", "status"], check=True, env=env, capture_output=True
        )
    probe = "from focusq.cli.main import main\nmain(['status', '--short'])"
    for env in (one, two):
        code = f"{probe}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
        )
        assert "pydantic" not in json.loads(out.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    "argv",
    [
        ["ls"],
        ["ls", "--json"],
        ["ls", "-a", "--kind", "mechanical", "--tag", "x y", "--limit", "0", "--json"],
        ["ls", "--status", "queued,held", "--status", "running", "-n", "7", "--archived"],
        ["ls", "--recurring", "--all"],
    ],
)
def test_ls_read_by_hand_as_argparse_reads_it(argv: list[str]) -> None:
    from focusq.cli.main import _quick, build_parser

    quick = _quick(list(argv))
    assert quick is not None
    parsed = build_parser(argv).parse_args(argv)
    for name in ("all", "archived", "json", "recurring", "kind", "tag", "limit", "status"):
        assert getattr(quick, name) == getattr(parsed, name), name
    assert quick.handler is parsed.handler


@pytest.mark.parametrize(
    "argv",
    [
        ["ls", "--help"],
        ["ls", "-aj"],
        ["ls", "--kind=creative"],
        ["ls", "--kind", "job"],
        ["ls", "--limit", "-1"],
        ["ls", "--limit", "\u00b2"],  # a digit to str.isdigit, not to int()
        ["ls", "--limit"],
        ["ls", "--tag", "--json"],
        ["ls", "stray"],
    ],
)
def test_anything_unusual_in_ls_goes_to_argparse(argv: list[str]) -> None:
    from focusq.cli.main import _quick

    assert _quick(list(argv)) is None
