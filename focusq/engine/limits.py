"""The caps jobs run under: from the config, with the groups changed from the shell.

Import-light on purpose (no dataclasses, typing or statistics at run time): ``focusq ls``
reads it to say why jobs wait, in a process that lives a few milliseconds. The scheduler
and the worker use this same class (:mod:`focusq.engine.scheduler` imports it).
"""

from __future__ import annotations

from fnmatch import fnmatchcase

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence
    from typing import Any

    from focusq.engine.scheduler import Job

_NEW: Any = object()
"""A default that stands for a new empty dict (as a dataclass's ``default_factory``)."""


class Limits:
    """Caps from the config.

    Frozen, compared, hashed and shown by its fields, as a frozen dataclass is.
    """

    __match_args__ = (
        "max_parallel",
        "lock_caps",
        "group_caps",
        "group_stagger",
        "paused_groups",
        "executor_caps",
        "group_executors",
        "default_executor",
        "down_executors",
    )
    __slots__ = __match_args__

    max_parallel: int
    lock_caps: Mapping[str, int]
    """Holders allowed per lock-key pattern (``fnmatch``); any other key allows one."""
    group_caps: Mapping[str, int]
    group_stagger: Mapping[str, float]
    paused_groups: frozenset[str]
    """Groups whose jobs start nothing new (``focusq group pause``)."""
    executor_caps: Mapping[str, int]
    """Jobs at once per executor other than ``local`` (whose cap is :attr:`max_parallel`)."""
    group_executors: Mapping[str, str]
    default_executor: str
    down_executors: frozenset[str]
    """Executors that did not answer the worker (its note says so): their jobs wait."""

    def __init__(
        self,
        max_parallel: int = 3,
        lock_caps: Mapping[str, int] = _NEW,
        group_caps: Mapping[str, int] = _NEW,
        group_stagger: Mapping[str, float] = _NEW,
        paused_groups: frozenset[str] = frozenset(),
        executor_caps: Mapping[str, int] = _NEW,
        group_executors: Mapping[str, str] = _NEW,
        default_executor: str = "local",
        down_executors: frozenset[str] = frozenset(),
    ) -> None:
        values = (
            max_parallel,
            lock_caps,
            group_caps,
            group_stagger,
            paused_groups,
            executor_caps,
            group_executors,
            default_executor,
            down_executors,
        )
        for name, value in zip(self.__slots__, values, strict=True):
            object.__setattr__(self, name, {} if value is _NEW else value)

    @classmethod
    def of(
        cls,
        settings: Any,
        changed: Mapping[str, Mapping[str, Any]] | None = None,
        database: str | None = None,
    ) -> Limits:
        """The caps of validated settings (or their cached form: the same attributes), with
        the groups ``changed`` from the shell (a cap set, a pause) over the config's; with
        the ``database`` path, the executors its worker noted as not answering."""
        groups = settings.groups
        caps = {n: g.max_parallel for n, g in groups.items() if g.max_parallel}
        changed = changed or {}
        caps.update((n, s["parallel"]) for n, s in changed.items() if s.get("parallel"))
        return cls(
            max_parallel=settings.engine.max_parallel,
            lock_caps=dict(settings.locks),
            group_caps=caps,
            group_stagger={n: g.stagger for n, g in groups.items() if g.stagger},
            paused_groups=frozenset(n for n, s in changed.items() if s.get("paused")),
            executor_caps={n: e.max_parallel for n, e in settings.executors.items()},
            group_executors={n: g.executor for n, g in groups.items() if g.executor},
            default_executor=settings.engine.executor,
            down_executors=_down(database, settings.executors) if database else frozenset(),
        )

    def executor_of(self, job: Job) -> str:
        """Where ``job`` runs: its ``on:NAME``, else its group's executor, else the default."""
        return self.executor_for(job.executor, job.group)

    def executor_for(self, executor: str | None, group: str | None) -> str:
        if executor:
            return executor
        if group and group in self.group_executors:
            return self.group_executors[group]
        return self.default_executor

    def executor_cap(self, name: str) -> int:
        return self.max_parallel if name == "local" else self.executor_caps.get(name, 0)

    def without(self, executors: Collection[str]) -> Limits:
        """The same caps with no room on ``executors`` (down, or being connected to): their
        jobs wait without taking a lock or a group's place from the jobs behind them."""
        if not executors:
            return self
        fields = dict(zip(self.__slots__, self._fields(), strict=True))
        fields["executor_caps"] = {**self.executor_caps, **dict.fromkeys(executors, 0)}
        return Limits(**fields)

    # Why a job waits, in ``engine.waiting``'s words, for one lock, group or executor given
    # the jobs ``running``: here once, for it and for the listings that say it of many jobs.

    def lock_said(self, key: str, running: Sequence[Mapping[str, Any]]) -> str:
        """Why ``key`` keeps a job back ("": it does not)."""
        holders = [o["id"] for o in running if key in o["locks"]]
        if len(holders) < self.lock_cap(key):
            return ""
        if key.startswith("worktree:"):
            return f"same worktree as #{holders[0]}"
        return f"lock {key} held by #{holders[0]}"

    def group_said(self, group: str, running: Sequence[Mapping[str, Any]]) -> str:
        """Why ``group`` itself keeps its jobs back (paused, full); "" when it does not."""
        if group in self.paused_groups:
            return f"group {group} paused"
        cap = self.group_caps.get(group)
        if cap is not None:
            count = sum(1 for o in running if o["group"] == group)
            if count >= cap:
                return f"group {group} full ({count}/{cap})"
        return ""

    def executor_said(self, executor: str, running: Sequence[Mapping[str, Any]]) -> str:
        """Why ``executor`` takes no more jobs now ("": it takes them)."""
        if executor in self.down_executors:
            return f"{executor} not answering"
        cap = self.executor_cap(executor)
        if cap <= 0:
            return f"executor {executor} is not configured"
        mine = sum(
            1 for o in running if self.executor_for(o.get("executor"), o["group"]) == executor
        )
        if mine < cap:
            return ""
        return f"cap {cap} reached" if executor == "local" else f"{executor} full ({mine}/{cap})"

    def lock_cap(self, key: str) -> int:
        """Holders allowed for ``key``: the first matching pattern's cap, else 1."""
        for pattern, cap in self.lock_caps.items():
            if fnmatchcase(key, pattern):
                return cap
        return 1

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Limits) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __setattr__(self, name: str, value: object) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[type[Limits], tuple[Any, ...]]:
        return type(self), self._fields()


def _down(database: str, names: Any) -> frozenset[str]:
    """Those of the executors ``names`` that the worker of ``database`` noted as down."""
    if not names:
        return frozenset()
    import os

    from focusq.engine.down import down_names

    return down_names(os.path.dirname(os.path.abspath(database)), names)
