"""The asyncio driver: one long-lived aiosqlite connection for the worker and the TUI."""

from __future__ import annotations

import sqlite3

import aiosqlite

from focusq.store import ops
from focusq.store.files import database_uri, explain

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType
    from typing import TypeVar

    from focusq.store.ops import Op

    T = TypeVar("T")


class Store:
    """Runs :mod:`focusq.store.ops` operations on aiosqlite's own thread.

    ``async with Store(path) as store: record = await store.run(ops.get_task(1))``
    """

    def __init__(self, path: str, *, busy_timeout: float = 5.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._con: aiosqlite.Connection | None = None

    async def __aenter__(self) -> Store:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> None:
        """Connect, check the file is focusq's and migrate it forward."""
        try:
            self._con = await aiosqlite.connect(
                database_uri(self.path),
                uri=True,
                timeout=self.busy_timeout,
                isolation_level=None,
            )
            self._con.row_factory = sqlite3.Row
            await self.run(ops.prepare(self.busy_timeout))
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Close the connection and stop its thread (idempotent)."""
        if self._con is not None:
            con, self._con = self._con, None
            await con.close()

    async def run(self, op: Op[T]) -> T:
        """Drive ``op`` to its end (committing what it began) and return its result."""
        con = self._con
        if con is None:
            raise RuntimeError("Store.run() before open()")
        try:
            query = next(op)
            while True:
                async with con.execute(*query) as cursor:
                    rows = list(await cursor.fetchall())
                query = op.send(rows)
        except StopIteration as stop:
            if con.in_transaction:
                try:
                    await con.execute("COMMIT")
                except sqlite3.Error as exc:
                    await self._rollback()
                    raise explain(exc, self.path, self.busy_timeout) from None
            return stop.value  # type: ignore[no-any-return]
        except sqlite3.Error as exc:
            op.close()
            await self._rollback()
            raise explain(exc, self.path, self.busy_timeout) from None
        except BaseException:
            op.close()
            await self._rollback()
            raise

    async def _rollback(self) -> None:
        if self._con is not None and self._con.in_transaction:
            try:
                await self._con.execute("ROLLBACK")
            except sqlite3.Error:
                pass  # the transaction is gone with the error
