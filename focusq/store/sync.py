"""The blocking store, for quick CLI commands that must not pay for an event loop."""

from __future__ import annotations

import sqlite3

from focusq.store.driver import database_uri, drive, keep_private
from focusq.store.ops import base

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType
    from typing import TypeVar

    from focusq.store.ops.base import Op

    T = TypeVar("T")


class SyncStore:
    """One sqlite3 connection driving :mod:`focusq.store.ops` operations."""

    def __init__(self, path: str, *, busy_timeout: float = 5.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._con: sqlite3.Connection | None = None

    def __enter__(self) -> SyncStore:
        if self._con is None:  # open_store() hands it over already open
            self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def open(self) -> None:
        """Connect, check the file is focusq's and migrate it forward."""
        try:
            self._con = sqlite3.connect(
                database_uri(self.path),
                uri=True,
                timeout=self.busy_timeout,
                isolation_level=None,
            )
            self._con.row_factory = sqlite3.Row
            self.run(base.prepare(self.busy_timeout))
            keep_private(self.path)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def run(self, op: Op[T]) -> T:
        """Drive ``op`` to its end (committing what it began) and return its result."""
        if self._con is None:
            raise RuntimeError("SyncStore.run() before open()")
        return drive(self._con, op, self.path, self.busy_timeout)
