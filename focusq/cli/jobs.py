"""Job commands: ``log``, the actions (``cancel``, ``pause``, ``resume``, ``retry``, ``hold``,
``release``, ``approve``), ``wait``, ``batch``, ``worker``."""

from __future__ import annotations

import os
import sys
import time

from focusq.cli.common import (
    autostart_worker,
    cached_settings,
    open_store,
    revive_worker,
    seconds_arg,
    task_id_arg,
)
from focusq.cli.many import act_on_many, many_args, signal_arg
from focusq.cli.output import task_label
from focusq.errors import UserError
from focusq.paths import Paths
from focusq.states import ACTIVE, Kind, TaskStatus

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the quick path milliseconds; annotations are strings
    import argparse
    from collections.abc import Callable
    from typing import Any


_ACTION_WORDS = {
    "cancel": "cancelled",
    "pause": "pausing",
    "resume": "resuming",
    "retry": "queued again",
    "hold": "held",
    "release": "released",
    "approve": "approved",
}


_NEEDS_WORKER = {"resume", "retry", "release", "approve", "cancel", "pause"}


def cmd_action(args: argparse.Namespace) -> int:
    """``cancel``, ``pause``, ``resume``, ``retry``, ``hold``, ``release``, ``approve``."""
    from focusq.store.ops import jobs

    action = args.action
    paths = Paths.from_env()
    config = cached_settings(paths)
    signal = getattr(args, "signal", None)
    started: list[bool] = []

    def act(store: Any, task_id: int) -> str:
        record = store.run(jobs.request(task_id, action, time.time(), signal=signal))
        word = _ACTION_WORDS[action]
        if action == "cancel" and record["status"] in ("running", "paused"):
            word = "cancelling"  # the worker stops it: an intent, not yet done
        if action in _NEEDS_WORKER and record["kind"] == Kind.MECHANICAL and not started:
            autostart_worker(paths, config, store)
            started.append(True)
        return f"{word} {task_label(record)}"

    return act_on_many(args, action, act, paths=paths)


def cmd_worker(args: argparse.Namespace) -> int:
    """``focusq worker``: run one in the foreground, or start one in the background."""
    paths = Paths.from_env()
    if not args.foreground:
        from focusq.engine.launch import spawn_worker, worker_alive

        with open_store(paths) as store:
            holder = worker_alive(store)
        if holder:
            print(f"a worker already runs: pid {holder['pid']} on {holder['host']}")
            return 0
        print(f"started worker pid {spawn_worker(paths)}; log: {paths.home}/worker.log")
        return 0
    import asyncio
    import logging

    from focusq.config import load_settings
    from focusq.engine.lease import WorkerBusy
    from focusq.engine.worker import run_worker

    logging.getLogger("watchfiles").setLevel(logging.WARNING)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s focusq worker: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
    )
    settings = load_settings(paths)
    try:
        asyncio.run(run_worker(paths, settings))
    except WorkerBusy as exc:
        print(f"focusq: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


def _run_of(store: Any, task_id: int, attempt: int | None) -> dict[str, Any]:
    from focusq.store.ops import jobs, tasks

    task = store.run(tasks.get_task(task_id))
    runs = store.run(jobs.runs_of(task_id))
    if task["kind"] != Kind.MECHANICAL:
        raise UserError(f"task {task_id} is creative: it has no log")
    if not runs:
        raise UserError(f"task {task_id} has not run yet ({task['status']})")
    if attempt is None:
        return dict(runs[-1])
    for run in runs:
        if run["attempt"] == attempt:
            return dict(run)
    raise UserError(f"task {task_id} has no attempt {attempt}; it has 1 to {len(runs)}")


def cmd_log(args: argparse.Namespace) -> int:
    """``focusq log``: print a run's log; ``-f`` follows it until the run ends."""
    from focusq.cli.output import VisibleWriter
    from focusq.store.ops import jobs

    paths = Paths.from_env()
    with open_store(paths) as store:
        run = _run_of(store, args.id, args.attempt)
        out = sys.stdout.buffer if args.raw else VisibleWriter(sys.stdout.buffer)
        offset = _copy_from(run["log_path"], 0, out)
        if not args.follow or run["ended_at"] is not None:
            return 0
        from watchfiles import watch

        log_dir = os.path.dirname(run["log_path"])
        for _ in watch(
            log_dir,
            paths.home,
            recursive=False,
            debounce=100,
            step=20,
            rust_timeout=1000,
            yield_on_timeout=True,
        ):
            offset = _copy_from(run["log_path"], offset, out)
            ended = [r for r in store.run(jobs.runs_of(args.id)) if r["id"] == run["id"]]
            if ended and ended[0]["ended_at"] is not None:
                _copy_from(run["log_path"], offset, out)
                return 0
    return 0


def _copy_from(path: str, offset: int, out: Any) -> int:
    """Copy ``path`` from ``offset`` to ``out`` in chunks; return the new offset."""
    try:
        with open(path, "rb") as file:
            file.seek(offset)
            while chunk := file.read(1 << 16):
                out.write(chunk)
                offset += len(chunk)
    except FileNotFoundError:
        return offset
    out.flush()
    return offset


REVIVE_EVERY = 5.0
"""Seconds between a waiting command's checks that a worker still runs its jobs."""


def cmd_wait(args: argparse.Namespace) -> int:
    """``focusq wait``: block until the tasks end; exit 0 when all of them succeeded."""
    from focusq.store.ops import tasks

    paths = Paths.from_env()
    config = cached_settings(paths)
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    with open_store(paths, config) as store:
        for task_id in args.ids:
            store.run(tasks.get_task(task_id))  # a missing id is an error now, not a hang
        revive_worker(paths, config, store)
        revived = time.monotonic()

        def finished() -> list[dict[str, Any]] | None:
            records = [store.run(tasks.get_task(t)) for t in args.ids]
            if all(r["status"] not in {s.value for s in ACTIVE} for r in records):
                return records
            return None

        records = finished()
        if records is None:
            from watchfiles import watch

            names = {"focusq.db", "focusq.db-wal"}
            for _ in watch(
                paths.home,
                watch_filter=lambda _c, p: os.path.basename(p) in names,
                recursive=False,
                debounce=100,
                step=10,
                rust_timeout=250,
                yield_on_timeout=True,
            ):
                records = finished()
                if records is not None:
                    break
                if time.monotonic() - revived > REVIVE_EVERY:  # the worker may have died
                    revive_worker(paths, config, store)
                    revived = time.monotonic()
                if deadline is not None and time.monotonic() > deadline:
                    print(f"focusq: still running after {args.timeout:g}s", file=sys.stderr)
                    return 124
    assert records is not None
    failed = [r for r in records if r["status"] != TaskStatus.DONE]
    for r in failed:
        print(f"#{r['id']} {r['status']} ({r['result'] or 'no result'})", file=sys.stderr)
    return 1 if failed else 0


def cmd_batch(args: argparse.Namespace) -> int:
    """``focusq batch FILE.toml``: add a whole set of tasks in one transaction."""
    from focusq.batch import read_batch
    from focusq.store.ops import tasks

    paths = Paths.from_env()
    config = cached_settings(paths)
    drafts = read_batch(args.file, now=time.time(), cwd=os.getcwd())
    for draft in drafts:
        if draft.kind is Kind.MECHANICAL:
            draft.environ = dict(os.environ)  # its jobs run with this shell's environment
    with open_store(paths, config) as store:
        ids = store.run(tasks.add_tasks(drafts, time.time()))
        for task_id in ids:
            print(task_id)
        if any(d.kind is Kind.MECHANICAL for d in drafts):
            autostart_worker(paths, config, store)
    return 0


def action_args(action: str) -> Callable[[argparse.ArgumentParser], None]:
    def configure(p: argparse.ArgumentParser) -> None:
        many_args(p, action)
        if action == "cancel":
            p.add_argument(
                "--signal",
                type=signal_arg,
                metavar="SIG",
                help="send SIG to a running job's group first instead of SIGTERM",
            )
        p.set_defaults(handler=cmd_action, action=action)

    return configure


def worker_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--foreground", action="store_true", help="run here, logging to stderr, until idle"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log every job's start and end")
    p.set_defaults(handler=cmd_worker)


def log_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("id", type=task_id_arg, help="the task's id")
    p.add_argument("-f", "--follow", action="store_true", help="follow until the run ends")
    p.add_argument("--attempt", type=int, metavar="N", help="this attempt (default: the last)")
    p.add_argument(
        "--raw",
        action="store_true",
        help="the bytes as written: colours and other escapes reach the terminal "
        "(by default they are shown, like ␛[31m)",
    )
    p.set_defaults(handler=cmd_log)


def wait_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("ids", type=task_id_arg, nargs="+", metavar="ID", help="tasks to wait for")
    p.add_argument(
        "--timeout", type=seconds_arg, metavar="S", help="give up after S seconds (exit 124)"
    )
    p.set_defaults(handler=cmd_wait)


def batch_args(p: argparse.ArgumentParser) -> None:
    p.epilog = _BATCH_HELP
    p.add_argument("file", help="a TOML file of [[task]] tables")
    p.set_defaults(handler=cmd_batch)


_BATCH_HELP = """\
A batch file holds [[task]] tables, added in one transaction (all or none):

  group = "report"            # default group for every task (optional)

  [[task]]
  name = "a"                  # a name later tasks can use in after/afterany
  title = "pull system A"
  command = ["./pull", "a"]   # or a string with shell = true
  retry = 2
  timeout = "10m"

  [[task]]
  title = "build the report"
  command = "make report"
  shell = true
  after = ["a"]               # names of earlier tasks, or ids of existing ones

Other keys: cwd, env, tags, project, priority, est, locks, group, gate, at, afterany, kind.
"""
