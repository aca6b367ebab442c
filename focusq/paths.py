"""Where focusq keeps things. Standard library only: every command pays for this.

State (database, logs) lives in ``$FOCUSQ_HOME`` when set, else ``$XDG_DATA_HOME/focusq``
(``~/.local/share/focusq``). Config is ``$FOCUSQ_CONFIG_FILE``, else
``$FOCUSQ_HOME/config.toml`` when ``FOCUSQ_HOME`` is set, else
``$XDG_CONFIG_HOME/focusq/config.toml`` (``~/.config/focusq/config.toml``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


class Paths:
    """The folders and files of one focusq home."""

    __slots__ = ("config_file", "home")

    def __init__(self, home: Path, config_file: Path) -> None:
        self.home = home
        self.config_file = config_file

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Paths:
        """Resolve the paths from ``environ`` (default: the process environment)."""
        env = os.environ if environ is None else environ
        user_home = Path(env.get("HOME") or Path.home())
        if env.get("FOCUSQ_HOME"):
            home = Path(env["FOCUSQ_HOME"]).expanduser()
            config = home / "config.toml"
        else:
            data = Path(env.get("XDG_DATA_HOME") or user_home / ".local" / "share")
            home = data / "focusq"
            conf = Path(env.get("XDG_CONFIG_HOME") or user_home / ".config")
            config = conf / "focusq" / "config.toml"
        if env.get("FOCUSQ_CONFIG_FILE"):
            config = Path(env["FOCUSQ_CONFIG_FILE"]).expanduser()
        return cls(home.absolute(), config.absolute())

    @property
    def database(self) -> Path:
        """The SQLite queue."""
        return self.home / "focusq.db"

    @property
    def logs(self) -> Path:
        """One log file per run, under ``logs/<task id>/``."""
        return self.home / "logs"

    @property
    def config_dir(self) -> Path:
        """The folder of the config file; user themes live in ``themes/`` inside it."""
        return self.config_file.parent

    @property
    def settings_cache(self) -> Path:
        """The validated settings, so quick commands skip validation when nothing changed."""
        return self.home / "settings-cache.json"

    def ensure_home(self) -> Path:
        """Create the state folder private to the user (0700) and return it."""
        make_private_dir(self.home)
        return self.home


def make_private_dir(path: Path) -> None:
    """``mkdir -p`` with mode 0700 for every folder created, and for ``path`` itself."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o777 != PRIVATE_DIR:
        path.chmod(PRIVATE_DIR)
