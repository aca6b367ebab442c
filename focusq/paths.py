"""Where focusq keeps things. Plain ``os.path`` strings: every command pays for this module.

State (database, logs) lives in ``$FOCUSQ_HOME`` when set, else ``$XDG_DATA_HOME/focusq``
(``~/.local/share/focusq``). Config is ``$FOCUSQ_CONFIG_FILE``, else
``$FOCUSQ_HOME/config.toml`` when ``FOCUSQ_HOME`` is set, else
``$XDG_CONFIG_HOME/focusq/config.toml`` (``~/.config/focusq/config.toml``).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


class Paths:
    """The folders and files of one focusq home, as absolute path strings."""

    __slots__ = ("_named", "config_file", "home")

    def __init__(self, home: str, config_file: str, named: tuple[bool, bool] | None = None) -> None:
        self.home = os.path.abspath(home)
        self.config_file = os.path.abspath(config_file)
        beside = self.config_file == os.path.join(self.home, "config.toml")
        self._named = (True, not beside) if named is None else named
        """Whether ``FOCUSQ_HOME`` and ``FOCUSQ_CONFIG_FILE`` named them (else: XDG)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Paths:
        """Resolve the paths from ``environ`` (default: the process environment)."""
        env = os.environ if environ is None else environ
        user_home = env.get("HOME") or os.path.expanduser("~")
        if env.get("FOCUSQ_HOME"):
            home = os.path.expanduser(env["FOCUSQ_HOME"])
            config = os.path.join(home, "config.toml")
        else:
            data = env.get("XDG_DATA_HOME") or os.path.join(user_home, ".local", "share")
            home = os.path.join(data, "focusq")
            conf = env.get("XDG_CONFIG_HOME") or os.path.join(user_home, ".config")
            config = os.path.join(conf, "focusq", "config.toml")
        if env.get("FOCUSQ_CONFIG_FILE"):
            config = os.path.expanduser(env["FOCUSQ_CONFIG_FILE"])
        return cls(
            home, config, (bool(env.get("FOCUSQ_HOME")), bool(env.get("FOCUSQ_CONFIG_FILE")))
        )

    @property
    def database(self) -> str:
        """The SQLite queue."""
        return os.path.join(self.home, "focusq.db")

    @property
    def logs(self) -> str:
        """One log per run: ``logs/<task id>-<attempt>.log`` (and the supervisor's status files)."""
        return os.path.join(self.home, "logs")

    @property
    def config_dir(self) -> str:
        """The folder of the config file; user themes live in ``themes/`` inside it."""
        return os.path.dirname(self.config_file)

    @property
    def settings_cache(self) -> str:
        """The validated settings, so quick commands skip validation when nothing changed."""
        return os.path.join(self.home, "settings-cache.json")

    def environ(self) -> dict[str, str]:
        """Variables under which :meth:`from_env` finds this home and this config file again
        (another focusq process, a systemd unit), named the way they were named here.

        Setting ``FOCUSQ_HOME`` alone would move the config beside the database, away from
        ``$XDG_CONFIG_HOME/focusq/config.toml``; naming that file ``FOCUSQ_CONFIG_FILE``
        would make it a file that must exist. So the XDG folders are passed as they are.
        """
        home_named, config_named = self._named
        out = {}
        if home_named:
            out["FOCUSQ_HOME"] = self.home
        else:
            out["XDG_DATA_HOME"] = os.path.dirname(self.home)
        if config_named:
            out["FOCUSQ_CONFIG_FILE"] = self.config_file
        elif not home_named:
            out["XDG_CONFIG_HOME"] = os.path.dirname(os.path.dirname(self.config_file))
        return out

    def ensure_home(self) -> str:
        """Create the state folder private to the user (0700) and return it."""
        make_private_dir(self.home)
        return self.home


def make_private_dir(path: str) -> None:
    """``mkdir -p`` with mode 0700 for every folder created (whatever the umask), and for
    ``path`` itself; :class:`~focusq.errors.UserError` in one line when it cannot be made."""
    path = os.path.abspath(path)
    missing = []
    step = path
    while not os.path.isdir(step):
        if os.path.lexists(step):
            raise _cannot(path, f"{step} is a file, not a folder")
        missing.append(step)
        parent = os.path.dirname(step)
        if parent == step:
            break
        step = parent
    try:
        for folder in reversed(missing):
            try:
                os.mkdir(folder, PRIVATE_DIR)
            except FileExistsError:
                continue  # another process made it first
            os.chmod(folder, PRIVATE_DIR)
        if os.stat(path).st_mode & 0o777 != PRIVATE_DIR:
            os.chmod(path, PRIVATE_DIR)
    except OSError as exc:
        raise _cannot(path, exc.strerror or str(exc)) from None


def _cannot(path: str, why: str) -> Exception:
    from focusq.errors import UserError

    return UserError(
        f"cannot make the folder {path}: {why}; set FOCUSQ_HOME to a folder you can write"
    )
