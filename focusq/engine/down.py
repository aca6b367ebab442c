"""Executors that did not answer the worker: a note per executor beside its cluster folder,
written by the worker and cleared once it connects (or stops trying), read by whatever
says why a job waits (``ls``, ``show``, the TUI) and by ``focusq executor``.

Standard library only: the quick commands read it.
"""

from __future__ import annotations

import contextlib
import os
import time

from focusq.errors import FocusqError
from focusq.paths import PRIVATE_FILE, make_private_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

DOWN_FILE = "down"
"""In ``executors/NAME``: when and why the executor last failed to answer the worker."""


def read_down(home: str, name: str) -> tuple[float, str] | None:
    """When the executor called ``name`` last did not answer the worker, and why; ``None``
    if it answers (or was never tried)."""
    try:
        with open(os.path.join(home, "executors", name, DOWN_FILE), encoding="utf-8") as file:
            at, _, why = file.read().strip().partition(" ")
        return float(at), why
    except (OSError, ValueError):
        return None


def down_names(home: str, names: Iterable[str]) -> frozenset[str]:
    """Those of ``names`` (configured executors) that did not answer the worker."""
    return frozenset(n for n in names if read_down(home, n) is not None)


def note_down(home: str, name: str, why: str | None) -> None:
    """Write down (``why``) or clear (``None``) that an executor does not answer."""
    path = os.path.join(home, "executors", name, DOWN_FILE)
    try:
        if why is None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            return
        make_private_dir(os.path.dirname(path))
        fd = os.open(path + ".new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(f"{time.time():.0f} {why}\n")
        os.replace(path + ".new", path)
    except (OSError, FocusqError) as exc:  # a note for the user only: never stops the worker
        import logging

        logging.getLogger("focusq.worker").warning(
            "could not note executor %s's state in %s: %s", name, path, exc
        )
