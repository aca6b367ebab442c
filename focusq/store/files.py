"""What both store drivers share: creating the database file private, and naming failures."""

from __future__ import annotations

import os

from focusq.errors import DatabaseError
from focusq.paths import PRIVATE_FILE, make_private_dir


def database_uri(path: str) -> str:
    """Create ``path`` (0600, in a 0700 folder) if missing; a URI that never creates files."""
    if not os.path.exists(path):
        make_private_dir(os.path.dirname(path))
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
        except FileExistsError:
            pass  # another process created it first
    escaped = os.path.abspath(path).replace("%", "%25").replace("?", "%3f").replace("#", "%23")
    return f"file:{escaped}?mode=rw"


def explain(exc: Exception, path: str, busy_timeout: float) -> DatabaseError:
    """A one-line :class:`DatabaseError` for a sqlite3 failure on ``path``."""
    message = str(exc)
    if isinstance(exc, DatabaseError):
        return DatabaseError(f"database {path}: {message}")
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
