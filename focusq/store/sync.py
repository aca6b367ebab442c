"""The blocking driver, for quick CLI commands that must not pay for an event loop."""

from __future__ import annotations

import sqlite3

from focusq.store import ops
from focusq.store.files import database_uri, explain

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType
    from typing import TypeVar

    from focusq.store.ops import Op

    T = TypeVar("T")


class SyncStore:
    """One sqlite3 connection driving :mod:`focusq.store.ops` operations."""

    def __init__(self, path: str, *, busy_timeout: float = 5.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._con: sqlite3.Connection | None = None

    def __enter__(self) -> SyncStore:
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
                check_same_thread=False,
            )
            self._con.row_factory = sqlite3.Row
            self.run(ops.prepare(self.busy_timeout))
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
        con = self._con
        if con is None:
            raise RuntimeError("SyncStore.run() before open()")
        try:
            query = next(op)
            while True:
                rows = con.execute(*query).fetchall()
                query = op.send(rows)
        except StopIteration as stop:
            if con.in_transaction:
                try:
                    con.execute("COMMIT")
                except sqlite3.Error as exc:
                    self._rollback()
                    raise explain(exc, self.path, self.busy_timeout) from None
            return stop.value  # type: ignore[no-any-return]
        except sqlite3.Error as exc:
            op.close()
            self._rollback()
            raise explain(exc, self.path, self.busy_timeout) from None
        except BaseException:
            op.close()
            self._rollback()
            raise

    def _rollback(self) -> None:
        if self._con is not None and self._con.in_transaction:
            try:
                self._con.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # the transaction is gone with the error
