"""Is that process still the one we started? Standard library only (the CLI uses it)."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Mapping
    from typing import Any


def boot_id() -> str:
    """This boot's id: processes recorded under another boot are certainly gone."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as file:
            return file.read().strip()
    except OSError:
        return "unknown"


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (state first), if readable."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as file:
            return file.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_start(pid: int, fields: list[str] | None = None) -> float | None:
    """When ``pid`` started (epoch seconds), to tell a live process from a reused pid."""
    fields = fields or _stat(pid)
    if fields is None:
        return None
    try:
        with open("/proc/stat", encoding="ascii") as file:
            btime = next(int(line.split()[1]) for line in file if line.startswith("btime"))
        return btime + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, StopIteration, ValueError):
        return None


def is_alive(pid: int, started_near: float | None = None, slack: float = 5.0) -> bool:
    """Whether ``pid`` runs and (if given) started within ``slack`` seconds of ``started_near``.

    A zombie is dead: it has exited and only waits for a parent (or a slow init) to reap it.
    """
    fields = _stat(pid)
    if fields is None:  # gone, or no /proc to read
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
    elif fields[0] in ("Z", "X"):
        return False
    if started_near is None:
        return True
    began = process_start(pid, fields)
    if began is None:
        return True
    return abs(began - started_near) <= slack


def unreaped_by(pid: int, started_near: float | None = None, slack: float = 5.0) -> int | None:
    """The parent still to reap ``pid`` if it has exited and is a zombie (and, if given,
    started within ``slack`` seconds of ``started_near``); else ``None``."""
    fields = _stat(pid)
    if fields is None or fields[0] != "Z":
        return None
    if started_near is not None:
        began = process_start(pid, fields)
        if began is not None and abs(began - started_near) > slack:
            return None
    return int(fields[1])


def is_supervisor(pid: int) -> bool:
    """Whether ``pid`` is a focusq job supervisor (which writes a job's exit file)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return b"focusq/engine/supervisor.py" in file.read()
    except OSError:
        return False


def lease_is_live(
    holder: Mapping[str, Any], host: str, heartbeat_window: float, now: float
) -> bool:
    """Whether the worker recorded in a lease row still runs."""
    if holder["host"] != host:
        return bool(now - holder["heartbeat"] < heartbeat_window)
    if holder["boot_id"] != boot_id():
        return False
    return is_alive(int(holder["pid"]), holder["proc_start"])


RUN_TAG = "FOCUSQ_RUN"
"""The variable every job carries: ``<database id>:<run id>``, inherited by all it starts."""


def tagged_processes(tags: Collection[str]) -> dict[str, list[int]]:
    """Live processes whose environment carries ``FOCUSQ_RUN=<tag>`` for one of ``tags``.

    A job and everything it started carry its tag, even a process that left the job's
    process group with ``setsid``; so a job is found after any crash, pid saved or not.
    """
    wanted = {f"{RUN_TAG}={tag}".encode(): tag for tag in tags}
    found: dict[str, list[int]] = {}
    if not wanted:
        return found
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as file:
                environ = file.read()
        except OSError:
            continue
        if RUN_TAG.encode() not in environ:
            continue
        for entry in environ.split(b"\0"):
            tag = wanted.get(entry)
            if tag is not None and is_alive(int(name)):
                found.setdefault(tag, []).append(int(name))
    return found


def leader(pids: Collection[int]) -> int:
    """Of a job's processes, the one that leads its process group (the job itself)."""
    for pid in pids:
        try:
            if os.getpgid(pid) == pid:
                return pid
        except ProcessLookupError:
            continue
    return min(pids)


def become_subreaper() -> bool:
    """Make this process the parent of any descendant orphaned below it (Linux), so a job
    whose supervisor died is reparented here and its exit status is not lost."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(36, 1, 0, 0, 0) == 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False
