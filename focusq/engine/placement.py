"""Where a new job runs and what it shares, checked before anything is written: the same
for ``focusq add``, ``focusq batch`` and the TUI's quick-add.

Its executor: a name no ``[executors.NAME]`` defines, or a resource no worker of that
executor offers, is refused at once (Dask would otherwise leave the job pending forever).
Its implicit worktree lock: a job that builds or deploys a git worktree never overlaps
another that does (see :mod:`focusq.engine.shared`).
"""

from __future__ import annotations

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


def place(draft: TaskDraft, config: Any) -> str | None:
    """Check ``draft``'s executor and add its implicit worktree lock, if it has one; a
    line to tell the user, if any (a remote job's lock is keyed by executor and path: its
    checkout there cannot be looked at from here)."""
    if draft.kind != "mechanical":
        return None
    executor = executor_of(draft, config)
    if not draft.command or not draft.cwd:
        return None
    from focusq.engine.shared import implicit_lock

    lock = implicit_lock(draft.command, draft.cwd, config.engine.shared_state_words)
    note = None
    if lock and executor != "local":
        lock = f"worktree:{executor}:{draft.cwd}"
        note = f"the job runs on {executor}: its worktree lock is {lock}"
    if lock and lock not in (draft.locks or []):
        draft.locks = [*(draft.locks or []), lock]
    return note
