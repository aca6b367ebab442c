"""watchfiles streams: the database's files, or one file, changing. No Textual, no store."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

DATABASE_FILES = frozenset({"focusq.db", "focusq.db-wal"})
"""A commit by any process touches one of these (in WAL mode, the -wal file)."""


async def database_changes(home: str, *, step: int) -> AsyncIterator[None]:
    """Yield once per burst of changes to the database in ``home``.

    ``step`` is how often, in ms, the watcher looks: it bounds how late a change is seen,
    and each look costs a little CPU even when nothing happens.
    """
    from watchfiles import awatch

    async for _ in awatch(
        home,
        watch_filter=lambda _change, path: os.path.basename(path) in DATABASE_FILES,
        recursive=False,
        debounce=200,
        step=step,
    ):
        yield


async def file_changes(path: str) -> AsyncIterator[None]:
    """Yield once per burst of changes to the file ``path`` (made, written, replaced or
    removed), watching its folder so that a file made later is seen too; the folder must
    exist."""
    from watchfiles import awatch

    name = os.path.basename(path)
    async for _ in awatch(
        os.path.dirname(path) or ".",
        watch_filter=lambda _change, changed: os.path.basename(changed) == name,
        recursive=False,
        debounce=200,
    ):
        yield
