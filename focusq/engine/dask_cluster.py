"""A Dask cluster on this machine that focusq starts and stops itself.

An executor with no ``address`` gets a loopback cluster: ``dask scheduler`` and ``dask
worker`` processes bound to 127.0.0.1 only, each in a session of its own so they outlive
the focusq worker that started them (an in-process cluster would die with it, and every
job with it). The scheduler never re-runs a task whose worker died
(``allowed-failures = 0``: a shell job is not idempotent). The processes' pids and the
scheduler's address are kept in ``cluster.json`` in the cluster's folder; ``focusq
executor stop NAME`` stops the workers through their nannies (SIGTERM to the nanny alone,
so each worker closes and stops its jobs' groups) and then the scheduler.

Starting or stopping a cluster needs no ``distributed`` import here.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from focusq.engine.procs import is_alive

START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
ORPHAN_TIMEOUT = 3.0
"""The wait for nannies whose scheduler is gone, and for worker processes after their nanny."""


@dataclass(frozen=True)
class Cluster:
    address: str
    scheduler: int
    workers: tuple[int, ...]
    folder: str


def read(folder: str) -> Cluster | None:
    """The cluster recorded in ``folder``, if its scheduler still runs."""
    try:
        with open(os.path.join(folder, "cluster.json"), encoding="utf-8") as file:
            data = json.load(file)
    except (OSError, ValueError):
        return None
    if not data.get("address"):  # a start that never finished
        return None
    cluster = Cluster(data["address"], data["scheduler"], tuple(data["workers"]), folder)
    return cluster if is_alive(cluster.scheduler) else None


def start(
    folder: str,
    *,
    workers: int = 2,
    threads: int = 1,
    resources: Mapping[str, float] | None = None,
) -> Cluster:
    """Start a scheduler and ``workers`` workers on 127.0.0.1 (or return the running one)."""
    running = read(folder)
    if running is not None:
        return running
    stop(folder)  # what a start cut short (or a dead scheduler) left running
    os.makedirs(folder, mode=0o700, exist_ok=True)
    scheduler_file = os.path.join(folder, "scheduler.json")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(scheduler_file)
    env = {
        **os.environ,
        "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0",
        "DASK_DISTRIBUTED__LOGGING__DISTRIBUTED": "warning",
    }
    scheduler = _spawn(
        [
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            scheduler_file,
        ],
        os.path.join(folder, "scheduler.log"),
        env,
    )
    # Each process is written down as soon as it exists: a start cut short (its focusq
    # worker killed) leaves nothing that ``stop`` cannot find.
    record: dict[str, Any] = {"address": None, "scheduler": scheduler.pid, "workers": []}
    _record(folder, record)
    address = _wait_for_address(scheduler_file, scheduler)
    spec = ",".join(f"{k}={v:g}" for k, v in (resources or {}).items())
    pids = []
    for n in range(workers):
        argv = [
            "distributed.cli.dask_worker",
            address,
            "--host",
            "127.0.0.1",
            "--nthreads",
            str(threads),
            "--no-dashboard",
            "--name",
            f"focusq-{n}",
            "--local-directory",
            os.path.join(folder, f"worker-{n}"),
        ]
        if spec:
            argv += ["--resources", spec]
        pids.append(_spawn(argv, os.path.join(folder, f"worker-{n}.log"), env).pid)
        _record(folder, {**record, "workers": pids})
    _record(folder, {"address": address, "scheduler": scheduler.pid, "workers": pids})
    return Cluster(address, scheduler.pid, tuple(pids), folder)


def _record(folder: str, data: dict[str, Any]) -> None:
    """Write ``cluster.json`` whole or not at all (private)."""
    path = os.path.join(folder, "cluster.json")
    fd = os.open(f"{path}.new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(data, file)
    os.replace(f"{path}.new", path)


def stop(folder: str) -> bool:
    """Stop the cluster recorded in ``folder``: each worker's nanny, then the scheduler.
    ``False`` if none ran.

    Only processes that still run ``dask`` are signalled (a recorded pid may have been
    reused). A nanny whose scheduler is gone has no clean close left to make (seen: one
    that lingered, ignoring SIGTERM): it gets a short wait before SIGKILL, and the worker
    processes under the nannies are killed too if they outlive them."""
    try:
        with open(os.path.join(folder, "cluster.json"), encoding="utf-8") as file:
            data = json.load(file)
    except (OSError, ValueError):
        return False
    nannies = [p for p in data["workers"] if _ours(p)]
    scheduler = [p for p in [data["scheduler"]] if _ours(p)]
    under = [c for nanny in nannies for c in _children(nanny)]
    for pid in nannies:
        _signal(pid, signal.SIGTERM)
    _wait_gone(nannies, STOP_TIMEOUT if scheduler else ORPHAN_TIMEOUT)
    for pid in scheduler:
        _signal(pid, signal.SIGTERM)
    _wait_gone(scheduler, STOP_TIMEOUT)
    for pid in nannies + scheduler:  # whatever is left of them
        if is_alive(pid):
            _signal(pid, signal.SIGKILL)
    _wait_gone(under, ORPHAN_TIMEOUT)
    for pid in under:
        if is_alive(pid):
            _signal(pid, signal.SIGKILL)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(folder, "cluster.json"))
    return True


def _spawn(module_argv: list[str], log_path: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        return subprocess.Popen(
            [sys.executable, "-m", *module_argv],
            stdin=subprocess.DEVNULL,
            stdout=fd,
            stderr=fd,
            env=env,
            start_new_session=True,  # outlives the focusq worker; signalled alone
        )
    finally:
        os.close(fd)


def _wait_for_address(path: str, scheduler: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, ValueError, KeyError), open(path) as file:
            return str(json.load(file)["address"])
        if scheduler.poll() is not None:
            break
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        scheduler.kill()
    raise OSError(f"the Dask scheduler did not start (see {os.path.dirname(path)}/scheduler.log)")


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _ours(pid: int) -> bool:
    """Whether ``pid`` still runs a ``dask`` scheduler or worker (not a reused pid)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return b"distributed.cli.dask_" in file.read() and is_alive(pid)
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as file:
                if int(file.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _wait_gone(pids: list[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while any(is_alive(p) for p in pids) and time.monotonic() < deadline:
        for pid in pids:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
