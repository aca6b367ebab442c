"""The only code that speaks SQL.

:mod:`~focusq.store.ops` holds every query as a sans-I/O operation;
:class:`~focusq.store.sync.SyncStore` (sqlite3) and :class:`~focusq.store.aio.Store`
(aiosqlite) drive them. Import the driver you need from its module: this package
imports nothing, so the quick CLI path never loads aiosqlite.
"""
