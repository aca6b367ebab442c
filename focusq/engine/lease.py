"""The worker's lease: one live worker per database, proven by a heartbeat."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable
from typing import Any

from focusq.engine import runner, runs
from focusq.engine.procs import lease_is_live
from focusq.errors import FocusqError
from focusq.store.aio import Store
from focusq.store.ops import lease

HEARTBEAT_SECONDS = 30.0


class WorkerBusy(FocusqError):
    """Another live worker holds the lease."""

    exit_code = 1


async def take(store: Store, database: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Take the lease for this process; return its holder record and the one before it
    (whose boot tells whether its jobs can still run). :class:`WorkerBusy` if a live
    worker holds it."""
    me: dict[str, Any] = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "boot_id": runner.boot_id(),
        "proc_start": runner.process_start(os.getpid()),
    }
    previous = await store.run(lease.lease_holder())
    holder = await store.run(lease.take_lease(me, runner.now(), _alive))
    if holder is not None:
        raise WorkerBusy(
            f"a worker already runs for {database}: pid {holder['pid']} "
            f"on {holder['host']}, since {runs.clock(holder['started_at'])}"
        )
    return me, previous


async def keep(store: Store, lost: Callable[[], None]) -> None:
    """Beat the heartbeat until cancelled; call ``lost`` if another worker took over."""
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        if not await store.run(lease.beat(os.getpid(), runner.now())):
            lost()


async def give_up(store: Store, pid: int) -> None:
    """Drop the lease (the worker is exiting)."""
    await store.run(lease.drop_lease(pid, runner.now()))


async def give_up_if_quiet(store: Store, pid: int, seen: int) -> bool:
    """Drop the lease unless the database changed after event ``seen``; ``True`` if dropped
    (see :func:`focusq.store.ops.lease.drop_lease_if_quiet`)."""
    return await store.run(lease.drop_lease_if_quiet(pid, seen, runner.now()))


def _alive(holder: dict[str, Any]) -> bool:
    return lease_is_live(holder, socket.gethostname(), 3 * HEARTBEAT_SECONDS, runner.now())
