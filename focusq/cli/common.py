"""What every command shares: the cached settings, the store, argument types, autostart."""

from __future__ import annotations

import os

from focusq.errors import UserError
from focusq.paths import Paths

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the quick path milliseconds; annotations are strings
    from typing import Any


def task_id_arg(text: str) -> int:
    """An argparse type: ``12`` or ``#12``, a positive task id."""
    from focusq.quickadd import task_id

    found = task_id(text)
    if found is None:
        import argparse

        raise argparse.ArgumentTypeError(f"{text!r} is not a task id (a number like 12)")
    return found


LARGEST = 1_000_000
"""The largest count or number of minutes an option takes (a cap, a length)."""


def positive_int(text: str) -> int:
    """An argparse type: a whole number above zero (and at most :data:`LARGEST`)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 0 < value <= LARGEST:
        import argparse

        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number above 0 (and at most {LARGEST:,})"
        )
    return value


def day_arg(text: str, what: str = "--date") -> Any:
    """``YYYY-MM-DD`` as a date, far enough from the ends of the calendar to count days from;
    :class:`UserError` otherwise."""
    from datetime import date

    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise UserError(f"{what} {text}: write the day as YYYY-MM-DD") from None
    if not 1900 <= day.year <= 9000:
        raise UserError(f"{what} {text}: give a day between the years 1900 and 9000")
    return day


def seconds_arg(text: str) -> float:
    """An argparse type: a number of seconds, 0 or more."""
    import math

    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        import argparse

        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0 or more)")
    return value


def cached_settings(paths: Paths) -> Any:
    """The validated settings as cached beside the database (no pydantic on a hit)."""
    from focusq import settings

    return settings.load(paths)


def open_store(paths: Paths | None = None, config: Any = None) -> Any:
    """The blocking store on the database, opened; use it in a ``with``."""
    from focusq.store.sync import SyncStore

    paths = paths or Paths.from_env()
    config = config or cached_settings(paths)
    store = SyncStore(paths.database, busy_timeout=config.store.busy_timeout)
    store.open()
    return store


def autostart_worker(paths: Paths, config: Any, store: Any) -> None:
    """Start a detached worker if none runs and ``worker.autostart`` allows it."""
    if not config.worker.autostart:
        return
    from focusq.engine.launch import ensure_worker

    ensure_worker(paths, store)


def revive_worker(paths: Paths, config: Any, store: Any) -> None:
    """Start a worker if runnable jobs wait and none is alive: a worker that crashed never
    leaves work waiting for the user to notice. Commands that read the queue call this."""
    if not config.worker.autostart:
        return
    from focusq.store.ops import jobs

    if store.run(jobs.runnable_jobs_exist()):
        autostart_worker(paths, config, store)


def job_cwd(given: str | None) -> str:
    """The folder a job runs in: ``--cwd`` made absolute, else the current one."""
    path = os.getcwd() if given is None else os.path.abspath(os.path.expanduser(given))
    if given is not None and not os.path.isdir(path):
        raise UserError(f"--cwd {given}: no such folder; give an existing one")
    shown = not_utf8(path)
    if shown is not None:
        raise UserError(
            f"the folder {shown} is not valid UTF-8: a job's folder is stored as text; "
            "run it from another folder, or give one with --cwd"
        )
    return path


def not_utf8(text: str) -> str | None:
    """``text`` with its bytes shown (``\\xff``) when it is not valid UTF-8 (bytes the locale
    could not read, which Python keeps as surrogates); ``None`` when it is."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return None


def job_env(pairs: list[str]) -> dict[str, str]:
    """``--env NAME=value`` pairs as a dict."""
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise UserError(f"--env {pair!r}: write it as NAME=value")
        env[key] = value
    return env
