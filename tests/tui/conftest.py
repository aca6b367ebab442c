"""A frozen clock, a fixed timezone and a seeded day for TUI tests."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from textual.worker import WorkerCancelled, WorkerState

from focusq.config import load_settings
from focusq.paths import Paths
from focusq.quickadd import parse
from focusq.store.ops import base, focus, inbox, jobs, tasks
from focusq.store.sync import SyncStore
from focusq.tui.app import FocusqApp, make_app
from tests.engine_helpers import record_run

NOW = 1_795_507_200.0 + 9.5 * 3600  # 2026-11-24 17:30 UTC
"""The frozen 'now' of every TUI test."""


S = TypeVar("S")

WATCHERS = {
    "watch-database",
    "watch-themes",
    "watch-config",
    "watch-logs",
    "watch-calendar",
    "away",
}
"""Worker groups that run for the app's whole life, or wait on the user (away)."""

SETTLE_SECONDS = 60.0
"""How long :func:`settle` waits for work to end before it fails the test (a hang)."""


async def opened(pilot, key: str, kind: type[S]) -> S:  # type: ignore[no-untyped-def]
    """Press ``key`` once the app has settled; the screen it opened, a ``kind``."""
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, kind)
    return screen


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait until every piece of work a key started has finished (the watchers never do).

    Under load, work ends in any order: a worker may be pending (made, not yet started),
    or be cancelled by a newer one of its exclusive group (a board read replaced by the
    next). Neither is an error; only a worker that failed is. Done when two looks in a
    row, each after the app went idle, find nothing pending or running: work ending
    often posts a message that starts more.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_SECONDS
    quiet = 0
    while quiet < 2:
        await pilot.pause()
        busy = [
            w
            for w in pilot.app.workers
            if w.group not in WATCHERS and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
        ]
        if not busy:
            quiet += 1
            continue
        quiet = 0
        left = deadline - loop.time()
        if left <= 0:
            raise AssertionError(f"work still running after {SETTLE_SECONDS:.0f}s: {busy}")
        for worker in busy:
            if worker.state is WorkerState.PENDING:
                continue  # not started yet: the next pause lets it
            try:
                await asyncio.wait_for(worker.wait(), timeout=left)
            except WorkerCancelled:
                pass  # replaced by a newer one of its group, which is looked at next
            except TimeoutError:
                raise AssertionError(f"{worker} still running after the wait") from None


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times render the same on every machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    time.tzset()


@pytest.fixture(autouse=True)
def no_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A steady cursor, so screenshots do not depend on when they were taken."""
    from textual.widgets import Input

    monkeypatch.setattr(Input, "cursor_blink", False)


def draft(text: str, command: list[str] | None = None, cwd: str = "/srv/site"):  # type: ignore[no-untyped-def]
    """A task draft from quick-add words (and a command)."""
    d = parse([text], command, now=NOW)
    if command is not None:
        d.cwd = cwd
    return d


@pytest.fixture
def seed(paths: Paths) -> Callable[..., list[int]]:
    """Add tasks to the test's database: ``seed("write +blog", ("build", ["make"]))``."""

    def add(*items: str | tuple[str, list[str]]) -> list[int]:
        drafts = [draft(i) if isinstance(i, str) else draft(i[0], i[1]) for i in items]
        with SyncStore(paths.database) as store:
            return store.run(tasks.add_tasks(drafts, NOW - 3600))

    return add


@pytest.fixture
def start_job(paths: Paths) -> Callable[[int, float, str], None]:
    """Mark a queued job running since ``started`` with ``output`` in its log (no process)."""

    def start(task_id: int, started: float, output: str = "") -> None:
        with SyncStore(paths.database) as store:
            claim = store.run(_claim(task_id, started, paths.logs))
        os.makedirs(paths.logs, exist_ok=True)
        Path(claim["log_path"]).write_text(f"# focusq: job\n# cwd: /srv\n# started: x\n{output}")

    return start


def _claim(task_id: int, now: float, logs: str):  # type: ignore[no-untyped-def]
    yield base.WRITE
    return (yield from jobs.claim(task_id, now, logs))


@pytest.fixture
def busy_day(seed: Callable[..., list[int]], start_job: Callable[..., None]) -> list[int]:
    """Three running jobs, waiting ones, and creative work."""
    ids = seed(
        "write the launch post +blog project:site pri:H est:90m",
        "review the Q4 plan +planning",
        "reply to Sam about the invoice +admin pri:L",
        ("build site", ["make", "-C", "site", "build"]),
        ("run tests", ["pytest", "-x"]),
        ("pull crm data", ["./pull", "crm"]),
        ("deploy prod gate:approve lock:deploy:prod", ["./deploy", "prod"]),
        ("report after:5", ["make", "report"]),
        ("nightly backup at:23:00", ["./backup"]),
    )
    start_job(ids[3], NOW - 95, "compiling pages 40/120\n")
    start_job(ids[4], NOW - 12, "collected 312 items\n")
    start_job(ids[5], NOW - 340, "fetched 8,200 rows\r fetched 9,100 rows\n")
    return ids


@pytest.fixture
def app(paths: Paths) -> FocusqApp:
    """The app as the CLI builds it, on this test's home, with the clock stopped at NOW."""
    return make_app(load_settings(paths), paths, clock=lambda: NOW)


REVIEW_BLOCKS = """
[[blocks]]
days = "mon-fri"
start = "09:00"
end = "10:00"
mode = "sync"
label = "standup"

[[blocks]]
days = "mon-fri"
start = "10:00"
end = "12:00"
mode = "async"
label = "deep work"

[[blocks]]
days = "mon-fri"
start = "13:00"
end = "14:00"
mode = "sync"

[[blocks]]
days = "mon-fri"
start = "14:00"
end = "17:00"
mode = "async"
"""


def today_at(hour: int, minute: int = 0) -> float:
    """A time on the day of ``NOW`` (Tue 24 Nov 2026, UTC)."""
    return NOW - 17.5 * 3600 + hour * 3600 + minute * 60


@pytest.fixture
def reviewed_day(paths: Paths) -> dict[str, int]:
    """A day to review: blocks, focus sessions, jobs (one failed), interruptions, work left."""
    paths.ensure_home()
    os.makedirs(os.path.dirname(paths.config_file), exist_ok=True)
    Path(paths.config_file).write_text(REVIEW_BLOCKS)
    t = today_at
    with SyncStore(paths.database) as store:
        ids = store.run(
            tasks.add_tasks(
                [
                    draft("write the launch post +blog pri:H"),
                    draft("review the Q4 plan"),
                    draft("reply to Sam about the invoice pri:L"),
                    draft("build site", ["make", "build"]),
                    draft("run tests", ["pytest", "-x"]),
                    draft("deploy prod", ["./deploy", "prod"]),
                    draft("pull crm data", ["./pull", "crm"]),
                ],
                t(8),
            )
        )
        post, plan, reply, build, tests, deploy, pull = ids

        record_run(store, build, t(9), t(9, 20), ok=True, logs=paths.logs)
        tail = "collected 312 items\nFAILED test_login\n"
        record_run(store, tests, t(9, 5), t(9, 15), ok=False, tail=tail, logs=paths.logs)
        store.run(jobs.request(deploy, "hold", t(9, 30)))
        store.run(focus.start_focus(post, t(10), 50, switch=False))
        store.run(inbox.capture("Sam asked about the invoice", t(10, 15)))
        store.run(focus.pause_focus(t(10, 45), resume=False))
        store.run(focus.pause_focus(t(10, 55), resume=True))
        store.run(inbox.capture("prod alert", t(11), urgent=True))
        store.run(focus.stop_focus(t(11, 30), done=False))
        store.run(inbox.deliver([1, 2, 3, 4], t(11, 30), "focus ended"))
        store.run(focus.record_switch(post, plan, pull, t(13, 55), accepted=True))
        record_run(store, pull, t(14), t(14, 40), ok=True, logs=paths.logs)
        store.run(focus.start_focus(plan, t(14), 50, switch=False))
        store.run(focus.stop_focus(t(15), done=True))
        store.run(inbox.deliver([5], t(15), "focus ended"))
    return {
        "post": post,
        "plan": plan,
        "reply": reply,
        "tests": tests,
        "deploy": deploy,
    }


@pytest.fixture
def review_app(reviewed_day: dict[str, int], paths: Paths) -> FocusqApp:
    """The app, built after the reviewed day's config (with its blocks) was written."""
    return make_app(load_settings(paths), paths, clock=lambda: NOW)


@pytest.fixture
def worktree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git worktree the app runs in: the jobs it adds run there, and build there."""
    folder = tmp_path / "repo"
    (folder / ".git").mkdir(parents=True)
    monkeypatch.chdir(folder)
    return folder
