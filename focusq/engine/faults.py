"""Pause points: a test holds a process at an exact moment to hit a timing window.

``FOCUSQ_TEST_PAUSE_<NAME>`` names a FIFO; at the point the process opens it and waits for
one line. Unset (always, outside tests), a pause point costs one dictionary lookup.
"""

from __future__ import annotations

import os


def pause_point(name: str) -> None:
    """Wait here while a test holds the FIFO ``$FOCUSQ_TEST_PAUSE_<NAME>``, if it is set."""
    path = os.environ.get(f"FOCUSQ_TEST_PAUSE_{name}")
    if path:
        with open(path, encoding="utf-8") as fifo:
            fifo.readline()
