"""``focusq ls`` printed: a screenful on a terminal (with how many more and how to see
them), every row down a pipe a page at a time, or the JSON SQLite writes; why a job waits
is worked out for the rows printed only."""

from __future__ import annotations

import os
import sys
import time

from focusq.cli.output import Waits, stdout_to_devnull, terminal_width, visible
from focusq.errors import DatabaseError
from focusq.store.ops import json_records, listing

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable
    from typing import Any

    from focusq.store.ops.listing import HeldBack

PAGE = 1000
"""Rows read and written at a time down a pipe."""


def screen_rows() -> int:
    """Task rows that fit on the terminal with the header, the "more" line and the prompt:
    ``$LINES``, else the terminal's height."""
    try:
        lines = int(os.environ.get("LINES", 0)) or os.get_terminal_size(sys.stdout.fileno()).lines
    except (OSError, ValueError):
        lines = 24
    return max(5, lines - 3)


def print_table(
    store: Any,
    config: Any,
    args: argparse.Namespace,
    statuses: Iterable[str] | None,
    *,
    terminal: bool,
) -> int:
    """Print the ``ls`` table; return how many rows it printed (0: the listing is empty).

    On a terminal at most a screenful (or ``--limit``), then how many more there are and the
    command that pages through them; elsewhere every row (or ``--limit``).
    """
    scope = {"kind": args.kind, "tag": args.tag, "archived": args.archived}
    width = terminal_width() if terminal else listing.UNLIMITED
    given = getattr(args, "limit", None)  # absent when `focusq` alone lists the queue
    limit = given or None  # --limit 0: every row
    if limit is None and terminal and given is None:
        limit = screen_rows()
    now = time.time()
    held_back = _held_back(store, config, now)
    # Every row: why jobs wait is worked out once. A screenful (or --limit): for its rows.
    why = store.run(listing.why_waiting(held_back, now)) if limit is None else None
    shown = 0
    start: tuple[int, int] | None = (listing.RANKS[0], 0)
    while start is not None and (limit is None or shown < limit):
        size = PAGE if limit is None else min(PAGE, limit - shown)
        at = {"start": start, "size": size, "width": width, **scope}
        if why is None:
            op = listing.task_page_said(statuses, held_back, now, **at)
        else:
            op = listing.task_page(statuses, why=why, **at)
        header, rows, start = store.run(op)
        lines = [header] if not shown and rows else []
        lines.extend(_line(row, width) for row in rows)
        if lines:
            # A title's escapes are shown, never obeyed.
            sys.stdout.write(visible("\n".join(lines) + "\n", lines=True))
        shown += len(rows)
    if start is not None and terminal:
        total = store.run(listing.count_tasks(statuses, **scope))
        if total > shown:
            sys.stdout.write(f"{_more(total - shown, total, args)}\n")
    return shown


def _line(row: tuple[Any, ...], width: int) -> str:
    """One row of the table; a job that waits says why after its status (a reason that only
    repeats the status, ``held``, is left out), the line cut again to ``width``."""
    _, head, title, why = row
    if not why or why == "held":
        return f"{head}{title}"
    line = f"{head}({why}) {title}"
    return line if len(line) <= width else line[: width - 1] + "…"


def _held_back(store: Any, config: Any, now: float) -> HeldBack:
    """What :func:`listing.why_waiting` asks: why each full lock, group and executor keeps
    jobs back, and why each job whose ``at`` is ahead waits."""

    def held_back(
        others: dict[int, Any], states: dict[str, Any], timed: list[tuple[Any, ...]]
    ) -> tuple[dict[str, str], dict[str, str], str, dict[int, str], dict[str, str], dict[str, str]]:
        return Waits(config, others, states, now, store.path).held_back(timed)

    return held_back


def _more(more: int, total: int, args: argparse.Namespace) -> str:
    """The line under a cut table: how many rows are left out and how to page through all."""
    import shlex

    words = ["focusq", "ls"]
    if args.all:
        words.append("--all")
    if args.archived:
        words.append("--archived")
    for status in args.status or ():
        words += ["--status", status]
    if args.kind:
        words += ["--kind", args.kind]
    if args.tag:
        words += ["--tag", args.tag]
    command = visible(shlex.join(words))
    return f"… {more:,} more ({total:,} in all); see them all with: {command} | less -S"


def print_json(
    store: Any,
    config: Any,
    args: argparse.Namespace,
    statuses: Iterable[str] | None,
) -> None:
    """Print ``ls --json``: written by SQLite a page at a time, straight to stdout; then
    keep the records it had to write in full ready for the next time."""
    now = time.time()
    sys.stdout.flush()
    out = getattr(sys.stdout, "buffer", None)
    write = out.write if out is not None else lambda data: sys.stdout.write(data.decode())
    _, stale = store.run(
        listing.json_pages(
            statuses,
            kind=args.kind,
            tag=args.tag,
            archived=args.archived,
            limit=getattr(args, "limit", None) or None,
            now=now,
            held_back=_held_back(store, config, now),
            emit=write,
        )
    )
    if stale:  # keep their records ready for the next listing, if the file is free now
        # The listing is whole: a reader at the end of a pipe gets its end now, not once
        # the records are kept.
        sys.stdout.flush()
        stdout_to_devnull()
        try:
            store.run(json_records.keep_json(now))
        except DatabaseError:
            pass  # busy, read-only or full: the next listing writes them again
