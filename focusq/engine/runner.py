"""Starting, watching and stopping job processes.

Every job runs in its own session (so its process group can be signalled as one), with
stdin from /dev/null and stdout+stderr written straight to its log file: the worker never
reads a job's output into memory. Jobs are started by the worker's job supervisor (see
:mod:`focusq.engine.supervisor`), a small process that is their parent and outlives a
worker that dies: it then writes each job's pid and exit code in files beside its log, so
a job that outlives its worker is adopted by the next one with its real exit code.
"""

from __future__ import annotations

import asyncio
import fcntl
import functools
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from focusq.engine.procs import (
    RUN_TAG,
    boot_id,
    is_alive,
    is_supervisor,
    leader,
    process_start,
    tagged_processes,
    unreaped_by,
)
from focusq.paths import PRIVATE_FILE

__all__ = ["boot_id", "is_alive", "process_start"]

SUPERVISOR_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "supervisor.py")
TAIL_BYTES = 8192
HEADER_LINES = 3
TAIL_LINES = 10
SUPERVISOR_WAIT = 5.0
"""Seconds a new worker waits for an earlier worker's supervisor to write its files."""
KEPT_ENVIRONMENTS = 64
"""Distinct environments a supervisor keeps (one per shell that added jobs) before the
worker has it forget them and sends them again as they are needed."""
_PER_RUN = frozenset({"FOCUSQ_TASK_ID", "FOCUSQ_ATTEMPT", RUN_TAG})
"""What each run's environment adds to its shell's (``runs.job_environment``)."""
TAG_WAIT = 0.5
"""Seconds a job whose supervisor died before reporting its pid is looked for by its tag."""
EXIT_FILE_WAIT = 2.0
"""Seconds an adopted job's exit may wait for its exit file while it is still unreaped."""


class SpawnError(Exception):
    """The job could not start: command not found, cwd gone, not executable."""


@dataclass
class JobProcess:
    """A job's process group, started through this worker's supervisor or adopted."""

    status_prefix: str
    pid: int | None = None
    """``None`` until the supervisor reports the job started."""
    pgid: int | None = None
    supervised: bool = False
    """Started by this worker's supervisor, which reports its exit; else adopted, watched
    through a pidfd and its exit code read from the exit file."""
    spawn_error: str | None = None
    """Why the supervisor could not start it."""
    pidfd: int | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    returncode: int | None = None
    on_start: Callable[[], object] | None = None
    on_exit: Callable[[], object] | None = None
    tag: str | None = None
    """Its run tag (``FOCUSQ_RUN``): how it is found if its pid was never learnt."""

    def watch(
        self, loop: asyncio.AbstractEventLoop, on_exit: Callable[[], object] | None = None
    ) -> None:
        """Set :attr:`ended` and call ``on_exit`` when the process exits (a pidfd, no polling)."""
        if on_exit is not None:
            self.on_exit = on_exit
        if self.supervised:
            return  # the supervisor reports the exit
        if self.pid is None:
            self.exited(read_exit_file(self.status_prefix))
            return
        try:
            self.pidfd = os.pidfd_open(self.pid)
        except ProcessLookupError:
            self.exited(read_exit_file(self.status_prefix))
            return
        loop.add_reader(self.pidfd, self._on_exit, loop)

    def _on_exit(self, loop: asyncio.AbstractEventLoop) -> None:
        assert self.pidfd is not None
        loop.remove_reader(self.pidfd)
        self._check_exit_file(loop, loop.time() + EXIT_FILE_WAIT)

    def _check_exit_file(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        # The pidfd is readable as soon as the job is a zombie, and its parent (a
        # supervisor, or an older focusq's shell wrapper) writes the exit file before
        # reaping it: so once the job is reaped, the file read after that is the answer.
        assert self.pidfd is not None
        if self.pid is not None:
            try:  # a child of this worker (its subreaper) tells its own status
                info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG)
            except ChildProcessError:
                info = None
            if info is not None and info.si_pid:
                os.close(self.pidfd)
                self.pidfd = None
                self.exited(_shell_code(info))
                return
        try:
            signal.pidfd_send_signal(self.pidfd, 0)
            reaped = False
        except ProcessLookupError:
            reaped = True
        code = read_exit_file(self.status_prefix)
        if code is None and not reaped and (loop.time() < deadline or self._will_be_told()):
            loop.call_later(0.01, self._check_exit_file, loop, deadline)
            return
        os.close(self.pidfd)
        self.pidfd = None
        self.exited(code)

    def _will_be_told(self) -> bool:
        """Whether the exited job's parent is a supervisor, which writes its exit file
        before it reaps it (however long a loaded machine makes it take)."""
        assert self.pid is not None
        parent = unreaped_by(self.pid)
        return parent is not None and parent != os.getpid() and is_supervisor(parent)

    def started(self, pid: int) -> None:
        """The supervisor started it as ``pid``, leader of its own session."""
        self.pid = self.pgid = pid
        if self.on_start is not None:
            self.on_start()

    def exited(self, returncode: int | None, spawn_error: str | None = None) -> None:
        """It ended with ``returncode`` (``None``: unknown), or never started.

        The first word stands: a reaped exit status is not undone by a later "unknown".
        """
        if self.ended.is_set():
            return
        self.returncode = returncode
        self.spawn_error = spawn_error
        self.ended.set()
        if self.on_exit is not None:
            self.on_exit()

    def group_alive(self) -> bool:
        """Whether any process is left in the job's process group."""
        return self.signal_group(0)

    def signal_group(self, sig: int) -> bool:
        """Send ``sig`` to the whole group; ``False`` if nobody is (yet, or still) in it."""
        if self.pgid is None:
            return False
        try:
            os.killpg(self.pgid, sig)
        except (ProcessLookupError, PermissionError):
            return False
        return True


class Supervisor:
    """The worker's side of its job supervisor: start requests out, reports in.

    The supervisor process starts at :meth:`open` (and again if it ever dies), so a job's
    start costs the worker one pipe write; the job's pid and exit come back as reports,
    read by the event loop.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, lock_path: str) -> None:
        self.loop = loop
        self.lock_path = lock_path
        self.pid: int | None = None
        self._requests: int | None = None
        self._reports: int | None = None
        self._buffer = b""
        self._jobs: dict[int, JobProcess] = {}
        """Token -> job, from its start request to its exit report."""
        self._reaped: dict[int, int] = {}
        """Exit codes of jobs reaped here while their supervisor was dying, by pid."""
        self._envs: dict[tuple[tuple[str, str], ...], int] = {}
        """The environments this supervisor process was sent, by content: a job's start
        names its shell's environment by id (sent once), and sends only what is its own."""
        self._env_ids = 0

    def open(self) -> None:
        """Start the supervisor process (``python -I -S``: the standard library only).

        Call :func:`wait_for_supervisors` first: this one takes the lock at once.
        """
        self._envs = {}  # a new process: it has been sent none
        requests_r, requests_w = os.pipe()
        reports_r, reports_w = os.pipe()
        try:
            self.pid = os.posix_spawn(
                sys.executable,
                [sys.executable, "-I", "-S", SUPERVISOR_SCRIPT, self.lock_path],
                _inherited_env(),
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, requests_r, 0),
                    (os.POSIX_SPAWN_DUP2, reports_w, 1),
                ],
                # Its own session: a Ctrl-C meant for a foreground worker leaves it running.
                setsid=True,
            )
        except OSError:
            os.close(requests_w)
            os.close(reports_r)
            raise
        finally:
            os.close(requests_r)
            os.close(reports_w)
        self._requests, self._reports = requests_w, reports_r
        self.loop.add_reader(reports_r, self._on_reports)

    def close(self, *, wait: bool = False) -> None:
        """Close the pipes: the supervisor exits once its last job has ended.

        ``wait``: reap it now, as it is known to be exiting.
        """
        if self._requests is not None:
            os.close(self._requests)
            self._requests = None
        if self._reports is not None:
            self.loop.remove_reader(self._reports)
            os.close(self._reports)
            self._reports = None
        if self.pid is not None:
            try:
                done, _ = os.waitpid(self.pid, 0 if wait else os.WNOHANG)
            except ChildProcessError:
                done = self.pid
            if done:
                self.pid = None

    def start(
        self,
        token: int,
        command: list[str],
        *,
        cwd: str,
        env: dict[str, str] | None,
        log_path: str,
        display: str,
    ) -> JobProcess:
        """Ask for ``command`` to start in a new session writing to ``log_path``.

        :class:`SpawnError` if it certainly cannot start; a failure only the supervisor
        sees comes back as :attr:`JobProcess.spawn_error`. ``env`` ``None``: the worker's
        own environment. ``token`` names the job in reports (unique while it runs).
        """
        argv = resolve(command, cwd, env)
        prefix = log_path.removesuffix(".log")
        started = datetime.now().astimezone().isoformat(timespec="seconds")
        # HEADER_LINES lines: what runs, where, since when.
        header = f"# focusq: {one_line(display)}\n# cwd: {one_line(cwd)}\n# started: {started}\n"
        request = ["start", token, prefix, cwd, argv, env, header]
        if self._requests is None:
            self.open()
        try:
            self._send(self._start_line(request))
        except OSError:
            self._lost()  # the supervisor died: start another one for this job
            self.open()
            self._send(self._start_line(request))
        process = JobProcess(status_prefix=prefix, supervised=True)
        process.tag = (env or {}).get(RUN_TAG)
        self._jobs[token] = process
        return process

    def _start_line(self, request: list[Any]) -> bytes:
        """``request`` as the line to send: its environment (a shell's, a few KB) sent once
        as ``["env", id, base]`` and named by id after, with only the variables of this run
        (``FOCUSQ_TASK_ID``, ``FOCUSQ_ATTEMPT``, ``FOCUSQ_RUN``) each time."""
        env: dict[str, str] | None = request[5]
        if env is None:
            return json.dumps(request).encode() + b"\n"
        base = tuple((k, v) for k, v in env.items() if k not in _PER_RUN)
        lines = b""
        env_id = self._envs.get(base)
        if env_id is None:
            if len(self._envs) >= KEPT_ENVIRONMENTS:  # many shells: start over
                self._envs.clear()
                lines += b'["forget-envs"]\n'
            self._env_ids += 1
            env_id = self._envs[base] = self._env_ids
            lines += json.dumps(["env", env_id, dict(base)]).encode() + b"\n"
        own = {k: env[k] for k in _PER_RUN if k in env}
        request = [*request[:5], [env_id, own], request[6]]
        return lines + json.dumps(request).encode() + b"\n"

    def acknowledge(self, known: list[int], done: list[int]) -> None:
        """The database now holds the pids of ``known`` and the ends of ``done``.

        Until then the supervisor keeps them, to write them down if this worker dies.
        """
        lines = b""
        if known:
            lines += json.dumps(["known", known]).encode() + b"\n"
        if done:
            lines += json.dumps(["done", done]).encode() + b"\n"
        if lines and self._requests is not None:
            try:
                self._send(lines)
            except OSError:
                pass  # it died: its reports pipe says so, and is handled there

    def _send(self, data: bytes) -> None:
        assert self._requests is not None
        while data:
            data = data[os.write(self._requests, data) :]

    def _on_reports(self) -> None:
        assert self._reports is not None
        data = os.read(self._reports, 1 << 16)
        if not data:
            self._lost()
            return
        lines = (self._buffer + data).split(b"\n")
        self._buffer = lines.pop()
        for line in lines:
            kind, token_text, rest = line.decode("utf-8", "replace").split(" ", 2)
            token = int(token_text)
            if kind == "S":
                process = self._jobs.get(token)
                if process is not None:
                    process.started(int(rest))
            elif kind == "X":
                process = self._jobs.pop(token, None)
                if process is not None:
                    process.exited(int(rest))
            elif kind == "E":
                process = self._jobs.pop(token, None)
                if process is not None:
                    process.exited(None, spawn_error=rest)

    def reap(self, adopted: Mapping[int, JobProcess]) -> list[tuple[int, int]]:
        """Reap this worker's exited children (it is their subreaper): a job in ``adopted``
        (by pid) or one whose supervisor just died ends with its real exit status. Returns
        the other children reaped, ``(pid, code)``: the worker's own (hooks), or orphans."""
        others = []
        for pid, code in reap_children():
            process = adopted.get(pid)
            if process is not None:
                process.exited(code)
            elif any(p.pid == pid for p in self._jobs.values()):
                self._reaped[pid] = code  # its supervisor is dying: _lost hands it over
            else:
                others.append((pid, code))
        return others

    def _lost(self) -> None:
        """The supervisor is gone: its jobs are now this worker's children (it is their
        subreaper), reaped here with their real status; a job that never reported its pid
        is found by its run tag."""
        self.reap({})
        jobs, self._jobs, self._buffer = self._jobs, {}, b""
        self.close(wait=True)
        unreported = [p.tag for p in jobs.values() if p.pid is None and p.tag]
        found = tagged_processes(unreported) if unreported else {}
        for process in jobs.values():
            process.supervised = False
            if process.pid is None:
                pids = found.get(process.tag or "")
                pid = leader(pids) if pids else read_pid_file(process.status_prefix)
                if pid is None:
                    # Never started, or still between fork and exec (its environment not
                    # yet its own): look again for a moment before calling it gone.
                    self._look_again(process, self.loop.time() + TAG_WAIT)
                    continue
                process.started(pid)
            self._follow(process)
        self._reaped.clear()

    def _follow(self, process: JobProcess) -> None:
        """Watch a job that lost its supervisor: reaped here already, or when it exits."""
        assert process.pid is not None
        code = self._reaped.pop(process.pid, None)
        if code is not None:
            process.exited(code)
        else:
            process.watch(self.loop)

    def _look_again(self, process: JobProcess, deadline: float) -> None:
        pids = tagged_processes([process.tag]).get(process.tag or "") if process.tag else None
        if pids:
            process.started(leader(pids))
            self._follow(process)
        elif self.loop.time() < deadline:
            self.loop.call_later(0.02, self._look_again, process, deadline)
        else:
            process.exited(None)  # it never started, or is gone without a trace


async def wait_for_supervisors(lock_path: str) -> bool:
    """Wait until the supervisors of earlier workers wrote what only they knew.

    Each holds a shared lock on ``lock_path`` until then (see
    :mod:`focusq.engine.supervisor`). ``False`` if one still held it after
    :data:`SUPERVISOR_WAIT` seconds (a stopped process, or a worker alive after all).
    """
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)
    try:
        deadline = time.monotonic() + SUPERVISOR_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                await asyncio.sleep(0.01)
    finally:
        os.close(fd)  # releases the lock


def reap_children() -> Iterator[tuple[int, int]]:
    """Reap every child of this process that has exited: ``(pid, exit code)`` of each, the
    code as a shell reports it (128 + the signal that killed it)."""
    while True:
        try:
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG)
        except ChildProcessError:
            return
        if info is None or info.si_pid == 0:
            return
        yield info.si_pid, _shell_code(info)


def _shell_code(info: os.waitid_result) -> int:
    """An exit status as a shell reports it: the code, or 128 + the signal that killed it."""
    return int(info.si_status if info.si_code == os.CLD_EXITED else 128 + info.si_status)


def one_line(text: str) -> str:
    """``text`` with line breaks written as ``\\n`` and ``\\r``: one header line stays one."""
    return text.replace("\n", "\\n").replace("\r", "\\r")


def resolve(command: list[str], cwd: str, env: dict[str, str] | None) -> list[str]:
    """``command`` with its program as an absolute path; :class:`SpawnError` if it cannot run."""
    if any("\0" in part for part in (cwd, *command)):
        raise SpawnError("the command holds a NUL byte, which no program can take")
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
    # Cached for the worker's life: a program that moves later fails to start (spawn error).
    return shutil.which(program, path=path)


@functools.cache
def _inherited_env() -> dict[bytes, bytes]:
    # Encoded once: posix_spawn would otherwise walk and encode os.environ for every job.
    return {os.fsencode(k): os.fsencode(v) for k, v in os.environ.items()}


def adopt(pid: int, pgid: int, status_prefix: str) -> JobProcess:
    """A job process started by an earlier worker, still running."""
    return JobProcess(status_prefix=status_prefix, pid=pid, pgid=pgid)


def read_exit_file(status_prefix: str) -> int | None:
    """The exit code the supervisor wrote, or ``None`` if it never finished."""
    try:
        with open(f"{status_prefix}.exit", encoding="ascii") as file:
            return int(file.read().strip())
    except (OSError, ValueError):
        return None


def last_seen(status_prefix: str, started: float) -> float:
    """When a job that ended unwatched was last known alive: when its exit file was written,
    else its log's last write (never before it started)."""
    for path in (f"{status_prefix}.exit", f"{status_prefix}.log"):
        try:
            return max(started, os.stat(path).st_mtime)
        except OSError:
            continue
    return started


def read_pid_file(status_prefix: str) -> int | None:
    """The job's pid as the supervisor wrote it at start, or ``None``."""
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
        # A job killed by a signal is reported as 128 + n, as a shell does.
        return returncode, returncode - 128
    return returncode, None


def now() -> float:
    """Wall-clock time, in one place so the engine's time source is obvious."""
    return time.time()
