"""Start a background worker when work is waiting and none is alive. Standard library only."""

from __future__ import annotations

import os
import socket
import sys
import time

from focusq.engine.procs import lease_is_live
from focusq.paths import PRIVATE_FILE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from focusq.paths import Paths

HEARTBEAT_WINDOW = 90.0


def worker_alive(store: Any) -> dict[str, Any] | None:
    """The live worker's lease row, or ``None``."""
    from focusq.store.ops import lease

    holder = store.run(lease.lease_holder())
    if holder and lease_is_live(holder, socket.gethostname(), HEARTBEAT_WINDOW, time.time()):
        return dict(holder)
    return None


def ensure_worker(paths: Paths, store: Any) -> int | None:
    """Start a detached worker unless one is alive; return the new worker's pid, if any.

    Does not wait for it: the worker takes the lease itself, and a second one started by
    a race refuses and exits.
    """
    if worker_alive(store) is not None:
        return None
    return spawn_worker(paths)


def worker_log(paths: Paths) -> str:
    """Where a started worker writes what it says: its start, its stop, an error."""
    return os.path.join(paths.home, "worker.log")


def last_logged(paths: Paths) -> str:
    """The last line the workers logged ("" if none)."""
    try:
        with open(worker_log(paths), "rb") as file:
            file.seek(max(0, os.fstat(file.fileno()).st_size - 4096))
            lines = file.read().decode(errors="replace").splitlines()
    except OSError:
        return ""
    return next((line for line in reversed(lines) if line.strip()), "")


def spawn_worker(paths: Paths) -> int:
    """``focusq worker --foreground`` in its own session, logging to :func:`worker_log`."""
    paths.ensure_home()
    log = worker_log(paths)
    env = {**os.environ, **paths.environ()}
    return os.posix_spawn(
        sys.executable,
        [sys.executable, "-m", "focusq", "worker", "--foreground"],
        env,
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,
    )
