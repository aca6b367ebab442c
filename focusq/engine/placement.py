"""Where a job added from the shell runs: its executor, checked before anything is written.

A name no ``[executors.NAME]`` defines, or a resource no worker of that executor offers,
is refused at once: Dask would otherwise leave the job pending forever.
"""

from __future__ import annotations

import sys

from focusq.errors import UserError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from focusq.quickadd import TaskDraft


def executor_of(draft: TaskDraft, config: Any) -> str:
    """The executor ``draft`` runs on (``on:NAME``, its group's, the default), checked."""
    executors = config.executors
    name = draft.executor
    if name is None and draft.group and draft.group in config.groups:
        name = getattr(config.groups[draft.group], "executor", None)
    name = name or config.engine.executor
    if name != "local" and name not in executors:
        known = ", ".join(["local", *sorted(executors)])
        raise UserError(
            f"'on:{name}' names no executor (known: {known}); add an [executors.{name}] table"
        )
    if name == "local":
        if draft.resources or draft.hosts:
            raise UserError("res: and host: place a job on a Dask executor: add on:NAME too")
        return name
    offered = executors[name].resources
    for key, amount in (draft.resources or {}).items():
        if offered.get(key, 0) < amount:
            offers = ", ".join(f"{k}={v:g}" for k, v in offered.items()) or "nothing"
            raise UserError(
                f"'res:{key}={amount:g}': no worker of executor {name} offers it (each "
                f"offers {offers}: [executors.{name}] resources); a job asking for it "
                "would never start"
            )
    return name


def remote_worktree(lock: str, executor: str, cwd: str) -> str:
    """The implicit worktree lock of a job on another machine: keyed by executor and path
    (its checkout there cannot be looked at from here). Says so on stderr."""
    key = f"worktree:{executor}:{cwd}"
    print(f"focusq: the job runs on {executor}: its worktree lock is {key}", file=sys.stderr)
    return key
