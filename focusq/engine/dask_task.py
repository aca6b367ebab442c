"""What runs on a Dask worker for focusq: one shell job per task, at most once.

A run is a Dask task, :func:`run_shell`, keyed ``focusq-<database id>-run-<run id>``. It
starts the command in a session of its own (stdin from ``/dev/null``, stdout and stderr
straight to a log on the worker's disk), waits for it on a pidfd, stops what it left in its
group, and *returns* the exit status: a failed job is a result, never an exception, so Dask
never retries it. Stopping and pausing go through :func:`stop_run` and :func:`signal_run`,
called out of band on the worker that runs the job (``Client.run``); ``Future.cancel``
cannot stop a running thread and is never used on a running job.

At most once, even when a worker dies: a claim (a Dask ``Event``) refuses a second start
of the same run, the result is copied to the scheduler (a ``Variable``) and to an exit file
beside the log before the task returns, the job's leader dies with the thread that started
it (``PR_SET_PDEATHSIG``), and :class:`Cleanup` stops the process groups a dead worker left
when a worker starts again on that host.

This module is imported on every Dask worker host (functions are pickled by reference):
it needs only the standard library and ``distributed``.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
from typing import Any

from distributed import Event, Status, Variable, get_worker
from distributed.diagnostics.plugin import WorkerPlugin

TOPIC = "focusq-start"
"""The worker event that tells the focusq worker a run's pid, host and remote log."""

RUNS: dict[str, _Run] = {}
"""The runs this Dask worker process runs now, by key."""
_LOCK = threading.Lock()


class _Run:
    def __init__(self, key: str, proc: subprocess.Popen[bytes], grace: float) -> None:
        self.key = key
        self.proc = proc
        self.pgid = proc.pid
        self.grace = grace
        self.stop_reason: str | None = None
        self.kill_at: float | None = None
        self.wake_r, self.wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)

    def signal_group(self, sig: int) -> bool:
        try:
            os.killpg(self.pgid, sig)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        self.signal_group(signal.SIGTERM)
        self.signal_group(signal.SIGCONT)
        if self.kill_at is None:
            self.kill_at = time.monotonic() + self.grace
        with contextlib.suppress(OSError):
            os.write(self.wake_w, b"x")


def log_root(worker: Any = None) -> str:
    """The folder of focusq's logs on this worker's host (private).

    It sits in the worker's *workspace* (``--local-directory``), beside the per-process
    work directories, not in one: Dask deletes a worker's own directory when it closes,
    and purges a dead worker's at the next start, and these files must outlive the worker
    that ran the job (its ``.run`` file for :class:`Cleanup`, its ``.exit`` file and log
    for a focusq worker that re-attaches later).
    """
    if worker is None:
        with contextlib.suppress(ValueError):  # set in a task; not in Client.run, plugins
            worker = get_worker()
    if worker is None:
        base = os.environ.get("TMPDIR", "/tmp")
    else:
        workspace = getattr(worker, "_workspace", None)
        base = getattr(workspace, "base_dir", None) or os.path.dirname(worker.local_directory)
    root = os.path.join(base, "focusq-logs")
    os.makedirs(root, mode=0o700, exist_ok=True)
    return root


def run_shell(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one job to its end and return how it ended (a dict; never raises for a job)."""
    key = spec["key"]
    host = socket.gethostname()
    claim = Event(f"{key}-claimed")
    if claim.is_set():  # a second start of the same run: Dask re-ran it after a loss
        with contextlib.suppress(Exception):
            return {**Variable(f"{key}-result").get(timeout=0.5), "replayed": True}
        return _end(host, None, why="a second start of the same run was refused")
    claim.set()
    root = log_root()
    log_path = os.path.join(root, f"{key}.log")
    prefix = os.path.join(root, key)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, spec["header"].encode())
        env = {**os.environ, **spec["env"]}
        env.pop("FOCUSQ_HOME", None)
        cwd = spec["cwd"]
        argv = list(spec["argv"])
        problem = None
        if not os.path.isdir(cwd):
            problem = f"cwd {cwd} does not exist on {host}"
        elif "/" not in argv[0]:
            found = shutil.which(argv[0], path=env.get("PATH", os.defpath))
            if found is None:
                problem = f"{argv[0]}: command not found on {host}"
            else:
                argv[0] = found
        if problem is not None:
            os.write(fd, f"focusq: could not start: {problem}\n".encode())
            return _finish(prefix, key, _end(host, None, spawn_error=problem))
        setpriv = _setpriv()
        try:
            proc = subprocess.Popen(
                [setpriv, "--pdeathsig", "KILL", "--", *argv] if setpriv else argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=fd,
                stderr=fd,
                start_new_session=True,
                # Without setpriv, Python sets it in the child: a fork of this whole
                # process (about 5 ms a job, against 1 ms for setpriv's exec).
                preexec_fn=None if setpriv else _die_with_parent,
            )
        except OSError as exc:
            problem = f"{argv[0]}: {exc.strerror or exc} on {host}"
            os.write(fd, f"focusq: could not start: {problem}\n".encode())
            return _finish(prefix, key, _end(host, None, spawn_error=problem))
    finally:
        os.close(fd)
    run = _Run(key, proc, float(spec["grace"]))
    _write(f"{prefix}.run", f"{proc.pid} {os.getpid()}\n")
    with _LOCK:
        RUNS[key] = run
    started = time.time()
    worker = get_worker()
    worker.log_event(
        TOPIC,
        {"key": key, "pid": proc.pid, "host": host, "worker": worker.address, "log": log_path},
    )
    try:
        code = _wait(run, spec.get("timeout"))
    finally:
        with _LOCK:
            RUNS.pop(key, None)
        for end in (run.wake_r, run.wake_w):
            os.close(end)
    _drain(run)
    result = _end(host, code, stop_reason=run.stop_reason)
    result.update(pid=proc.pid, started=started, log=log_path, log_size=_size(log_path))
    return _with_log(_finish(prefix, key, result), log_path)


def stop_run(key: str, reason: str = "cancelled", first: int = signal.SIGTERM) -> bool:
    """Stop run ``key`` on this worker: ``first`` and CONT now, KILL after its grace."""
    run = RUNS.get(key)
    if run is None:
        return False
    if first != signal.SIGTERM:
        run.signal_group(first)
    run.stop(reason)
    return True


def signal_run(key: str, sig: int) -> bool:
    """Send ``sig`` (STOP, CONT) to run ``key``'s whole group on this worker."""
    run = RUNS.get(key)
    return run is not None and run.signal_group(sig)


def read_log(path: str, offset: int, limit: int = 4 << 20) -> bytes:
    """Up to ``limit`` bytes of a remote log from ``offset`` (empty at its end)."""
    try:
        with open(path, "rb") as file:
            file.seek(offset)
            return file.read(limit)
    except OSError:
        return b""


def ended_result(
    key: str, path: str | None = None, dask_worker: Any = None
) -> dict[str, Any] | None:
    """How run ``key`` ended, from the exit file its host keeps beside its log, if any
    (``path``: the log as its own worker named it)."""
    names = [os.path.join(log_root(dask_worker), f"{key}.exit")]
    if path is not None and path.endswith(".log"):
        names.insert(0, path.removesuffix(".log") + ".exit")
    for name in names:
        try:
            with open(name, encoding="utf-8") as file:
                return dict(json.load(file))
        except (OSError, ValueError):
            continue
    return None


def locate(key: str, path: str | None = None, dask_worker: Any = None) -> dict[str, Any] | None:
    """Where run ``key``'s log is, if this worker sees it (and its pid while it runs here).

    ``path``: the log as its own worker named it; any worker on that host sees it (the
    one that ran it may be gone)."""
    if path is None or not os.path.exists(path):
        path = os.path.join(log_root(dask_worker), f"{key}.log")
    run = RUNS.get(key)
    if run is None and not os.path.exists(path):
        return None
    return {"pid": run.proc.pid if run else None, "log": path, "host": socket.gethostname()}


def forget(key: str, path: str | None = None, *, keep_log: bool, dask_worker: Any = None) -> None:
    """Delete what this host keeps of run ``key`` once focusq holds its end (``path``:
    its log as its own worker named it)."""
    if path is not None and path.endswith(".log"):
        prefix = path.removesuffix(".log")
    else:
        prefix = os.path.join(log_root(dask_worker), key)
    for suffix in [".exit", ".run"] + ([] if keep_log else [".log"]):
        with contextlib.suppress(OSError):
            os.unlink(prefix + suffix)


def forget_many(
    runs: list[tuple[str, str | None]], *, keep_log: bool, dask_worker: Any = None
) -> None:
    """:func:`forget` for each ``(key, path)`` of ``runs``, in one call."""
    for key, path in runs:
        forget(key, path, keep_log=keep_log, dask_worker=dask_worker)


class Cleanup(WorkerPlugin):
    """Stops the process groups of runs whose Dask worker died (at the next worker's
    start on this host), and the running ones when a worker closes on purpose."""

    name = "focusq-cleanup"
    idempotent = True
    """Registered once: every focusq worker's ``open`` registers it again, and replacing a
    plugin tears the old one down (which would stop every running job)."""

    def setup(self, worker: Any) -> None:
        root = log_root(worker)
        for name in os.listdir(root):
            if not name.endswith(".run"):
                continue
            path = os.path.join(root, name)
            try:
                with open(path, encoding="ascii") as file:
                    pgid, owner = (int(x) for x in file.read().split())
            except (OSError, ValueError):
                continue
            if _alive(owner):
                continue
            claimed = f"{path}.cleaning.{os.getpid()}"
            try:
                os.rename(path, claimed)  # one cleaner per leftover, however many start
            except OSError:
                continue
            _stop_group(pgid)
            key = name.removesuffix(".run")
            exit_path = os.path.join(root, f"{key}.exit")
            if not os.path.exists(exit_path):
                _write(exit_path, json.dumps(_end(socket.gethostname(), None, why=_LOST)))
            with contextlib.suppress(OSError):
                os.unlink(claimed)

    def teardown(self, worker: Any) -> None:
        if getattr(worker, "status", None) not in _CLOSING:
            return  # the plugin is replaced or removed; the worker runs on, and its jobs
        for run in list(RUNS.values()):
            run.stop("interrupted")


_LOST = "its Dask worker died while it ran"
_CLOSING = (Status.closing, Status.closing_gracefully, Status.closed, Status.failed)


def _wait(run: _Run, timeout: float | None) -> int:
    """Wait for the job's main process on a pidfd; time it out; KILL after a stop's grace."""
    deadline = None if not timeout else time.monotonic() + float(timeout)
    pidfd = os.pidfd_open(run.proc.pid)
    try:
        while True:
            now = time.monotonic()
            if deadline is not None and now >= deadline and run.stop_reason is None:
                run.stop("timed_out")
            if run.kill_at is not None and now >= run.kill_at:
                run.signal_group(signal.SIGKILL)
                run.kill_at = now + 3600
            waits = [t - now for t in (deadline, run.kill_at) if t is not None and t > now]
            ready, _, _ = select.select([pidfd, run.wake_r], [], [], min(waits, default=None))
            if run.wake_r in ready:
                with contextlib.suppress(OSError):
                    os.read(run.wake_r, 64)
            if pidfd in ready:
                break
    finally:
        os.close(pidfd)
    status = run.proc.wait()
    return status if status >= 0 else 128 - status


def _drain(run: _Run) -> None:
    """Stop what the job left in its group: TERM, then KILL after the grace period."""
    if not _group_live(run.pgid):
        return
    run.signal_group(signal.SIGTERM)
    run.signal_group(signal.SIGCONT)
    end = time.monotonic() + run.grace
    while _group_live(run.pgid) and time.monotonic() < end:
        time.sleep(0.02)
    run.signal_group(signal.SIGKILL)


def _group_live(pgid: int) -> bool:
    """Whether a process of the group still runs (a group of zombies is gone)."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def _stop_group(pgid: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGCONT):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
    end = time.monotonic() + 2.0
    while _group_live(pgid) and time.monotonic() < end:
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as file:
            return file.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def _end(
    host: str,
    code: int | None,
    *,
    stop_reason: str | None = None,
    spawn_error: str | None = None,
    why: str | None = None,
) -> dict[str, Any]:
    return {
        "returncode": code,
        "stop_reason": stop_reason,
        "spawn_error": spawn_error,
        "why": why,
        "host": host,
        "ended": time.time(),
    }


INLINE_LOG = 64 * 1024
"""A log this small comes back with the result: no further call to read it."""


def _with_log(result: dict[str, Any], log_path: str) -> dict[str, Any]:
    """The result as returned: with the whole log when it is small (never in the exit file
    or the scheduler's copy: those stay small)."""
    if result.get("log_size", INLINE_LOG + 1) <= INLINE_LOG:
        with contextlib.suppress(OSError), open(log_path, "rb") as file:
            return {**result, "log_bytes": file.read(INLINE_LOG + 1)}
    return result


def _finish(prefix: str, key: str, result: dict[str, Any]) -> dict[str, Any]:
    """Copy the result off this worker (an exit file, the scheduler) before returning it."""
    _write(f"{prefix}.exit", json.dumps(result))
    with contextlib.suppress(OSError):
        os.unlink(f"{prefix}.run")
    with contextlib.suppress(Exception):
        Variable(f"{key}-result").set(result)
    return result


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


_LIBC = ctypes.CDLL(None, use_errno=True)


@functools.cache
def _setpriv() -> str | None:
    """``setpriv`` if it can set the parent-death signal (util-linux 2.33 and later)."""
    found = shutil.which("setpriv")
    if found is None:
        return None
    try:
        usage = subprocess.run([found, "--help"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return found if "--pdeathsig" in usage.stdout else None


def _die_with_parent() -> None:
    """In the child before exec: die with the thread that started it (SIGKILL)."""
    _LIBC.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
