"""Settings for quick commands, without importing pydantic when nothing changed.

``load()`` returns the validated settings as attribute-access namespaces
(``s.store.busy_timeout``) read from a cache beside the database. The cache is
keyed by the config file's identity and the ``FOCUSQ_`` variables; on a miss
the full validation in :mod:`focusq.config` runs (and reports a bad file).
"""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

from focusq import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from focusq.paths import Paths


def _rules_id() -> int | None:
    """The validation rules' identity (``config.py``'s mtime): new rules validate again."""
    try:
        return os.stat(os.path.join(os.path.dirname(__file__), "config.py")).st_mtime_ns
    except OSError:
        return None


_RULES_ID = _rules_id()


CACHED_CONFIGURATIONS = 8
"""Validated settings kept per distinct configuration (a tmux status line and the shells
may differ in their ``FOCUSQ_`` variables: neither pays for validation every time)."""


def load(paths: Paths) -> Any:
    """The validated settings as nested namespaces; raises ``ConfigError`` for a bad file."""
    key = settings_key(paths)
    entries = read_cache(paths)
    for entry in entries:
        if entry.get("key") == key:
            return _namespace(entry["settings"])
    from focusq.config import write_settings_cache

    return _namespace(write_settings_cache(paths, key, entries))


def read_cache(paths: Paths) -> list[dict[str, Any]]:
    """The cached configurations, newest first (none when the file is missing or not ours)."""
    try:
        with open(paths.settings_cache, encoding="utf-8") as cache:
            payload = json.load(cache)
        entries = payload["entries"]
        return [e for e in entries if isinstance(e, dict) and "settings" in e]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def settings_key(paths: Paths, environ: Mapping[str, str] | None = None) -> list[Any]:
    """What the validated settings depend on: the file's identity and the FOCUSQ_ variables."""
    env = os.environ if environ is None else environ
    try:
        st = os.stat(paths.config_file)
        # The change time too: a rewrite can keep the size and put the modification time back.
        file_id: list[Any] = [
            paths.config_file,
            st.st_mtime_ns,
            st.st_ctime_ns,
            st.st_size,
            st.st_ino,
        ]
    except OSError:
        file_id = [paths.config_file, None]
    focusq_env = sorted([k, v] for k, v in env.items() if k.startswith("FOCUSQ_"))
    return [__version__, _RULES_ID, file_id, focusq_env]


def _namespace(data: dict[str, Any]) -> Any:
    # Tables whose keys are user data (lock patterns, group names) stay dicts.
    out = SimpleNamespace(**data)
    for name, value in data.items():
        if isinstance(value, dict) and name not in ("locks", "groups", "keymap", "executors"):
            setattr(out, name, SimpleNamespace(**value))
    for table in ("groups", "executors"):
        if isinstance(data.get(table), dict):
            setattr(out, table, {k: SimpleNamespace(**v) for k, v in data[table].items()})
    return out
