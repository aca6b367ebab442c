"""What both stores share: the private database file, the operation driver, error naming."""

from __future__ import annotations

import os
import sqlite3
import sys

from focusq.errors import DatabaseError
from focusq.paths import PRIVATE_FILE, make_private_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TypeVar

    from focusq.store.ops.base import Op

    T = TypeVar("T")


def database_uri(path: str) -> str:
    """Create ``path`` (0600, in a 0700 folder) if missing; a URI that never creates files."""
    if os.path.isdir(path):
        raise DatabaseError(
            f"database {path} is a folder; move it aside or set FOCUSQ_HOME to another folder"
        )
    if not os.path.exists(path):
        make_private_dir(os.path.dirname(path))
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
        except FileExistsError:
            pass  # another process created it first
    escaped = os.path.abspath(path).replace("%", "%25").replace("?", "%3f").replace("#", "%23")
    return f"file:{escaped}?mode=rw"


def keep_private(path: str) -> None:
    """A database others can read or write is made private again, and the user told once.

    Called once the file is known to be focusq's: a foreign file is never touched."""
    try:
        mode = os.stat(path).st_mode & 0o777
        if mode & 0o077:
            os.chmod(path, PRIVATE_FILE)
            print(
                f"focusq: database {path} was open to others ({mode:o}); it is private now (600)",
                file=sys.stderr,
            )
    except OSError:
        pass  # not ours to change: opening it says what is wrong


def damage_marker(path: str) -> str:
    """The file beside the database that says a check found it damaged."""
    return f"{path}.damaged"


def mark_damaged(path: str, problems: list[str]) -> DatabaseError:
    """Write down that ``path`` failed its integrity check (until it is repaired or
    replaced); return the one-line error that says what to do."""
    info = os.stat(path)
    lines = [str(info.st_ino), str(info.st_dev), *problems]
    fd = os.open(damage_marker(path), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        os.write(fd, ("\n".join(lines) + "\n").encode())
    finally:
        os.close(fd)
    return _damaged(path, problems[0] if problems else "")


def clear_damage(path: str) -> None:
    """The database passed its check: writes are allowed again."""
    try:
        os.unlink(damage_marker(path))
    except FileNotFoundError:
        pass


def refuse_if_damaged(path: str) -> None:
    """:class:`DatabaseError` if a check found ``path`` damaged and it was not replaced
    since (a file put in its place has another inode, and is trusted)."""
    try:
        with open(damage_marker(path), encoding="utf-8", errors="replace") as file:
            ino, dev, *problems = file.read().splitlines()
        info = os.stat(path)
        if (int(ino), int(dev)) != (info.st_ino, info.st_dev):
            return
    except FileNotFoundError:
        return
    except (OSError, ValueError):
        problems = []
    raise _damaged(path, problems[0] if problems else "")


def _damaged(path: str, problem: str) -> DatabaseError:
    return DatabaseError(
        f"database {path} is damaged ({problem or 'its integrity check failed'}); focusq "
        "writes nothing to it until it is repaired: copy it aside, then run sqlite3 on it "
        "with REINDEX (a damaged index) or .recover into a new file put in its place; "
        "'focusq worker' checks it again"
    )


def explain(exc: Exception, path: str, busy_timeout: float) -> DatabaseError:
    """A one-line :class:`DatabaseError` for a sqlite3 failure on ``path``."""
    message = str(exc)
    if "locked" in message or "busy" in message:
        return DatabaseError(
            f"database {path} is locked by another process (waited {busy_timeout:g}s); "
            "try again, or raise store.busy_timeout"
        )
    if "not a database" in message or "malformed" in message or "corrupt" in message:
        return DatabaseError(
            f"database {path} is not a SQLite database or is damaged ({message}); "
            "move it aside or set FOCUSQ_HOME to another folder"
        )
    if "readonly" in message or "unable to open" in message or "disk" in message:
        return DatabaseError(f"database {path}: {message}; check the folder's space and rights")
    return DatabaseError(f"database {path}: {message}")


def drive(con: sqlite3.Connection, op: Op[T], path: str, busy_timeout: float) -> T:
    """Run ``op`` on ``con`` to its end, committing the transaction it began; return its result.

    Any failure rolls the whole transaction back; sqlite3 errors become one-line
    :class:`DatabaseError`\\s naming the file.
    """
    try:
        query = next(op)
        while True:
            if query[0] == "BEGIN IMMEDIATE":
                refuse_if_damaged(path)
            rows = con.execute(*query).fetchall()
            query = op.send(rows)
    except StopIteration as stop:
        if con.in_transaction:
            try:
                con.execute("COMMIT")
            except sqlite3.Error as exc:
                _rollback(con)
                raise explain(exc, path, busy_timeout) from None
        return stop.value  # type: ignore[no-any-return]
    except sqlite3.Error as exc:
        op.close()
        _rollback(con)
        raise explain(exc, path, busy_timeout) from None
    except DatabaseError as exc:
        op.close()
        _rollback(con)
        raise DatabaseError(f"database {path}: {exc}") from None
    except BaseException:
        op.close()
        _rollback(con)
        raise


def _rollback(con: sqlite3.Connection) -> None:
    if con.in_transaction:
        try:
            con.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # the transaction is gone with the error
