"""Shared state detected, not only declared: jobs that build or deploy one git worktree.

Two jobs whose commands run in the same worktree and match a configured command phrase
(``make``, ``npm run build``, ``deploy`` ...) share a lock ``worktree:<top folder>``.
Standard library only: ``focusq add`` calls it.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

PREFIX = "worktree:"


def git_worktree(cwd: str) -> str | None:
    """The top folder of the git worktree holding ``cwd`` (a ``.git`` dir or file), if any."""
    path = os.path.abspath(cwd)
    while True:
        if os.path.exists(os.path.join(path, ".git")):
            return path
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


def touches_shared_state(command: Sequence[str], phrases: Sequence[str]) -> bool:
    """Whether ``command`` contains one of ``phrases`` as whole words.

    A program's path counts by its name without extension, so ``./deploy.sh`` is ``deploy``.
    """
    if len(command) == 3 and list(command[:2]) == ["sh", "-c"]:
        words = command[2].replace(";", " ").replace("&&", " ").replace("|", " ").split()
    else:
        words = list(command)
    names = [os.path.splitext(os.path.basename(w))[0] if "/" in w else w for w in words]
    for phrase in phrases:
        parts = phrase.split()
        n = len(parts)
        if any(names[i : i + n] == parts for i in range(len(names) - n + 1)):
            return True
    return False


def implicit_lock(command: Sequence[str], cwd: str, phrases: Sequence[str]) -> str | None:
    """``worktree:<top>`` when the job builds or deploys a git worktree, else ``None``."""
    if not touches_shared_state(command, phrases):
        return None
    top = git_worktree(cwd)
    return PREFIX + top if top else None
