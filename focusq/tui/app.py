"""The Textual app: wiring only. Screens and widgets live in their own modules."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.worker import Worker, WorkerState

from focusq import __version__
from focusq.cli.output import visible
from focusq.config import Settings
from focusq.engine.launch import HEARTBEAT_WINDOW, last_logged, worker_log
from focusq.engine.procs import lease_is_live
from focusq.focus.blocks import Block
from focusq.paths import PRIVATE_FILE, Paths
from focusq.store.aio import Store
from focusq.store.ops import focus, lease
from focusq.tui.board import Board
from focusq.tui.commands import FocusqCommands
from focusq.tui.messages import DatabaseChanged, ThemesChanged
from focusq.tui.review_offer import offer_unclosed_day, read_state, remember
from focusq.tui.screens.help import HelpScreen
from focusq.tui.screens.inbox import InboxScreen
from focusq.tui.screens.log import LogScreen
from focusq.tui.screens.main import MainScreen
from focusq.tui.screens.review import ReviewScreen
from focusq.tui.themes import load_themes, shipped_dir
from focusq.tui.widgets.log_view import LogsChanged
from focusq.watch import database_changes

DEFAULT_THEME = "focusq-dark"
"""The theme when neither the remembered nor the configured one can be drawn."""


class FocusqApp(App[None]):
    """focusq's terminal interface. Build it with :func:`make_app`."""

    TITLE = "focusq"
    COMMANDS = App.COMMANDS | {FocusqCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Close focusq; jobs keep running"),
        Binding("question_mark", "help", "Help", id="app.help", tooltip="Every key binding"),
        Binding(
            "T",
            "next_theme",
            "Theme",
            id="app.theme",
            tooltip="Next theme (remembered)",
            show=False,
        ),
    ]
    """| key | action |
    | --- | --- |
    | q | quit (jobs keep running) |
    | ? | help |
    | T | next theme |
    | ctrl+p | command palette |
    """

    def __init__(
        self, settings: Settings, paths: Paths, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__()
        self.settings = settings
        self.paths = paths
        self.clock = clock
        """The time source: tests pass a fixed clock."""
        self.store = Store(paths.database, busy_timeout=settings.store.busy_timeout)
        self.blocks = settings.time_blocks()
        """The configured time blocks, and today's and tomorrow's meetings from the calendar
        once they are read (:meth:`watch_calendar`)."""
        self.calendar_days: tuple[date, ...] = ()
        """The days whose meetings :attr:`blocks` holds."""
        self.theme_names: list[str] = []
        self.wanted_worker = True
        """Check for a worker after the next board load (runnable work may need one)."""
        self._worker_process: subprocess.Popen[bytes] | None = None
        self._worker_refusal = False
        """The last worker started stopped on an error: not started again until asked."""
        self._ticks = 0
        self._last_key = clock()
        self._following_logs = False
        self.error_console.soft_wrap = True  # the line naming the crash log stays one line

    async def on_mount(self) -> None:
        loop = asyncio.get_running_loop()
        for stop in (signal.SIGTERM, signal.SIGHUP):  # a kill, a closed terminal: a clean exit
            loop.add_signal_handler(stop, self.exit)
        await self.store.open()
        self.load_themes()
        self.set_keymap(self.settings.keymap)
        await self.push_screen(MainScreen())
        self.watch_database()
        self.watch_themes()
        self.watch_calendar()
        self.watch_config()
        self.offer_review()

    async def on_unmount(self) -> None:
        await self.store.close()

    # -- live data --------------------------------------------------------------------------

    @work(exclusive=True, group="watch-database")
    async def watch_database(self) -> None:
        """Tell the screens that show stored data of its changes (a burst is one message)."""
        async for _ in database_changes(self.paths.home, step=20):
            for screen in self.screen_stack:
                if isinstance(screen, (MainScreen, ReviewScreen, LogScreen, InboxScreen)):
                    screen.post_message(DatabaseChanged())

    def follow_logs(self) -> None:
        """Watch the logs folder, once it exists, for the job slots and open logs.

        Started when a job is first seen running (or a log opened): a day without jobs
        watches nothing.
        """
        if not self._following_logs and os.path.isdir(self.paths.logs):
            self._following_logs = True
            self._watch_logs()

    @work(exclusive=True, group="watch-logs")
    async def _watch_logs(self) -> None:
        """Tell the main screen and open logs when a log is written (a burst is one message).

        Only the logs folder's inotify events wake it; each reader then reads only what it
        needs (a slot the last 4 KiB, a log screen what was appended).
        """
        from watchfiles import awatch

        try:
            async for _ in awatch(
                self.paths.logs,
                watch_filter=lambda _change, path: path.endswith(".log"),
                recursive=False,
                debounce=200,
                step=50,
            ):
                for screen in self.screen_stack:
                    if isinstance(screen, (MainScreen, LogScreen)):
                        screen.post_message(LogsChanged())
        finally:
            self._following_logs = False

    def watch_worker(self, board: Board | None) -> None:
        """Each second: reap a worker that exited; every five, start one if runnable jobs
        wait and none is alive (a killed worker leaves no change in the database to see)."""
        self.reap_worker()
        self._ticks += 1
        if board is not None and self._ticks % 5 == 0:
            self.reap_and_start_worker(board)

    def reap_worker(self) -> None:
        """Reap the worker this app started once it exited; one that stopped on an error
        (a database it cannot use, say) is reported, so queued jobs never wait unexplained."""
        process = self._worker_process
        if process is None or process.poll() is None:
            return
        self._worker_process = None
        if process.returncode and process.returncode > 0:  # a signal's end is no error of its
            self._report_stopped_worker()

    async def _worker_alive(self) -> bool:
        """Whether a live worker holds the lease (a dead one, even a zombie, holds nothing)."""
        holder = await self.store.run(lease.lease_holder())
        if holder is None:
            return False
        return lease_is_live(holder, socket.gethostname(), HEARTBEAT_WINDOW, time.time())

    @work(exclusive=True, group="stopped-worker")
    async def _report_stopped_worker(self) -> None:
        if await self._worker_alive():  # one started by a race exits 1 too, harmlessly
            return
        last = last_logged(self.paths) or "it logged nothing"
        if "a worker already runs" in last:  # it lost a race to one that has died since
            return
        self._worker_refusal = True
        self.notify(
            f"the worker stopped: {last.removeprefix('focusq: ')} (log: {worker_log(self.paths)})",
            severity="error",
            timeout=30,
            markup=False,
        )

    def reap_and_start_worker(self, board: Board) -> None:
        """Start a background worker when runnable jobs wait and none is alive."""
        self.reap_worker()
        runnable = board.counts["queued"] or board.counts["running"] or board.series_due
        if board.series_due:
            self.wanted_worker = True  # a due time passed while the TUI was open
        if not (runnable and self.settings.worker.autostart):
            return
        if self.wanted_worker:  # asked for (an add, an action): try again after a failure
            self._worker_refusal = False
        elif self._worker_refusal:
            return  # said once; the same error would follow every few seconds
        self.wanted_worker = False
        self._start_worker()  # if no live worker holds the lease

    @work(exclusive=True, group="start-worker")
    async def _start_worker(self) -> None:
        if await self._worker_alive():
            return
        self._spawn_worker()

    def _spawn_worker(self) -> None:
        # Kept as a child (in its own session) so it can be reaped when it exits.
        self.paths.ensure_home()
        log = os.open(
            worker_log(self.paths),
            os.O_WRONLY | os.O_CREAT | os.O_APPEND,
            PRIVATE_FILE,
        )
        try:
            self._worker_process = subprocess.Popen(
                [sys.executable, "-m", "focusq", "worker", "--foreground"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                env={**os.environ, **self.paths.environ()},
            )
        finally:
            os.close(log)

    # -- the calendar ---------------------------------------------------------------------

    @work(exclusive=True, group="watch-calendar")
    async def watch_calendar(self) -> None:
        """Read the calendar's meetings into :attr:`blocks`, again when a file is saved
        (a burst of saves is one read), and at midnight for the new day."""
        from watchfiles import awatch

        from focusq.calendar import resolve

        files = {resolve(f, self.paths.config_dir) for f in self.settings.calendar.ics}
        if not files:
            return
        await self._read_calendar()
        folders = _existing_folders(files)
        if not folders:
            return
        async for _ in awatch(
            *folders,
            watch_filter=lambda _change, path: os.path.normpath(path) in files,
            recursive=False,
            debounce=200,
            step=100,
        ):
            await self._read_calendar()

    async def _read_calendar(self) -> None:
        today = date.fromtimestamp(self.clock())
        days = (today, today + timedelta(days=1))
        meetings, problems = await self.meetings_on(days)
        self.blocks = [*self.settings.time_blocks(), *meetings]
        self.calendar_days = days
        for problem in problems:
            self.notify(problem, severity="warning", timeout=10, markup=False)
        for screen in self.screen_stack:
            if isinstance(screen, (MainScreen, ReviewScreen)):
                screen.post_message(DatabaseChanged())
        midnight = datetime.combine(days[1], datetime.min.time()).timestamp()
        self.set_timer(max(1.0, midnight - self.clock() + 1), self._new_day, name="new-day")

    def _new_day(self) -> None:
        if date.fromtimestamp(self.clock()) not in self.calendar_days[:1]:
            self.watch_calendar()

    async def meetings_on(self, days: Sequence[date]) -> tuple[list[Block], list[str]]:
        """The calendar's meetings on ``days`` (from the cache, else read in a thread: a
        large file takes seconds) and one line per file that could not be used."""
        from focusq.calendar import meeting_blocks

        return await asyncio.to_thread(
            meeting_blocks, self.paths.home, self.paths.config_dir, self.settings.calendar, days
        )

    async def blocks_on(self, day: date) -> list[Block]:
        """The configured blocks and the meetings of ``day`` and the day after."""
        if day in self.calendar_days[:1] or not self.settings.calendar.ics:
            return self.blocks
        meetings, _ = await self.meetings_on((day, day + timedelta(days=1)))
        return [*self.settings.time_blocks(), *meetings]

    # -- themes -----------------------------------------------------------------------------

    @property
    def user_themes(self) -> Path:
        return Path(self.paths.config_dir) / "themes"

    @property
    def state_file(self) -> Path:
        """What the TUI remembers between starts: the theme, the review offer's answer."""
        return Path(self.paths.home) / "tui-state.json"

    def load_themes(self, keep: str | None = None) -> None:
        """Register the shipped and the user's themes; apply ``keep``, else the remembered
        or configured one, else the default.

        A file that cannot be drawn (a colour that is not one) is reported and skipped, so
        a remembered name that no longer loads falls back instead of ending the app.
        """
        themes, problems = load_themes(shipped_dir(), self.user_themes)
        for problem in problems:
            self.notify(problem, severity="warning", timeout=8, markup=False)
        for name in set(self.theme_names) - {t.name for t in themes}:
            self.unregister_theme(name)  # removed, or broken since it was loaded
        for theme in themes:
            self.register_theme(theme)
        self.theme_names = [t.name for t in themes]
        wanted = (keep, self._remembered_theme(), self.settings.tui.theme, DEFAULT_THEME)
        self.theme = next((n for n in wanted if n in self.available_themes), "textual-dark")

    def _remembered_theme(self) -> str | None:
        try:
            return str(read_state(self.state_file)["theme"])
        except KeyError:
            return None

    def _theme_folders(self) -> list[Path]:
        """The folders to watch: the shipped themes, and the user's (or, while it does not
        exist, its nearest existing parent, to see it appear)."""
        user = self.user_themes
        while not user.is_dir() and user.parent != user:
            user = user.parent
        return [p for p in (shipped_dir(), user) if p.is_dir()]

    @work(exclusive=True, group="watch-config")
    async def watch_config(self) -> None:
        """Say at once when the config file is saved with a mistake (the commands and the
        worker would refuse it); the open TUI goes on with the settings it has."""
        from focusq.watch import file_changes

        with contextlib.suppress(FileNotFoundError):  # no config folder: nothing to watch
            async for _ in file_changes(self.paths.config_file):
                problem = await asyncio.to_thread(self._config_problem)
                if problem:
                    self.notify(
                        f"{problem}; this window keeps the settings it opened with",
                        severity="error",
                        timeout=20,
                        markup=False,
                    )

    def _config_problem(self) -> str | None:
        from focusq.config import load_settings
        from focusq.errors import ConfigError
        from focusq.tui.preflight import problem

        try:
            return problem(load_settings(self.paths), self.paths.config_dir)
        except ConfigError as exc:
            return str(exc)

    @work(exclusive=True, group="watch-themes")
    async def watch_themes(self) -> None:
        """Re-apply themes when a theme file is saved, or the user's themes folder appears."""
        from watchfiles import awatch

        mine = self.user_themes
        ancestors = {mine, *mine.parents}

        def wanted(_change: object, path: str) -> bool:
            changed = Path(path)
            return changed in ancestors or changed.parent in (mine, shipped_dir())

        while folders := self._theme_folders():
            async for _ in awatch(
                *folders, watch_filter=wanted, recursive=False, debounce=200, step=100
            ):
                self.post_message(ThemesChanged())
                if self._theme_folders() != folders:
                    break  # the user's folder appeared (or went): watch that instead

    @on(ThemesChanged)
    def _themes_changed(self) -> None:
        self.load_themes(keep=self.theme)
        self.refresh_css()

    def action_next_theme(self) -> None:
        """Switch to the next focusq theme and remember it."""
        names = self.theme_names or [self.theme]
        index = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(index + 1) % len(names)]
        self.notify(f"theme: {self.theme}", timeout=2, markup=False)
        try:
            self.paths.ensure_home()
            remember(self.state_file, theme=self.theme)
        except OSError as exc:
            self.notify(f"could not remember the theme: {exc}", severity="warning", markup=False)

    @work(exclusive=True, group="review-offer")
    async def offer_review(self) -> None:
        """Offer the review of an earlier day left unclosed (once a day)."""
        await offer_unclosed_day(self)

    # -- away from the keyboard -------------------------------------------------------------

    def on_key(self) -> None:
        """A key after a long quiet spell while focusing: ask whether the time away counts.

        Only with ``focus.ask_idle``: no key in this pane says nothing of a user who is
        writing in another one.
        """
        now = self.clock()
        quiet = now - self._last_key
        self._last_key = now
        if not self.settings.focus.ask_idle or quiet < self.settings.focus.idle_minutes * 60:
            return
        self._ask_about_away(quiet, now)

    @work(exclusive=True, group="away")
    async def _ask_about_away(self, quiet: float, back_at: float) -> None:
        from focusq.tui.board import elapsed
        from focusq.tui.screens.confirm import ConfirmScreen

        if await self.store.run(focus.current_focus()) is None:
            return
        question = f"No key for {elapsed(quiet)} while focusing. Count that time as focus?"
        counts = await self.push_screen_wait(ConfirmScreen(question))
        if not counts:
            await self.store.run(focus.discount_focus(quiet, self.clock(), until=back_at))
            self.notify(f"{elapsed(quiet)} left out of the session")

    def notify_desktop(self, title: str, body: str) -> None:
        """One desktop notification (``notify-send``), when configured and installed."""
        import shutil

        if not self.settings.interrupts.notify or shutil.which("notify-send") is None:
            return
        subprocess.Popen(
            ["notify-send", "--app-name=focusq", title, body],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    # -- the rest ---------------------------------------------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """A toast; control characters in it (from a title, a job's error) are shown.

        Messages that quote what a user or a job wrote also pass ``markup=False``.
        """
        super().notify(
            visible(message, lines=True),
            title=visible(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    @property
    def crash_log(self) -> Path:
        """Where the traceback of an error nothing handled is written (private to the user)."""
        return Path(self.paths.home) / "tui-crash.log"

    def _handle_exception(self, error: Exception) -> None:
        """An error nothing handled ends the app with exit code 1 (Textual's doing): its
        traceback goes to :attr:`crash_log`, and the terminal is told in one line."""
        first = self.return_code is None
        super()._handle_exception(error)
        try:
            self.paths.ensure_home()
            flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if first else os.O_APPEND)
            fd = os.open(self.crash_log, flags, PRIVATE_FILE)
            os.fchmod(fd, PRIVATE_FILE)
            with os.fdopen(fd, "w", encoding="utf-8") as log:
                log.write(f"focusq {__version__}, {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
                log.write("".join(traceback.format_exception(error)))
        except OSError:
            return  # Textual's own traceback is printed instead
        what = visible(f"{type(error).__name__}: {error}")[:300]
        line = f"focusq stopped on an error: {what} (the traceback is in {self.crash_log})"
        self._exit_renderables[:] = [Text(line)]

    def action_help(self) -> None:
        """Show every binding."""
        rows = []
        for binding in (*self.screen_stack[-1].BINDINGS, *self.BINDINGS):
            if isinstance(binding, Binding):
                key = self.settings.keymap.get(binding.id or "", binding.key)
                keys = " ".join(self.get_key_display(Binding(k, "")) for k in key.split(","))
                rows.append((keys, binding.description, binding.tooltip, binding.id or ""))
        rows.append(("ctrl+p", "Palette", "Run any action by name", ""))
        self.push_screen(HelpScreen(rows))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """Every background task's failure ends up here, shown, never swallowed."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.notify(
                f"{event.worker.name}: {event.worker.error}",
                severity="error",
                timeout=10,
                markup=False,
            )


def _existing_folders(files: set[str]) -> list[str]:
    """The folders of ``files`` that exist (a file may appear in one later; not in none)."""
    return sorted({d for f in files if os.path.isdir(d := os.path.dirname(f))})


def make_app(settings: Settings, paths: Paths, clock: Callable[[], float] = time.time) -> FocusqApp:
    """The one way to build the app: the CLI and every test call this."""
    return FocusqApp(settings, paths, clock)
