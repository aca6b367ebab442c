"""Starting, watching and stopping job processes.

Every job runs in its own session (so its process group can be signalled as one), with
stdin from /dev/null and stdout+stderr written straight to its log file: the worker never
reads a job's output into memory. A tiny ``sh`` wrapper records the job's pid and exit
code in files beside the log, so a job that outlives a crashed worker is adopted by the
next one with its real exit code.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from focusq.engine.procs import boot_id, is_alive, process_start
from focusq.paths import PRIVATE_FILE

__all__ = ["boot_id", "is_alive", "process_start"]

# $1: the status-file prefix; $2: the folder to run in; the rest: the command.
# Builtins never shadow the command,
# because its first word is always a resolved path.
_WRAPPER = (
    'f="$1"; echo $$ > "$f.pid"; cd -- "$2" || exit 127; shift 2; '
    '"$@"; c=$?; echo $c > "$f.exit"; exit $c'
)
TAIL_BYTES = 8192
HEADER_LINES = 3
TAIL_LINES = 10


class SpawnError(Exception):
    """The job could not start: command not found, cwd gone, not executable."""


@dataclass
class JobProcess:
    """A running job's process group, started here or adopted after a restart."""

    pid: int
    pgid: int
    status_prefix: str
    child: bool = False
    """Started by this worker, which reaps it; else adopted, its exit code read from a file."""
    pidfd: int | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    returncode: int | None = None
    on_exit: Callable[[], object] | None = None

    def watch(
        self, loop: asyncio.AbstractEventLoop, on_exit: Callable[[], object] | None = None
    ) -> None:
        """Set :attr:`ended` and call ``on_exit`` when the process exits (a pidfd, no polling)."""
        self.on_exit = on_exit
        try:
            self.pidfd = os.pidfd_open(self.pid)
        except ProcessLookupError:
            self._collect()
            return
        loop.add_reader(self.pidfd, self._on_exit, loop)

    def _on_exit(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.pidfd is not None:
            loop.remove_reader(self.pidfd)
            os.close(self.pidfd)
            self.pidfd = None
        self._collect()

    def _collect(self) -> None:
        if self.child:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        else:
            self.returncode = read_exit_file(self.status_prefix)
        self.ended.set()
        if self.on_exit is not None:
            self.on_exit()

    def group_alive(self) -> bool:
        """Whether any process is left in the job's process group."""
        return self.signal_group(0)

    def signal_group(self, sig: int) -> bool:
        """Send ``sig`` to the whole group; ``False`` if nobody is left in it."""
        try:
            os.killpg(self.pgid, sig)
        except (ProcessLookupError, PermissionError):
            return False
        return True


def resolve(command: list[str], cwd: str, env: dict[str, str] | None) -> list[str]:
    """``command`` with its program as an absolute path; :class:`SpawnError` if it cannot run."""
    if not os.path.isdir(cwd):
        raise SpawnError(f"cwd {cwd} does not exist")
    program = command[0]
    if "/" in program:
        path = os.path.join(cwd, program)
        if not os.path.isfile(path):
            raise SpawnError(f"{program}: no such file")
        if not os.access(path, os.X_OK):
            raise SpawnError(f"{program}: not executable")
        return [os.path.abspath(path), *command[1:]]
    found = _which(program, (os.environ if env is None else env).get("PATH", os.defpath))
    if found is None:
        raise SpawnError(f"{program}: command not found")
    return [found, *command[1:]]


@functools.lru_cache(maxsize=256)
def _which(program: str, path: str) -> str | None:
    # Cached for the worker's life: a program that moves later fails in the wrapper (127).
    return shutil.which(program, path=path)


def start(
    command: list[str],
    *,
    cwd: str,
    env: dict[str, str] | None,
    log_path: str,
    display: str,
) -> JobProcess:
    """Start ``command`` in a new session writing to ``log_path``; :class:`SpawnError` if not.

    ``env`` ``None`` passes this process's environment on unchanged. ``posix_spawn``
    (vfork underneath) keeps a start well under a millisecond; the wrapper changes into
    ``cwd``, as posix_spawn cannot.
    """
    argv = resolve(command, cwd, env)
    prefix = log_path.removesuffix(".log")
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, PRIVATE_FILE)
    try:
        started = datetime.now().astimezone().isoformat(timespec="seconds")
        # HEADER_LINES lines: what runs, where, since when.
        os.write(fd, f"# focusq: {display}\n# cwd: {cwd}\n# started: {started}\n".encode())
        pid = os.posix_spawn(
            "/bin/sh",
            ["/bin/sh", "-c", _WRAPPER, "focusq-job", prefix, cwd, *argv],
            _inherited_env() if env is None else env,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, fd, 1),
                (os.POSIX_SPAWN_DUP2, fd, 2),
            ],
            setsid=True,
        )
    except OSError as exc:
        raise SpawnError(str(exc)) from None
    finally:
        os.close(fd)
    return JobProcess(pid=pid, pgid=pid, status_prefix=prefix, child=True)


@functools.cache
def _inherited_env() -> dict[bytes, bytes]:
    # Encoded once: posix_spawn would otherwise walk and encode os.environ for every job.
    return {os.fsencode(k): os.fsencode(v) for k, v in os.environ.items()}


def adopt(pid: int, pgid: int, status_prefix: str) -> JobProcess:
    """A job process started by an earlier worker, still running."""
    return JobProcess(pid=pid, pgid=pgid, status_prefix=status_prefix)


def read_exit_file(status_prefix: str) -> int | None:
    """The exit code the wrapper wrote, or ``None`` if it never finished."""
    try:
        with open(f"{status_prefix}.exit", encoding="ascii") as file:
            return int(file.read().strip())
    except (OSError, ValueError):
        return None


def read_pid_file(status_prefix: str) -> int | None:
    """The wrapper's pid as it wrote it at start, or ``None``."""
    try:
        with open(f"{status_prefix}.pid", encoding="ascii") as file:
            return int(file.read().strip())
    except (OSError, ValueError):
        return None


def tail(log_path: str, lines: int = TAIL_LINES) -> str:
    """The log's last lines (``\\r`` progress collapsed to its last frame), read from the end."""
    try:
        with open(log_path, "rb") as file:
            file.seek(0, os.SEEK_END)
            size = file.tell()
            file.seek(max(0, size - TAIL_BYTES))
            data = file.read()
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    out = [line.rsplit("\r", 1)[-1] for line in text.splitlines()]
    if size <= TAIL_BYTES:
        out = out[HEADER_LINES:]  # the log starts with focusq's own header
    out = [line for line in out if line.strip()]
    return "\n".join(out[-lines:])


def exit_details(returncode: int | None) -> tuple[int | None, int | None]:
    """``(exit code, signal)`` from a wait status (negative: killed by a signal)."""
    if returncode is None:
        return None, None
    if returncode < 0:
        return None, -returncode
    if returncode > 128 and returncode - 128 < signal.NSIG:
        # The wrapper reports a job killed by a signal as 128 + n, like any shell.
        return returncode, returncode - 128
    return returncode, None


def now() -> float:
    """Wall-clock time, in one place so the engine's time source is obvious."""
    return time.time()
