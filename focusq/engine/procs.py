"""Is that process still the one we started? Standard library only (the CLI uses it)."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


def boot_id() -> str:
    """This boot's id: processes recorded under another boot are certainly gone."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as file:
            return file.read().strip()
    except OSError:
        return "unknown"


def process_start(pid: int) -> float | None:
    """When ``pid`` started (epoch seconds), to tell a live process from a reused pid."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as file:
            fields = file.read().rsplit(")", 1)[1].split()
        with open("/proc/stat", encoding="ascii") as file:
            btime = next(int(line.split()[1]) for line in file if line.startswith("btime"))
    except (OSError, IndexError, StopIteration, ValueError):
        return None
    return btime + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def is_alive(pid: int, started_near: float | None = None, slack: float = 5.0) -> bool:
    """Whether ``pid`` runs and (if given) started within ``slack`` seconds of ``started_near``."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if started_near is None:
        return True
    began = process_start(pid)
    if began is None:
        return True
    return abs(began - started_near) <= slack


def lease_is_live(
    holder: Mapping[str, Any], host: str, heartbeat_window: float, now: float
) -> bool:
    """Whether the worker recorded in a lease row still runs."""
    if holder["host"] != host:
        return bool(now - holder["heartbeat"] < heartbeat_window)
    if holder["boot_id"] != boot_id():
        return False
    return is_alive(int(holder["pid"]), holder["proc_start"])
