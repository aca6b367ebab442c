"""``focusq doctor``: is this focusq set up to work? One line per check, with the fix.

Each check says ``ok``, ``warn`` (works, with less: no desktop notifications, a
terminal with few colours) or ``FAIL`` (something focusq needs is broken); the exit
code is 1 when any check failed. The doctor only looks: it makes no folder and no
database, and writes nothing beyond what opening an existing database always does.
"""

from __future__ import annotations

import os
import time

from focusq.paths import PRIVATE_DIR, Paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterator
    from typing import Any

OK, WARN, FAIL = "ok", "warn", "FAIL"


class Finding:
    """What one check found: its verdict, what it saw, and what to do about it."""

    __slots__ = ("detail", "fix", "name", "verdict")

    def __init__(self, verdict: str, name: str, detail: str, fix: str = "") -> None:
        self.verdict = verdict
        self.name = name
        self.detail = detail
        self.fix = fix

    def line(self) -> str:
        """``FAIL  database    what was seen; fix: what to do``."""
        fix = f"; fix: {self.fix}" if self.fix else ""
        return f"{self.verdict:<4}  {self.name:<10}  {self.detail}{fix}"


class _Home:
    """What the checks learn on the way and share: the paths, the open store, settings."""

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.store: Any = None
        self.settings: Any = None


def doctor_args(p: argparse.ArgumentParser) -> None:
    p.epilog = (
        "checks: the data folder, the database (permissions, quick_check, schema), the "
        "worker and its lease, the job supervisor, the config, the themes, notify-send, "
        "the file watcher, the terminal's colours"
    )
    p.set_defaults(handler=cmd_doctor)


def cmd_doctor(args: argparse.Namespace) -> int:
    """``focusq doctor``: every check, one line each; 1 if any failed."""
    home = _Home(Paths.from_env())
    failed = False
    try:
        for check in CHECKS:
            for finding in check(home):
                print(finding.line(), flush=True)
                failed = failed or finding.verdict == FAIL
    finally:
        if home.store is not None:
            home.store.close()
    return 1 if failed else 0


def _mode(path: str) -> int:
    return os.stat(path).st_mode & 0o777


# -- the checks, in the order they are shown -----------------------------------------------------


def check_folder(home: _Home) -> Iterator[Finding]:
    """The data folder: a folder, the user's, private, writable."""
    path = home.paths.home
    if not os.path.lexists(path):
        yield Finding(OK, "folder", f"{path} does not exist yet; the first command makes it")
        return
    if not os.path.isdir(path):
        yield Finding(FAIL, "folder", f"{path} is not a folder", "move it aside or set FOCUSQ_HOME")
        return
    mode, owner = _mode(path), os.stat(path).st_uid
    if owner != os.getuid():
        yield Finding(FAIL, "folder", f"{path} belongs to user {owner}", f"chown -R $USER {path}")
    elif not os.access(path, os.W_OK | os.X_OK):
        yield Finding(FAIL, "folder", f"{path} is not writable ({mode:o})", f"chmod 700 {path}")
    elif mode & 0o077:
        yield Finding(FAIL, "folder", f"{path} is open to others ({mode:o})", f"chmod 700 {path}")
    else:
        yield Finding(OK, "folder", f"{path} ({PRIVATE_DIR:o}, yours)")


def check_database(home: _Home) -> Iterator[Finding]:
    """The database: private, not marked damaged, opens, passes ``quick_check``; its schema."""
    from focusq.errors import FocusqError
    from focusq.store.driver import damage_marker, refuse_if_damaged
    from focusq.store.ops import base
    from focusq.store.schema import LATEST
    from focusq.store.sync import SyncStore

    path = home.paths.database
    if not os.path.lexists(path):
        yield Finding(OK, "database", f"{path} does not exist yet; the first command makes it")
        return
    if not os.path.isfile(path):
        yield Finding(FAIL, "database", f"{path} is not a file", "move it aside")
        return
    mode = _mode(path)
    if mode & 0o077:
        yield Finding(
            FAIL,
            "database",
            f"{path} is open to others ({mode:o}): it holds your jobs' environments",
            f"chmod 600 {path} (the next focusq command does it too)",
        )
    else:
        yield Finding(OK, "database", f"{path} ({mode:o})")
    try:
        refuse_if_damaged(path)
    except FocusqError:
        yield Finding(
            FAIL,
            "database",
            f"a check found {path} damaged ({damage_marker(path)})",
            "copy it aside; sqlite3 REINDEX or .recover into a new file put in its place",
        )
    try:
        store = SyncStore(path, busy_timeout=2.0)
        store.open()
    except FocusqError as exc:
        yield Finding(FAIL, "database", str(exc).removeprefix(f"database {path}: "))
        return
    home.store = store
    try:
        problems = store.run(base.quick_check())
        version = store.run(base.schema_version())
    except FocusqError as exc:
        yield Finding(FAIL, "integrity", str(exc))
        return
    if problems == ["ok"]:
        yield Finding(OK, "integrity", f"{path} passes quick_check")
    else:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        yield Finding(
            FAIL,
            "integrity",
            f"quick_check of {path}: {problems[0]}{more}",
            "copy it aside; sqlite3 REINDEX (a damaged index) or .recover into a new file "
            "put in its place",
        )
    if version == LATEST:
        yield Finding(OK, "schema", f"version {version}, the one this focusq writes")
    else:
        yield Finding(
            FAIL, "schema", f"version {version}, this focusq knows {LATEST}", "upgrade focusq"
        )


def check_worker(home: _Home) -> Iterator[Finding]:
    """The worker: alive with a fresh lease, or not needed."""
    if home.store is None:
        yield Finding(OK, "worker", "not running (no database yet)")
        return
    from focusq.engine.launch import HEARTBEAT_WINDOW, worker_alive
    from focusq.errors import FocusqError
    from focusq.store.ops import jobs

    try:
        holder = worker_alive(home.store)
        waiting = home.store.run(jobs.runnable_jobs_exist())
    except FocusqError as exc:
        yield Finding(FAIL, "worker", str(exc))
        return
    if holder is not None:
        age = time.time() - holder["heartbeat"]
        seen = f"pid {holder['pid']} on {holder['host']}, lease beat {age:.0f}s ago"
        if age > HEARTBEAT_WINDOW:
            yield Finding(
                FAIL,
                "worker",
                f"{seen}: alive but not beating, so stuck",
                f"kill {holder['pid']}; focusq worker",
            )
        else:
            yield Finding(OK, "worker", seen)
    elif waiting:
        yield Finding(
            WARN,
            "worker",
            "not running, and runnable jobs wait",
            "focusq worker (focusq ls or status starts one when worker.autostart is on)",
        )
    else:
        yield Finding(OK, "worker", "not running; it starts when a job is added")


def check_supervisor(home: _Home) -> Iterator[Finding]:
    """The job supervisor: each holds a shared lock on ``logs/supervisor.lock`` while alive."""
    import fcntl

    lock = os.path.join(home.paths.logs, "supervisor.lock")
    try:
        fd = os.open(lock, os.O_RDONLY)
    except FileNotFoundError:
        yield Finding(OK, "supervisor", "none has run here yet")
        return
    except OSError as exc:
        yield Finding(FAIL, "supervisor", f"{lock}: {exc.strerror}", f"chmod 600 {lock}")
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held = False
    except OSError:
        held = True
    finally:
        os.close(fd)
    worker = _worker_pid(home)
    if held and worker:
        yield Finding(OK, "supervisor", f"running for worker pid {worker}")
    elif held:
        yield Finding(
            WARN,
            "supervisor",
            "an earlier worker's supervisor still runs the jobs it started",
            "nothing: the next worker records how they ended",
        )
    elif worker:
        yield Finding(
            FAIL,
            "supervisor",
            f"worker pid {worker} runs without its job supervisor: no job can start",
            f"kill {worker}; focusq worker",
        )
    else:
        yield Finding(OK, "supervisor", "not running (no worker)")


def _worker_pid(home: _Home) -> int | None:
    if home.store is None:
        return None
    from focusq.engine.launch import worker_alive
    from focusq.errors import FocusqError

    try:
        holder = worker_alive(home.store)
    except FocusqError:
        return None
    return None if holder is None else int(holder["pid"])


def check_config(home: _Home) -> Iterator[Finding]:
    """The config file and the ``FOCUSQ_`` variables validate."""
    from focusq.config import load_settings
    from focusq.errors import FocusqError

    path = home.paths.config_file
    try:
        home.settings = load_settings(home.paths)
    except FocusqError as exc:
        yield Finding(FAIL, "config", str(exc))
        return
    if os.path.exists(path):
        yield Finding(OK, "config", f"{path} is valid")
    else:
        yield Finding(OK, "config", f"no {path}: the defaults")


def check_themes(home: _Home) -> Iterator[Finding]:
    """The shipped themes and the user's load; the configured one exists."""
    from pathlib import Path

    from textual.theme import BUILTIN_THEMES

    from focusq.tui.themes import load_themes, shipped_dir

    user = Path(home.paths.config_dir) / "themes"
    themes, problems = load_themes(shipped_dir(), user)
    for problem in problems:
        yield Finding(FAIL, "themes", problem, "fix the file, or remove it")
    names = {t.name for t in themes} | set(BUILTIN_THEMES)
    wanted = home.settings.tui.theme if home.settings is not None else None
    if wanted is not None and wanted not in names:
        yield Finding(
            WARN,
            "themes",
            f"tui.theme = {wanted!r} is no theme: the TUI falls back",
            f"one of {', '.join(sorted(t.name for t in themes))}",
        )
    if not problems:
        where = f"; yours from {user}" if user.is_dir() else ""
        yield Finding(OK, "themes", f"{len(themes)} load{where}")


def check_notify(home: _Home) -> Iterator[Finding]:
    """``notify-send``, for urgent interruptions and batches when no TUI is in front."""
    import shutil

    found = shutil.which("notify-send")
    if found:
        yield Finding(OK, "notify", found)
    else:
        yield Finding(
            WARN,
            "notify",
            "no notify-send: no desktop notifications",
            "install libnotify-bin (Debian, Ubuntu) or libnotify",
        )


def check_watcher(home: _Home) -> Iterator[Finding]:
    """watchfiles sees a file change here: the worker and the TUI react to nothing else."""
    import tempfile

    try:
        import watchfiles
        from watchfiles._rust_notify import RustNotify
    except ImportError as exc:
        yield Finding(FAIL, "watcher", f"watchfiles does not load: {exc}", "reinstall focusq")
        return
    forced = os.environ.get("WATCHFILES_FORCE_POLLING", "")
    polling = bool(forced) and forced.lower() not in {"false", "disable", "disabled"}
    backend = "polling (WATCHFILES_FORCE_POLLING)" if polling else "native events"
    near = home.paths.home if os.path.isdir(home.paths.home) else None
    try:
        with (
            tempfile.TemporaryDirectory(prefix=".doctor-", dir=near) as folder,
            RustNotify([folder], False, polling, 50, False, False) as notify,
        ):
            with open(os.path.join(folder, "probe"), "w") as probe:
                probe.write("x")
            seen = notify.watch(50, 10, 3000, None)
    except (OSError, RuntimeError) as exc:
        yield Finding(
            FAIL,
            "watcher",
            f"watchfiles {watchfiles.__version__}, {backend}: {exc}",
            "raise fs.inotify.max_user_watches, or set WATCHFILES_FORCE_POLLING=1",
        )
        return
    if isinstance(seen, set) and seen:
        yield Finding(OK, "watcher", f"watchfiles {watchfiles.__version__}, {backend}")
    else:
        yield Finding(
            FAIL,
            "watcher",
            f"watchfiles {watchfiles.__version__}, {backend}: saw no change in 3s",
            "set WATCHFILES_FORCE_POLLING=1 (a network or container folder)",
        )


def check_terminal(home: _Home) -> Iterator[Finding]:
    """The terminal's colours, as ``TERM`` and ``COLORTERM`` say."""
    term, colorterm = os.environ.get("TERM", ""), os.environ.get("COLORTERM", "")
    said = f"TERM={term or '(unset)'} COLORTERM={colorterm or '(unset)'}"
    if term in ("", "dumb"):
        yield Finding(
            WARN, "terminal", f"{said}: no terminal to draw the TUI in", "run it in a terminal"
        )
    elif colorterm.lower() in ("truecolor", "24bit"):
        yield Finding(OK, "terminal", f"{said}: true colour")
    elif "256" in term:
        yield Finding(OK, "terminal", f"{said}: 256 colours, themes approximated")
    else:
        yield Finding(
            WARN,
            "terminal",
            f"{said}: few colours, themes drawn coarsely",
            "export COLORTERM=truecolor if your terminal has true colour",
        )


CHECKS: tuple[Callable[[_Home], Iterator[Finding]], ...] = (
    check_folder,
    check_database,
    check_worker,
    check_supervisor,
    check_config,
    check_themes,
    check_notify,
    check_watcher,
    check_terminal,
)
"""Every check, in order: later ones use what earlier ones opened (the store, settings)."""
