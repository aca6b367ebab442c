"""The asyncio store: one long-lived aiosqlite connection for the worker and the TUI."""

from __future__ import annotations

import sqlite3
from types import TracebackType
from typing import TypeVar

import aiosqlite

from focusq.store.driver import database_uri, drive, keep_private
from focusq.store.ops import base

T = TypeVar("T")


class Store:
    """Runs :mod:`focusq.store.ops` operations on aiosqlite's own thread.

    ``async with Store(path) as store: record = await store.run(tasks.get_task(1))``
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
            await self.run(base.prepare(self.busy_timeout))
            keep_private(self.path)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Close the connection and stop its thread (idempotent)."""
        if self._con is not None:
            con, self._con = self._con, None
            await con.close()

    async def run(self, op: base.Op[T]) -> T:
        """Drive ``op`` to its end (committing what it began) and return its result.

        The whole operation runs in one hop to the connection's thread, not one hop per
        statement: a worker tick costs a handful of thread switches, whatever its size.
        ``Connection._execute`` is how aiosqlite runs its own calls on that thread.
        """
        con = self._con
        if con is None:
            raise RuntimeError("Store.run() before open()")
        return await con._execute(self._drive, con, op)  # type: ignore[no-untyped-call,no-any-return]

    def _drive(self, con: aiosqlite.Connection, op: base.Op[T]) -> T:
        # On the connection's thread: its sqlite3 connection is safe to use here.
        return drive(con._conn, op, self.path, self.busy_timeout)
