"""The job supervisor: the parent of every job a worker starts. Standard library only.

The worker runs this file as a script (``python -I -S supervisor.py LOCK``) in its own
session, with a pipe of requests on stdin and a pipe of reports on stdout. For each start
request it writes the log header and starts the job in a new session (posix_spawn: no
second process or exec per job), then reports the job's pid; when the job exits, it reaps
it and reports its exit code.

It outlives a worker that dies or stops. While its worker lives it keeps each job's pid
and exit code in memory until the worker says the database holds them (``known``,
``done``). Once the worker is gone it writes what the database may lack, ``<prefix>.pid``
for a job whose pid was not recorded and ``<prefix>.exit`` for a job whose end was not,
and from then on writes ``<prefix>.exit`` of each job that ends *before* reaping it (a file
it cannot write yet, on a full disk, it tries again each second). So
the next worker adopts a job that outlived its worker with its real exit code, and a run
that the database completes never leaves such files. It holds a shared lock on ``LOCK``
until all that is written: a new worker takes the lock once before it recovers runs.

It starts nothing once its worker is gone, and exits once its input is closed and its
last job has ended.

Requests, one JSON array per line: ``["start", token, prefix, cwd, argv, env, header]``
(``env`` ``null``: this process's environment; ``[id, {name: value}]``: the environment
sent as ``["env", id, {name: value}]``, with these variables over it; or the whole
mapping), ``["forget-envs"]``, ``["known", [token...]]`` (their pids are in the database)
and ``["done", [token...]]`` (their ends are). Reports, one per
line: ``S token pid`` (started), ``X token code`` (exited: its status, or 128 + the
signal that killed it, as a shell reports it) and ``E token message`` (could not start;
the message is also in the log).
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import signal
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

PRIVATE_FILE = 0o600
OWED_RETRY = 1.0
"""Seconds between tries of a status file that could not be written."""
OWED_FOR = 3600.0
"""Seconds after which status files still unwritten are given up (their folder is gone)."""
_RESETTABLE = frozenset(signal.valid_signals()) - {signal.SIGKILL, signal.SIGSTOP}
"""Signals a job gets at their default disposition."""
_LOG_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC
_STATUS_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC


class Job:
    """One started job, until the database holds its end."""

    __slots__ = ("code", "known", "pid", "prefix")

    def __init__(self, prefix: str, pid: int) -> None:
        self.prefix = prefix
        self.pid = pid
        self.known = False
        """The database holds its pid."""
        self.code: int | None = None
        """Its exit code, once reaped."""


class Loop:
    """Read requests, start jobs, reap them, report."""

    def __init__(self, requests: int, reports: int, lock: int) -> None:
        self.requests = requests
        self.reports: int | None = reports
        self.lock: int | None = lock
        self.parent = os.getppid()
        self.jobs: dict[int, Job] = {}
        """By token: every job started whose end the database may not hold yet."""
        self.children: dict[int, int] = {}
        """pid -> token of every job not yet reaped."""
        self.orphaned = False
        """The worker is gone: status files now speak for the jobs."""
        self.owed: dict[str, str] = {}
        """Status files (path -> text) not written yet (a full disk): tried again each second;
        the lock is held until they are written."""
        self.owed_until = 0.0
        self.env = _encoded(os.environ)
        self.envs: dict[int, dict[bytes, bytes]] = {}
        """Environments the worker sent, by id, encoded once for every job that uses one."""
        self.out: list[bytes] = []
        self.buffer = b""

    def run(self) -> None:
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wake_w)
        # A Python-level handler makes SIGCHLD write to the wakeup pipe (the default ignores it).
        signal.signal(signal.SIGCHLD, lambda _sig, _frame: None)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        while not self.orphaned or self.children or self.owed:
            watched = [wake_r] if self.orphaned else [wake_r, self.requests]
            ready, _, _ = select.select(watched, [], [], OWED_RETRY if self.owed else None)
            self._pay()
            if wake_r in ready:
                _drain(wake_r)
            if self.requests in ready:
                data = os.read(self.requests, 1 << 16)
                if data:
                    self._requests(data)
                else:
                    self._orphan()
            self._reap()
            self._flush()

    def _requests(self, data: bytes) -> None:
        lines = (self.buffer + data).split(b"\n")
        self.buffer = lines.pop()
        for line in lines:
            if not line:
                continue
            kind, *args = json.loads(line)
            if kind == "start":
                self._start(*args)
            elif kind == "env":
                self.envs[args[0]] = _encoded(args[1])
            elif kind == "forget-envs":
                self.envs.clear()
            elif kind == "known":
                for token in args[0]:
                    if token in self.jobs:
                        self.jobs[token].known = True
            elif kind == "done":
                for token in args[0]:
                    self.jobs.pop(token, None)

    def _start(
        self,
        token: int,
        prefix: str,
        cwd: str,
        argv: list[str],
        env: dict[str, str] | list[Any] | None,
        header: str,
    ) -> None:
        if os.getppid() != self.parent:
            # The worker died after asking: its claim may already be judged by the next
            # worker (interrupted, maybe retried), so this job must not start now.
            return
        environ = self.env
        if isinstance(env, list):  # [id of one sent before, this run's own variables]
            base = self.envs.get(env[0])
            if base is None:  # never sent (a worker's mistake): this job only
                self._report(f"E {token} its environment was never sent; retry it")
                return
            environ = {**base, **_encoded(env[1])}
        elif env is not None:
            environ = _encoded(env)
        try:
            fd = os.open(f"{prefix}.log", _LOG_FLAGS, PRIVATE_FILE)
        except OSError as exc:
            self._report(f"E {token} could not open the log: {exc}")
            return
        try:
            os.write(fd, header.encode("utf-8", "surrogateescape"))  # a name's bytes as given
            # Single-threaded, so changing directory here is safe (posix_spawn cannot).
            os.chdir(cwd)
        except OSError as exc:
            self._failed(token, fd, f"cwd {cwd}: {exc.strerror or exc}")
            return
        try:
            pid = os.posix_spawn(
                argv[0],
                argv,
                environ,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, fd, 1),
                    (os.POSIX_SPAWN_DUP2, fd, 2),
                ],
                setsid=True,
                # A job starts as from a login shell: every signal at its default (Python
                # and this process ignore SIGPIPE, SIGXFSZ, SIGINT, SIGHUP) and none blocked.
                setsigdef=_RESETTABLE,
                setsigmask=(),
            )
        except OSError as exc:
            self._failed(token, fd, f"{argv[0]}: {exc.strerror or exc}")
            return
        except (ValueError, TypeError) as exc:  # a NUL byte, a bad value: this job only
            self._failed(token, fd, f"{argv[0]!r}: {exc}")
            return
        os.close(fd)
        _pause_point("AFTER_SPAWN")
        self.jobs[token] = Job(prefix, pid)
        self.children[pid] = token
        self._report(f"S {token} {pid}")

    def _failed(self, token: int, fd: int, message: str) -> None:
        message = message.replace("\n", " ")
        _write(fd, f"focusq: could not start: {message}\n")
        os.close(fd)
        self._report(f"E {token} {message}")

    def _reap(self) -> None:
        while self.children:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None:
                return
            pid = info.si_pid
            code = info.si_status if info.si_code == os.CLD_EXITED else 128 + info.si_status
            token = self.children.pop(pid, None)
            job = None if token is None else self.jobs.get(token)
            if job is not None:
                job.code = code
                if self.orphaned:
                    _pause_point("BEFORE_EXIT_FILE")
                    # Written while the job is still a zombie: whoever saw it exit and then
                    # sees its pid gone finds the exit code in place.
                    self._owe(f"{job.prefix}.exit", f"{code}\n")
            os.waitpid(pid, 0)
            if token is not None:
                self._report(f"X {token} {code}")

    def _orphan(self) -> None:
        """The worker is gone: write down what only this process knows, then unlock."""
        self.orphaned = True
        for job in self.jobs.values():
            if not job.known:
                self._owe(f"{job.prefix}.pid", f"{job.pid}\n")
            if job.code is not None:
                self._owe(f"{job.prefix}.exit", f"{job.code}\n")
        self._pay()

    def _owe(self, path: str, text: str) -> None:
        """Write a status file now, or as soon as it can be (a full disk): for up to
        :data:`OWED_FOR` seconds."""
        if not _write_file(path, text):
            if not self.owed:
                self.owed_until = time.monotonic() + OWED_FOR
            self.owed[path] = text

    def _pay(self) -> None:
        """Write the status files still owed; once the worker is gone and none is owed,
        release the lock (the next worker waits for it before it recovers runs)."""
        for path, text in list(self.owed.items()):
            if _write_file(path, text):
                del self.owed[path]
        if self.owed and time.monotonic() > self.owed_until:
            self.owed.clear()
        if self.orphaned and not self.owed and self.lock is not None:
            os.close(self.lock)  # releases the lock
            self.lock = None

    def _report(self, line: str) -> None:
        self.out.append(line.encode("utf-8", "replace") + b"\n")

    def _flush(self) -> None:
        if not self.out:
            return
        data = b"".join(self.out)
        self.out.clear()
        if self.reports is None:
            return
        try:
            while data:
                data = data[os.write(self.reports, data) :]
        except OSError:
            # The worker is gone: the end of its requests tells the same, once the
            # acknowledgements still in that pipe are read.
            os.close(self.reports)
            self.reports = None


def _pause_point(name: str) -> None:
    """A test holds this process here while ``$FOCUSQ_TEST_PAUSE_<NAME>`` (a FIFO) is
    unwritten (see ``focusq.engine.faults``; this file imports nothing of focusq's)."""
    path = os.environ.get(f"FOCUSQ_TEST_PAUSE_{name}")
    if path:
        with open(path, encoding="utf-8") as fifo:
            fifo.readline()


def _encoded(env: Mapping[str, str]) -> dict[bytes, bytes]:
    return {os.fsencode(k): os.fsencode(v) for k, v in env.items()}


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def _write(fd: int, text: str) -> None:
    try:
        os.write(fd, text.encode("utf-8", "surrogateescape"))
    except OSError:
        pass


def _write_file(path: str, text: str) -> bool:
    """Write ``text`` to ``path`` whole; ``False`` (and no file left) if it could not be."""
    try:
        fd = os.open(path, _STATUS_FLAGS, PRIVATE_FILE)
    except OSError:
        return False
    data = text.encode()
    try:
        written = os.write(fd, data) == len(data)
    except OSError:
        written = False
    finally:
        os.close(fd)
    if not written:  # an empty or cut file would be read as the job's word: none is left
        try:
            os.unlink(path)
        except OSError:
            pass
    return written


def main() -> int:
    """Supervise the jobs requested on stdin, reporting on stdout, until both are done."""
    lock = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)
    fcntl.flock(lock, fcntl.LOCK_SH)
    Loop(sys.stdin.fileno(), sys.stdout.fileno(), lock).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
