"""The TUI keeps going on a bad theme, and an error nothing handled is logged, not lost."""

from __future__ import annotations

import fcntl
import json
import os
import select
import signal
import stat
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from focusq.config import load_settings
from focusq.paths import Paths
from focusq.tui.app import DEFAULT_THEME, FocusqApp, make_app
from tests.tui.conftest import NOW, settle

SIZE = (100, 30)

GOOD = 'name = "mine"\ndark = true\nprimary = "#7AA2F7"\nbackground = "#1A1B26"\n'
BAD = 'name = "mine"\ndark = true\nprimary = "#7AA2F7"\nbackground = "midnight-ish"\n'


def themes_folder(paths: Paths) -> Path:
    return Path(paths.config_dir) / "themes"


def noted(app: FocusqApp) -> list[str]:
    """Record every notification's message in the list returned."""
    messages: list[str] = []
    notify = app.notify

    def recording(message: str, **kwargs: object) -> None:
        messages.append(message)
        notify(message, **kwargs)  # type: ignore[arg-type]

    app.notify = recording  # type: ignore[method-assign]
    return messages


async def wait_until(pilot, condition, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    """Let the app run until ``condition()`` holds (file watching takes a moment)."""
    for _ in range(int(seconds / 0.1)):
        if condition():
            return True
        await pilot.pause(0.1)
    return bool(condition())


async def test_a_remembered_theme_with_a_bad_colour_falls_back(paths: Paths) -> None:
    folder = themes_folder(paths)
    folder.mkdir(parents=True)
    (folder / "mine.toml").write_text(BAD)
    paths.ensure_home()
    Path(paths.home, "tui-state.json").write_text(json.dumps({"theme": "mine"}))
    app = make_app(load_settings(paths), paths, clock=lambda: NOW)
    messages = noted(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.is_running
        assert app.theme == DEFAULT_THEME
        assert "mine" not in app.available_themes
        assert any(str(folder / "mine.toml") in m and "background" in m for m in messages)


async def test_a_themes_folder_made_while_running_is_watched(paths: Paths) -> None:
    folder = themes_folder(paths)
    assert not folder.parent.exists()  # not even the config folder yet
    app = make_app(load_settings(paths), paths, clock=lambda: NOW)
    messages = noted(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        folder.mkdir(parents=True)
        (folder / "mine.toml").write_text(GOOD)
        assert await wait_until(pilot, lambda: "mine" in app.available_themes)
        app.theme = "mine"
        await settle(pilot)
        # Saved with a typo while in use: reported, and the default takes over.
        (folder / "mine.toml").write_text(BAD)
        assert await wait_until(pilot, lambda: app.theme == DEFAULT_THEME)
        assert app.is_running
        assert any("mine.toml" in m and "background" in m for m in messages)


@pytest.mark.slow
def test_an_unhandled_error_exits_1_and_leaves_its_traceback(
    focusq_home: Path, tmp_path: Path
) -> None:
    focusq_home.mkdir()
    (focusq_home / "focusq.db").write_text("not a database, " * 20)  # opening it fails
    log = focusq_home / "tui-crash.log"
    stderr = tmp_path / "stderr"
    assert run_in_a_terminal([sys.executable, "-m", "focusq", "ui"], stderr) == 1
    assert f"(the traceback is in {log})" in stderr.read_text(errors="replace")
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    text = log.read_text()
    assert "Traceback (most recent call last)" in text
    assert "DatabaseError" in text


def run_in_a_terminal(argv: list[str], stderr: Path) -> int:
    """Run ``argv`` on a pseudo-terminal (Textual wants one), stderr to a file: the exit code."""
    main, side = os.openpty()
    with stderr.open("wb") as errors:
        process = subprocess.Popen(
            argv,
            stdin=side,
            stdout=side,
            stderr=errors,
            env={**os.environ, "TERM": "xterm-256color"},
        )
    os.close(side)
    try:
        while process.poll() is None:
            if select.select([main], [], [], 0.1)[0]:
                try:
                    os.read(main, 1 << 16)
                except OSError:
                    break
        return process.wait(timeout=30)
    finally:
        os.close(main)


async def test_work_that_outlives_the_screens_widgets_ends_quietly(app: FocusqApp) -> None:
    # Closing the app takes the widgets away before it cancels the screen's work: a board
    # read or a detail fill still in flight then finds nothing to fill, and must not crash.
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        for widget in list(screen.children):
            await widget.remove()
        screen.refresh_board()  # type: ignore[attr-defined]
        screen.show_detail()  # type: ignore[attr-defined]
        screen._tick_clock()  # type: ignore[attr-defined]
        await settle(pilot)
        assert app.is_running


async def test_a_worker_that_stops_on_an_error_is_said(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker the TUI starts for a queued job cannot use the config (edited since the TUI
    read it): the TUI says why it stopped, in its own words, instead of the job waiting
    unexplained."""
    from focusq.store.ops import tasks
    from focusq.store.sync import SyncStore
    from tests.test_ls_scale import _drafts

    with SyncStore(paths.database) as store:
        store.run(tasks.add_tasks(_drafts([("build", ["true"])], NOW), NOW))
    monkeypatch.setenv("FOCUSQ_WORKER__AUTOSTART", "true")
    app = make_app(load_settings(paths), paths)
    config = Path(paths.config_file)
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[engine]\n"[b]cap[/b]" = 2\n')
    messages = noted(app)
    async with app.run_test(size=SIZE) as pilot:
        assert await wait_until(
            pilot, lambda: any(m.startswith("the worker stopped:") for m in messages), 30
        ), messages
    [said] = [m for m in messages if m.startswith("the worker stopped:")]
    assert "unknown key 'engine.[b]cap[/b]'" in said and "worker.log" in said
    assert "Traceback" not in said


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP])
def test_a_kill_leaves_the_terminal_as_it_found_it(focusq_home: Path, stop: signal.Signals) -> None:
    """SIGTERM (a kill, tmux's kill-pane) or SIGHUP (the terminal closed): the app exits as
    after q, restoring the screen, the cursor and the mouse."""
    main, side = os.openpty()
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "focusq", "ui"],
        stdin=side,
        stdout=side,
        stderr=side,  # where Textual draws
        env={**os.environ, "TERM": "xterm-256color", "FOCUSQ_WORKER__AUTOSTART": "false"},
    )
    os.close(side)
    shown = b""
    try:
        deadline = time.monotonic() + 30
        while b"\x1b[?1049h" not in shown or b"ID" not in shown:  # drawn: the table's header
            assert time.monotonic() < deadline, shown[-300:]
            if select.select([main], [], [], 0.1)[0]:
                shown += os.read(main, 1 << 16)
        process.send_signal(stop)
        ended = b""
        while process.poll() is None or select.select([main], [], [], 0.1)[0]:
            assert time.monotonic() < deadline + 30
            if select.select([main], [], [], 0.1)[0]:
                try:
                    ended += os.read(main, 1 << 16)
                except OSError:
                    break
        assert process.wait(timeout=30) == 0
        assert b"\x1b[?1049l" in ended  # back from the alternate screen
        assert b"\x1b[?25h" in ended  # the cursor shown again
    finally:
        process.kill()
        os.close(main)


async def test_a_killed_worker_is_replaced_while_its_jobs_run(
    paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kill -9 leaves nothing in the database to see: the TUI looks every few seconds and
    starts a worker for the jobs still running, which adopts them."""
    import sqlite3

    from focusq.store.ops import tasks
    from focusq.store.sync import SyncStore
    from tests.engine_helpers import alive, processes_of
    from tests.test_ls_scale import _drafts

    gate = tmp_path / "go"
    with SyncStore(paths.database) as store:
        [job] = store.run(
            tasks.add_tasks(
                _drafts(
                    [("hold", ["sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.05; done"])], NOW
                ),
                NOW,
            )
        )

    def lease_pid() -> int | None:
        con = sqlite3.connect(paths.database)
        try:
            row = con.execute("SELECT pid FROM lease").fetchone()
        finally:
            con.close()
        return int(row[0]) if row and alive(int(row[0])) else None

    def status() -> str:
        con = sqlite3.connect(paths.database)
        try:
            return str(con.execute("SELECT status FROM tasks WHERE id = ?", (job,)).fetchone()[0])
        finally:
            con.close()

    monkeypatch.setenv("FOCUSQ_WORKER__AUTOSTART", "true")
    app = make_app(load_settings(paths), paths)
    try:
        async with app.run_test(size=SIZE) as pilot:
            assert await wait_until(pilot, lambda: status() == "running" and lease_pid(), 30)
            first = lease_pid()
            assert first is not None
            os.kill(first, signal.SIGKILL)
            assert await wait_until(pilot, lambda: lease_pid() not in (None, first), 30)
            gate.touch()
            assert await wait_until(pilot, lambda: status() == "done", 30)
    finally:
        for pid in processes_of(str(paths.home)):
            os.kill(pid, signal.SIGKILL)


async def test_a_config_saved_with_a_mistake_is_said_at_once(paths: Paths) -> None:
    paths.ensure_home()
    config = Path(paths.config_file)
    config.parent.mkdir(parents=True, exist_ok=True)
    app = make_app(load_settings(paths), paths)
    messages = noted(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        deadline = time.monotonic() + 30
        while not any("max_parallel" in m for m in messages):  # saved again till it is seen
            assert time.monotonic() < deadline, messages  # (the watch may start after a save)
            config.write_text("[engine]\nmax_parallel = 0\n")
            await wait_until(pilot, lambda: any("max_parallel" in m for m in messages), 1)
        assert app.is_running
    [said] = [m for m in messages if "max_parallel" in m]
    assert "keeps the settings it opened with" in said and "\n" not in said
