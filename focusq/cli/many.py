"""Commands that act on many tasks at once: ids, or selectors (``--group``, ``--tag``,
``--all``, ``--failed``), one line per task, non-zero if any could not be done."""

from __future__ import annotations

import sys

from focusq.cli.common import open_store, task_id_arg
from focusq.cli.output import visible
from focusq.errors import FocusqError, UserError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from typing import Any

    Act = Callable[[Any, int], str]

APPLIES_TO: dict[str, tuple[tuple[str, ...], str | None]] = {
    "cancel": (("queued", "waiting", "held", "running", "paused"), None),
    "pause": (("running",), "mechanical"),
    "resume": (("paused",), "mechanical"),
    "retry": (("failed", "cancelled", "skipped"), "mechanical"),
    "hold": (("queued", "waiting"), None),
    "release": (("held",), None),
    "approve": (("waiting",), "mechanical"),
    "done": (("queued", "waiting", "held"), None),
    "drop": (("queued", "waiting", "held"), None),
}
"""What a selector picks for each action: the states it applies to, and the kind."""


def many_args(p: argparse.ArgumentParser, action: str) -> None:
    """The ids and selectors of a command acting on many tasks."""
    states, kind = APPLIES_TO[action]
    what = f"{kind} tasks" if kind == "mechanical" else "tasks"
    p.add_argument("ids", type=task_id_arg, nargs="*", metavar="ID", help="the tasks' ids")
    p.add_argument("--group", metavar="NAME", help=f"every {', '.join(states)} one of group NAME")
    p.add_argument("--tag", metavar="TAG", help=f"every {', '.join(states)} one tagged TAG")
    p.add_argument(
        "--all", action="store_true", help=f"every {', '.join(states)} one of the {what}"
    )
    if action == "retry":
        p.add_argument("--failed", action="store_true", help="every failed job")


def targets(store: Any, args: argparse.Namespace, action: str) -> list[int]:
    """The ids given, else the tasks the selectors pick; a usage error if neither is."""
    from focusq.store.ops import tasks

    failed = getattr(args, "failed", False)
    selecting = args.all or args.group or args.tag or failed
    if args.ids and selecting:
        raise UserError(f"give ids or selectors (--group, --tag, --all), not both, to {action}")
    if args.ids:
        return list(dict.fromkeys(args.ids))
    if not selecting:
        raise UserError(f"{action} what? give task ids, or --group, --tag or --all")
    states, kind = APPLIES_TO[action]
    if failed:
        states = ("failed",)
    return list(store.run(tasks.select(states, group=args.group, tag=args.tag, kind=kind)))


_VERB = {"done": "mark done", "drop": "drop"}
"""An action's verb where its name is not one."""


def act_on_many(args: argparse.Namespace, action: str, act: Act, *, paths: Any = None) -> int:
    """Run ``act(store, id)`` for each target, printing the line it returns (or the error);
    exit 0 if every one was done, else the first failure's code."""
    failures: list[FocusqError] = []
    with open_store(paths) as store:
        ids = targets(store, args, action)
        if not ids:
            print(
                f"focusq: no task matches: nothing to {_VERB.get(action, action)}", file=sys.stderr
            )
            return 0
        for task_id in ids:
            try:
                print(act(store, task_id))
            except FocusqError as exc:
                failures.append(exc)
                print(f"focusq: {visible(str(exc))}", file=sys.stderr)
    return failures[0].exit_code if failures else 0


def signal_arg(text: str) -> str:
    """An argparse type: a signal by name or number (``INT``, ``SIGINT``, ``2``) as its name."""
    import signal

    name = text.upper()
    try:
        found = (
            signal.Signals(int(text))
            if text.isdigit()
            else signal.Signals[name if name.startswith("SIG") else f"SIG{name}"]
        )
    except (KeyError, ValueError):
        import argparse

        raise argparse.ArgumentTypeError(f"{text!r} is not a signal (INT, SIGHUP, 9 ...)") from None
    return found.name
