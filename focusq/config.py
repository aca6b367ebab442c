"""Settings: defaults for everything, a TOML file, and ``FOCUSQ_`` environment overrides.

Environment variables override the file: ``FOCUSQ_ENGINE__MAX_PARALLEL=2``.
A bad file is reported with its path and the offending line or key.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from focusq.errors import ConfigError
from focusq.focus.blocks import Block, BlockError, check_overlaps, make_block
from focusq.paths import PRIVATE_FILE, Paths

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StoreSettings(_Section):
    """The SQLite database."""

    busy_timeout: float = Field(5.0, ge=0, le=600)
    """Seconds to wait for another process's write before giving up with an error."""


class GroupSettings(_Section):
    """One ``[groups.NAME]`` table: how the jobs of ``group:NAME`` run together."""

    policy: Literal["fail-fast", "fail-safe"] = "fail-safe"
    """``fail-fast`` cancels the group's other jobs when one fails; ``fail-safe`` goes on."""
    max_parallel: int | None = Field(None, ge=1)
    """At most this many of the group's jobs at once (``None``: only the global cap)."""
    stagger: float = Field(0.0, ge=0)
    """Seconds between two starts in this group."""
    on_end: str | None = None
    """A shell command run when a run of the group's jobs ends, instead of ``hooks.on_end``."""
    executor: str | None = None
    """Where the group's jobs run (an ``[executors.NAME]``) unless a job says ``on:NAME``."""


class ExecutorSettings(_Section):
    """One ``[executors.NAME]`` table: more machines to run jobs on (a Dask cluster)."""

    kind: Literal["dask"] = "dask"
    address: str = ""
    """A running Dask scheduler (``tls://host:8786``); empty: a cluster on this machine that
    focusq starts itself (bound to 127.0.0.1) and ``focusq executor stop NAME`` stops."""
    workers: int = Field(2, ge=1, le=64)
    """Workers of a cluster focusq starts."""
    threads: int = Field(1, ge=1, le=64)
    """Threads (jobs at once) per worker of a cluster focusq starts."""
    resources: dict[str, float] = Field(default_factory=dict)
    """What each worker offers, e.g. ``{build = 1}``: ``res:build=1`` jobs go one per worker.
    For a cluster at ``address``, what its workers were started with."""
    max_parallel: int = Field(4, ge=1, le=1024)
    """At most this many of the executor's jobs at once."""
    follow_interval: float = Field(0.5, gt=0, le=60)
    """Seconds between two pulls of a running job's log."""
    keep_remote_logs: bool = False
    """Keep a job's log on the worker's disk once the local copy is complete."""
    connect_timeout: float = Field(10.0, gt=0, le=600)
    """Seconds to wait for the scheduler when the executor opens."""
    insecure_network: bool = False
    """Allow a plain ``tcp://`` address: the network to it is trusted (Dask runs pickled
    code on its workers; anyone who can reach the scheduler can run code there)."""

    @model_validator(mode="after")
    def _safe_address(self) -> ExecutorSettings:
        address = self.address
        local = address.startswith(("tcp://127.0.0.1:", "tcp://localhost:", "tcp://[::1]:"))
        if address and not address.startswith("tls://") and not local and not self.insecure_network:
            raise ValueError(
                f"address {address} is not tls://: anyone who can reach a Dask scheduler can "
                "run code on its workers; use tls:// with certificates, or set "
                "insecure_network = true if the network is yours alone"
            )
        return self


class HookSettings(_Section):
    """Commands focusq runs when something happens (like pueue's callback)."""

    on_end: str | None = None
    """Run with ``sh -c`` once per finished run, with ``FOCUSQ_TASK_ID``, ``FOCUSQ_RESULT``,
    ``FOCUSQ_EXIT_CODE``, ``FOCUSQ_TITLE`` and ``FOCUSQ_LOG`` in its environment."""
    timeout: float = Field(30.0, gt=0, le=3600)
    """Seconds a hook may run before it is killed."""


class EngineSettings(_Section):
    """How mechanical jobs run."""

    max_parallel: int = Field(3, ge=1, le=256)
    """At most this many jobs at once."""
    kill_grace: float = Field(5.0, ge=0)
    """Seconds between SIGTERM and SIGKILL when a job is cancelled or times out."""
    backoff_base: float = Field(2.0, ge=0)
    """First retry delay in seconds; it doubles (with jitter) for each further attempt."""
    backoff_cap: float = Field(300.0, ge=0)
    """The longest delay between two attempts, in seconds."""
    default_estimate: float = Field(60.0, gt=0)
    """Seconds assumed for a job with no ``est:`` and no past runs."""
    executor: str = "local"
    """Where a job runs when neither ``on:NAME`` nor its group says: ``local`` or the name
    of an ``[executors.NAME]``."""
    shared_state_words: list[str] = Field(
        default_factory=lambda: [
            "make",
            "npm run build",
            "yarn build",
            "pnpm build",
            "cargo build",
            "go build",
            "deploy",
        ]
    )
    """Commands that build or deploy a git worktree; two such jobs in one worktree never overlap."""


class LogSettings(_Section):
    """Job logs."""

    keep_days: int = Field(30, ge=0, le=36500)
    """``focusq clean`` deletes the logs of archived tasks that ended this many days ago."""


class WorkerSettings(_Section):
    """The background worker process."""

    idle_exit: float = Field(600.0, ge=0)
    """Seconds with nothing queued or running after which the worker exits."""
    autostart: bool = True
    """Start a worker when work is added and none is alive."""


class BlockSettings(_Section):
    """One ``[[blocks]]`` table: a recurring sync or async stretch of the day."""

    days: str = "mon-fri"
    """``mon-fri``, ``sat,sun``, ``mon,wed-fri`` or ``daily``."""
    start: str
    """``HH:MM``, local time."""
    end: str
    """``HH:MM``, after ``start`` (``24:00`` for the end of the day)."""
    mode: Literal["sync", "async"]
    """``sync`` (meetings, chat, replies: interruptions show at once) or ``async`` (maker time)."""
    label: str = ""
    """A name for the block, shown in the TUI header and ``focusq blocks``."""


class CalendarSettings(_Section):
    """Meetings from iCalendar files become sync blocks (``focusq blocks`` marks them)."""

    ics: list[str] = Field(default_factory=list)
    """Local ``.ics`` files to read (``~`` allowed), e.g. an export of your work calendar.
    Read-only; a URL is not fetched."""
    me: list[str] = Field(default_factory=list)
    """Your addresses: a meeting where an attendee with one of them has declined is left out.
    When empty, a calendar named with an address (Google's ``X-WR-CALNAME``) stands for you."""

    @field_validator("ics", "me", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("ics")
    @classmethod
    def _files_not_urls(cls, value: list[str]) -> list[str]:
        for entry in value:
            if "://" in entry:
                raise ValueError(f"{entry!r}: give a local file; focusq fetches no URL")
            if not entry.strip():
                raise ValueError("an empty file name")
        return value


class FocusSettings(_Section):
    """The focus slot."""

    default_minutes: int = Field(50, ge=1, le=600)
    """Planned length of a focus session."""
    break_minutes: int = Field(10, ge=1, le=120)
    """Length of a break between sessions."""
    idle_minutes: int = Field(15, ge=1, le=600)
    """With ``ask_idle``: no key this long while focusing asks, on return, whether it counts."""
    ask_idle: bool = False
    """Ask whether time without a key counts as focus. Off by default: a key unpressed in
    focusq says nothing of a user writing in another pane or window."""
    min_minutes: int = Field(25, ge=0, le=600)
    """Warn when a focus session would start with less than this before a sync block."""


class InterruptSettings(_Section):
    """Interruptions and their batches."""

    batch_minutes: int = Field(90, ge=1, le=1440)
    """Deliver held interruptions at least this often."""
    notify: bool = False
    """Send one desktop notification (``notify-send``) per delivered batch."""
    bell: bool = False
    """Ring the terminal bell once per delivered batch."""


class TuiSettings(_Section):
    """The terminal interface."""

    theme: str = "focusq-dark"
    """The theme at start, until ``T`` picks another (the pick is remembered)."""


class RecurringSettings(_Section):
    """Recurring jobs (``every:``, ``cron:``)."""

    catch_up: Literal["one", "all", "none"] = "one"
    """Due times missed while no worker ran: one run for all of them, a run for each, or
    none (a template's ``catchup:`` wins)."""


class Settings(BaseSettings):
    """Everything focusq can be told. Every field has a default: no file is needed."""

    model_config = SettingsConfigDict(
        env_prefix="FOCUSQ_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    store: StoreSettings = StoreSettings()
    """The database."""
    engine: EngineSettings = EngineSettings()
    """Mechanical jobs."""
    worker: WorkerSettings = WorkerSettings()
    """The background worker."""
    locks: dict[str, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)
    """Holders allowed per lock key pattern, e.g. ``"deploy:*" = 1`` (default 1 for every key)."""
    groups: dict[str, GroupSettings] = Field(default_factory=dict)
    """Per-group policy, cap and stagger."""
    tui: TuiSettings = TuiSettings()
    """The terminal interface."""
    keymap: dict[str, str] = Field(default_factory=dict)
    """Binding id -> keys, e.g. ``"task.cancel" = "ctrl+x"`` (see the README's key table)."""
    focus: FocusSettings = FocusSettings()
    """The focus slot."""
    interrupts: InterruptSettings = InterruptSettings()
    """Interruptions and batching."""
    blocks: list[BlockSettings] = Field(default_factory=list)
    """The day's sync and async blocks; time outside them is free."""
    calendar: CalendarSettings = CalendarSettings()
    """Meetings read from iCalendar files, as sync blocks that win over ``[[blocks]]``."""
    hooks: HookSettings = HookSettings()
    """Commands run when a job's run ends."""
    logs: LogSettings = LogSettings()
    """Job logs."""
    recurring: RecurringSettings = RecurringSettings()
    """Recurring jobs."""
    executors: dict[str, ExecutorSettings] = Field(default_factory=dict)
    """More machines to run jobs on, by name (``on:NAME``)."""

    @model_validator(mode="after")
    def _executors_exist(self) -> Settings:
        known = {"local", *self.executors}
        if "local" in self.executors:
            raise ValueError("executors.local: the name local is this machine's; pick another")
        for key in self.executors:  # it names a folder beside the database, and on:NAME
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", key):
                raise ValueError(
                    f"executors.{key!r}: a name is letters, digits, '_', '.' and '-', "
                    "starting with a letter or digit"
                )
        named: list[tuple[str, str | None]] = [("engine.executor", self.engine.executor)]
        named += [(f"groups.{g}.executor", s.executor) for g, s in self.groups.items()]
        for where, name in named:
            if name is not None and name not in known:
                raise ValueError(
                    f"{where} = {name!r} names no [executors.{name}] table "
                    f"(known: {', '.join(sorted(known))})"
                )
        return self

    @model_validator(mode="after")
    def _blocks_make_sense(self) -> Settings:
        made = []
        for number, block in enumerate(self.blocks, 1):
            try:
                made.append(make_block(block.days, block.start, block.end, block.mode, block.label))
            except BlockError as exc:
                name = f"block {number}" + (f" ({block.label})" if block.label else "")
                raise ValueError(f"{name}: {exc}") from None
        try:
            check_overlaps(made)
        except BlockError as exc:
            raise ValueError(str(exc)) from None
        return self

    def time_blocks(self) -> list[Block]:
        """The ``[[blocks]]`` as validated :class:`~focusq.focus.blocks.Block`\\s."""
        return [make_block(b.days, b.start, b.end, b.mode, b.label) for b in self.blocks]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's values arrive as init arguments; the environment wins over them.
        return (env_settings, init_settings)


def read_config_file(path: str) -> dict[str, Any]:
    """The TOML table in ``path``, or ``{}`` when there is no file."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        return {}
    except NotADirectoryError:
        raise ConfigError(
            f"config file {path}: a folder on its way is a file; set FOCUSQ_HOME (or "
            "FOCUSQ_CONFIG_FILE) to a place you can write"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path}: cannot be read ({exc})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: {exc}; fix the TOML syntax there") from None


NOT_SETTINGS = frozenset({"HOME", "CONFIG_FILE", "TASK_ID", "ATTEMPT", "RUN"})
"""``FOCUSQ_`` variables that are not settings: where things live, and what a job is told."""


def load_settings(paths: Paths) -> Settings:
    """Validate the config file and the environment into :class:`Settings`."""
    explicit = os.environ.get("FOCUSQ_CONFIG_FILE")
    if explicit and not os.path.exists(paths.config_file):
        raise ConfigError(
            f"FOCUSQ_CONFIG_FILE {explicit}: no such file; fix the path or unset the variable"
        )
    _check_variables(os.environ)
    data = read_config_file(paths.config_file)
    for key in data:
        if key.startswith("_"):  # pydantic-settings would take it as an option of its own
            where = _where(paths.config_file, key)
            raise ConfigError(f"{where}: unknown key '{key}'; remove it or check its spelling")
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, paths.config_file)) from None
    except (TypeError, ValueError) as exc:  # not a validation error as pydantic words them
        raise ConfigError(f"config file {paths.config_file}: {exc}; fix it") from None


def _check_variables(environ: Mapping[str, str]) -> None:
    """A ``FOCUSQ_SECTION__KEY`` variable must name a section focusq has."""
    sections = {name.upper() for name in Settings.model_fields}
    for name in sorted(environ):
        if not name.startswith("FOCUSQ_") or name.startswith("FOCUSQ_TEST_"):
            continue
        section = name.removeprefix("FOCUSQ_").split("__")[0]
        if section not in sections and section not in NOT_SETTINGS:
            known = ", ".join(sorted(s.lower() for s in sections))
            raise ConfigError(
                f"{name}: focusq has no setting section '{section.lower()}' ({known}); "
                "fix the name or unset it"
            )


def _describe(exc: ValidationError, path: str) -> str:
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"])
    variable = "FOCUSQ_" + "__".join(str(part) for part in error["loc"]).upper()
    if error["loc"] and variable in os.environ:  # the environment's value, not the file's
        if error["type"] == "extra_forbidden":
            return f"{variable}: no setting '{key}'; fix the name or unset it"
        message = str(error["msg"]).removeprefix("Value error, ")
        return f"{variable}={os.environ[variable]!r}: {message}"
    where = _where(path, str(error["loc"][-1]) if error["loc"] else None)
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key '{key}'; remove it or check its spelling"
    message = str(error["msg"]).removeprefix("Value error, ")
    if not key:
        return f"{where}: {message}"
    return f"{where}: '{key}': {message}"


def _where(path: str, key: str | None) -> str:
    """``config file PATH, line N``: where ``key`` is set, when that can be found."""
    line = _line_of(path, key) if key else None
    return f"config file {path}" + (f", line {line}" if line else "")


def _line_of(path: str, key: str) -> int | None:
    try:
        with open(path, encoding="utf-8") as file:
            lines = file.read().splitlines()
    except OSError:
        return None
    for number, line in enumerate(lines, 1):
        stripped = line.strip().strip("[]").strip()
        if stripped.split("=")[0].strip().strip('"') == key or stripped.endswith("." + key):
            return number
    return None


def write_settings_cache(
    paths: Paths, key: list[Any], entries: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """Validate settings, store them as JSON under ``key`` beside the database (before the
    other cached ``entries``, at most ``CACHED_CONFIGURATIONS``), return them."""
    from focusq.settings import CACHED_CONFIGURATIONS

    data = load_settings(paths).model_dump(mode="json")
    kept = [e for e in entries if e.get("key") != key][: CACHED_CONFIGURATIONS - 1]
    text = json.dumps({"entries": [{"key": key, "settings": data}, *kept]})
    try:
        paths.ensure_home()
        tmp = f"{paths.settings_cache}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, paths.settings_cache)
    except OSError:
        pass  # A cache we cannot write only costs speed.
    return data
