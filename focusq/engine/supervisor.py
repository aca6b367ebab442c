"""The job supervisor: the parent of every job a worker starts. Standard library only.

The worker runs this file as a script (``python -I -S supervisor.py``) in its own session,
with a pipe of start requests on stdin and a pipe of reports on stdout. For each request
it writes the log header, starts the job in a new session (posix_spawn, so no second
process or exec per job), writes ``<prefix>.pid`` and reports the pid. When a job exits
it writes ``<prefix>.exit`` *before* reaping it, then reports the exit code.

It outlives a worker that dies: it goes on reaping the jobs it started and writing their
exit codes, so the next worker adopts them with their real exit codes, and it exits once
its input is closed and its last job has ended. It starts nothing once its worker is gone.

Requests, one JSON array per line: ``[token, prefix, cwd, argv, env, header]`` (``env``
``null``: this process's environment). Reports, one per line: ``S token pid`` (started),
``X token code`` (exited: its status, or 128 + the signal that killed it, as a shell
reports it) and ``E token message`` (could not start; the message is also in the log).
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys

PRIVATE_FILE = 0o600
_LOG_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC
_STATUS_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC


class Loop:
    """Read requests, start jobs, reap them, report."""

    def __init__(self, requests: int, reports: int) -> None:
        self.requests = requests
        self.reports: int | None = reports
        self.parent = os.getppid()
        self.children: dict[int, tuple[int, str]] = {}
        """pid -> (token, status prefix) of every job started and not yet reaped."""
        self.env = {os.fsencode(k): os.fsencode(v) for k, v in os.environ.items()}
        self.out: list[bytes] = []
        self.buffer = b""

    def run(self) -> None:
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wake_w)
        # A Python-level handler makes SIGCHLD write to the wakeup pipe (the default ignores it).
        signal.signal(signal.SIGCHLD, lambda _sig, _frame: None)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        reading = True
        while reading or self.children:
            ready, _, _ = select.select([wake_r, self.requests] if reading else [wake_r], [], [])
            if wake_r in ready:
                _drain(wake_r)
            if self.requests in ready:
                data = os.read(self.requests, 1 << 16)
                if data:
                    self._requests(data)
                else:
                    reading = False
            self._reap()
            self._flush()

    def _requests(self, data: bytes) -> None:
        lines = (self.buffer + data).split(b"\n")
        self.buffer = lines.pop()
        for line in lines:
            if line:
                self._start(*json.loads(line))

    def _start(
        self,
        token: int,
        prefix: str,
        cwd: str,
        argv: list[str],
        env: dict[str, str] | None,
        header: str,
    ) -> None:
        if os.getppid() != self.parent:
            # The worker died after asking: its claim may already be judged by the next
            # worker (interrupted, maybe retried), so this job must not start now.
            return
        try:
            fd = os.open(f"{prefix}.log", _LOG_FLAGS, PRIVATE_FILE)
        except OSError as exc:
            self._report(f"E {token} could not open the log: {exc}")
            return
        try:
            os.write(fd, header.encode())
            # Single-threaded, so changing directory here is safe (posix_spawn cannot).
            os.chdir(cwd)
        except OSError as exc:
            self._failed(token, fd, f"cwd {cwd}: {exc.strerror or exc}")
            return
        try:
            pid = os.posix_spawn(
                argv[0],
                argv,
                self.env if env is None else env,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, fd, 1),
                    (os.POSIX_SPAWN_DUP2, fd, 2),
                ],
                setsid=True,
            )
        except OSError as exc:
            self._failed(token, fd, f"{argv[0]}: {exc.strerror or exc}")
            return
        os.close(fd)
        self.children[pid] = (token, prefix)
        _write_file(f"{prefix}.pid", f"{pid}\n")
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
            token, prefix = self.children.pop(pid, (None, ""))
            if token is not None:
                # Written while the job is still a zombie: whoever saw it exit and then
                # sees its pid gone finds the exit code in place.
                _write_file(f"{prefix}.exit", f"{code}\n")
            os.waitpid(pid, 0)
            if token is not None:
                self._report(f"X {token} {code}")

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
            # The worker is gone; the exit files speak for the jobs from now on.
            os.close(self.reports)
            self.reports = None


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def _write(fd: int, text: str) -> None:
    try:
        os.write(fd, text.encode())
    except OSError:
        pass


def _write_file(path: str, text: str) -> None:
    try:
        fd = os.open(path, _STATUS_FLAGS, PRIVATE_FILE)
    except OSError:
        return
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def main() -> int:
    """Supervise jobs requested on stdin, reporting on stdout, until both are done."""
    Loop(sys.stdin.fileno(), sys.stdout.fileno()).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
