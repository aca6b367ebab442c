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
    positive_int,
    revive_worker,
    seconds_arg,
    task_id_arg,
)
from focusq.cli.many import act_on_many, many_args, signal_arg
from focusq.cli.output import task_label, visible
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
    change = _retry_change(args) if action == "retry" else {}

    def act(store: Any, task_id: int) -> str:
        if change.get("edit"):
            change["command"] = _edited_command(store, task_id)
        changes = {k: v for k, v in change.items() if k != "edit"}
        now = time.time()
        record = store.run(jobs.request(task_id, action, now, signal=signal, **changes))
        word = _ACTION_WORDS[action]
        if action == "cancel" and record["status"] in ("running", "paused"):
            word = "cancelling"  # the worker stops it: an intent, not yet done
        if action in _NEEDS_WORKER and record["kind"] == Kind.MECHANICAL and not started:
            autostart_worker(paths, config, store)
            started.append(True)
        return f"{word} {task_label(record)}"

    return act_on_many(args, action, act, paths=paths)


def _retry_change(args: argparse.Namespace) -> dict[str, Any]:
    """What ``retry ID -- NEW COMMAND``, ``--edit`` or ``--cwd`` change before the run."""

    from focusq.cli.common import job_cwd

    change: dict[str, Any] = {}
    if (args.command is not None or args.edit or args.cwd) and len(args.ids) != 1:
        raise UserError("a changed command or --cwd goes with one job id")
    if args.command is not None:
        if not args.command:
            raise UserError("no command after '--'")
        words = list(args.command)
        change["command"] = ["sh", "-c", " ".join(words)] if args.shell else words
    elif args.edit:
        change["edit"] = True
    if args.cwd:
        change["cwd"] = job_cwd(args.cwd)
    return change


def _edited_command(store: Any, task_id: int) -> list[str]:
    """The job's command, changed in ``$VISUAL``/``$EDITOR`` (one shell line)."""
    import shlex
    import subprocess
    import tempfile

    from focusq.quickadd import command_text
    from focusq.store.ops import tasks

    task = store.run(tasks.get_task(task_id))
    if task["command"] is None:
        raise UserError(f"task {task_id} is creative: it has no command to edit")
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    with tempfile.NamedTemporaryFile("w+", suffix=".sh", encoding="utf-8") as file:
        file.write(command_text(task["command"]) + "\n")
        file.flush()
        if subprocess.run([*shlex.split(editor), file.name], check=False).returncode != 0:
            raise UserError(f"the editor ({editor}) failed; the job was not retried")
        file.seek(0)
        text = " ".join(line.strip() for line in file.read().splitlines() if line.strip())
    if not text:
        raise UserError("the command is empty; the job was not retried")
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise UserError(f"the edited command: {exc}") from None


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

    from focusq.engine.lease import WorkerBusy
    from focusq.engine.worker import run_worker

    logging.getLogger("watchfiles").setLevel(logging.WARNING)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s focusq worker: %(message)s",
        datefmt="%Y-%m-%d %H:%M:%S",
    )
    # The validated settings as the quick commands keep them: pydantic is imported only
    # when the config (or a FOCUSQ_ variable) changed since they were kept.
    settings = cached_settings(paths)
    try:
        asyncio.run(run_worker(paths, settings))
    except WorkerBusy as exc:
        print(f"focusq: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


def _runs_of(store: Any, task_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from focusq.store.ops import jobs, tasks

    task = store.run(tasks.get_task(task_id))
    if task["kind"] != Kind.MECHANICAL:
        raise UserError(f"task {task_id} is creative: it has no log")
    return task, [dict(r) for r in store.run(jobs.runs_of(task_id))]


def _pick(task: dict[str, Any], runs: list[dict[str, Any]], attempt: int | None) -> Any:
    if not runs:
        raise UserError(f"task {task['id']} has not run yet ({task['status']}); -f waits for it")
    if attempt is None:
        return runs[-1]
    for run in runs:
        if run["attempt"] == attempt:
            return run
    raise UserError(f"task {task['id']} has no attempt {attempt}; it has 1 to {len(runs)}")


OPEN = ("queued", "waiting", "held", "running", "paused")
"""The states of a task that has not ended."""

EXIT_OF_RESULT = {"ok": 0, "timed_out": 124, "cancelled": 130}
"""How ``log -f`` exits when its job ended (as ``tsp -c`` does); any other end is 1."""


def result_line(task: dict[str, Any]) -> str:
    """``#6 build: failed (exit 1)``: how a task ended, in one line."""
    how = task["result"] or task["status"]
    detail = f"exit {task['exit_code']}" if task["exit_code"] not in (None, 0) else ""
    if how == "skipped" and task["reason"]:
        detail = task["reason"]
    label = f"{task_label(task)}: {how}"
    return label + (f" ({visible(detail)})" if detail else "")


def cmd_log(args: argparse.Namespace) -> int:
    """``focusq log``: print a run's log; ``-f`` follows the job until it ends, whatever
    attempt it is on, and exits as the job did."""
    from focusq.cli.output import VisibleWriter

    paths = Paths.from_env()
    out = sys.stdout.buffer if args.raw else VisibleWriter(sys.stdout.buffer)
    with open_store(paths) as store:
        task, runs = _runs_of(store, args.id)
        if args.all_attempts:
            for run in runs:
                _copy_from(run["log_path"], _start_of_last(run["log_path"], args.lines), out)
            return 0
        if not args.follow:
            run = _pick(task, runs, args.attempt)
            _copy_from(run["log_path"], _start_of_last(run["log_path"], args.lines), out)
            return 0
        return _follow(store, paths, task, runs, args.attempt, args.lines, out)


def _follow(
    store: Any,
    paths: Paths,
    task: dict[str, Any],
    runs: list[dict[str, Any]],
    attempt: int | None,
    lines: int | None,
    out: Any,
) -> int:
    """Follow the job's log through every attempt (or only ``attempt``) until it ends."""
    from focusq.store.ops import jobs, tasks

    run: dict[str, Any] | None = _pick(task, runs, attempt) if runs else None
    if run is None:
        print(f"focusq: waiting for #{task['id']} to start ({task['status']})", file=sys.stderr)
    offset = _start_of_last(run["log_path"], lines) if run else 0
    seen = 0  # the newest run followed so far

    def step() -> bool:
        """Copy what is new; ``True`` once there is nothing more to follow."""
        nonlocal task, run, offset, seen
        task = store.run(tasks.get_task(task["id"]))
        latest = store.run(jobs.runs_of(task["id"]))
        while True:  # every attempt that began since the last look, in order
            if run is None and attempt is None:
                newer = [r for r in latest if r["id"] > seen]
                run, offset = (dict(newer[0]), 0) if newer else (None, 0)
            if run is None:
                break
            seen = run["id"]
            offset = _copy_from(run["log_path"], offset, out)
            now = next((r for r in latest if r["id"] == run["id"]), run)
            if now["ended_at"] is None:
                break  # still running
            _copy_from(run["log_path"], offset, out)
            if attempt is not None:
                return True
            run = None  # a retry may follow: the next attempt is followed too
        return run is None and task["status"] not in OPEN

    if not step():
        from watchfiles import watch

        for _ in watch(
            paths.home,
            recursive=True,
            debounce=50,
            step=20,
            rust_timeout=1000,
            yield_on_timeout=True,
        ):
            if step():
                break
            if _reader_gone():  # (log -f | head): a quiet job would hold us for ever
                raise BrokenPipeError
    print(f"focusq: {result_line(task)}", file=sys.stderr)
    if task["status"] == TaskStatus.DONE:  # also when marked done by hand, as wait says
        return 0
    return EXIT_OF_RESULT.get(task["result"] or "", 1)


def _reader_gone() -> bool:
    """Whether whoever read standard output went away (a pipe's reader closed it)."""
    import select

    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    poller = select.poll()
    poller.register(fd, 0)  # errors and hang-ups only: they are always reported
    return any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0))


def follow_new(store: Any, paths: Paths, task_id: int) -> int:
    """``add --follow``: follow the job just added from its first line to its end."""
    from focusq.cli.output import VisibleWriter

    task, runs = _runs_of(store, task_id)
    return _follow(store, paths, task, runs, None, None, VisibleWriter(sys.stdout.buffer))


def _start_of_last(path: str, lines: int | None) -> int:
    """Where the last ``lines`` lines of ``path`` begin (0: the whole file)."""
    if not lines:
        return 0
    try:
        with open(path, "rb") as file:
            end = file.seek(0, 2)
            position, seen = end, 0
            while position > 0:
                step = min(1 << 16, position)
                position -= step
                file.seek(position)
                chunk = file.read(step)
                if position + step == end and chunk.endswith(b"\n"):
                    seen -= 1  # the final newline ends the last line, it does not start one
                for index in range(len(chunk) - 1, -1, -1):
                    if chunk[index] == 10:
                        seen += 1
                        if seen == lines:
                            return position + index + 1
    except OSError:
        pass
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
    from focusq.store.ops import recurring, tasks

    paths = Paths.from_env()
    config = cached_settings(paths)
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    with open_store(paths, config) as store:
        ids = list(args.ids)
        if args.all or args.group:
            if ids:
                raise UserError("give ids or --all/--group to wait for, not both")
            ids = store.run(tasks.select(OPEN, group=args.group, kind="mechanical"))
        elif not ids:
            raise UserError("wait for what? give job ids, or --all or --group NAME")
        series = store.run(recurring.templates_among(ids))  # never end: their runs do
        if args.all or args.group:
            ids = [t for t in ids if t not in series]
        args.ids = ids
        known = store.run(tasks.kinds_and_states(ids))
        for task_id in ids:  # a missing id, a creative task or a series: an error, not a hang
            if known[task_id][0] != Kind.MECHANICAL:
                raise UserError(f"task {task_id} is creative: wait takes jobs ('focusq done')")
            if task_id in series:
                raise UserError(
                    f"task {task_id} is a recurring series: wait for one of its runs "
                    "('focusq ls --recurring' shows its last)"
                )
        revive_worker(paths, config, store)
        revived = time.monotonic()
        active = {s.value for s in ACTIVE}
        pending = list(ids)

        def finished() -> list[dict[str, Any]] | None:
            # One read of the states of the jobs still open (not one per job per change).
            nonlocal pending
            states = store.run(tasks.kinds_and_states(pending))
            pending = [t for t in pending if states[t][1] in active]
            if pending:
                return None
            failed = failed_ids()
            return [store.run(tasks.get_task(t)) for t in args.ids if t in failed]

        def failed_ids() -> set[int]:
            states = store.run(tasks.kinds_and_states(args.ids))
            return {t for t, (_, state) in states.items() if state != TaskStatus.DONE}

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
    for r in records:  # the ones that did not succeed
        print(result_line(r), file=sys.stderr)
    return 1 if records else 0


def cmd_batch(args: argparse.Namespace) -> int:
    """``focusq batch FILE.toml``: add a whole set of tasks in one transaction."""
    from focusq.batch import read_batch
    from focusq.engine.placement import place
    from focusq.store.ops import tasks

    paths = Paths.from_env()
    config = cached_settings(paths)
    drafts = read_batch(args.file, now=time.time(), cwd=os.getcwd())
    environ = dict(os.environ)  # its jobs run with this shell's environment
    notes: dict[str, None] = {}
    for index, draft in enumerate(drafts, 1):
        try:
            if draft.kind is Kind.MECHANICAL:
                draft.environ = environ
                notes[place(draft, config) or ""] = None
            tasks.refuse_nul_in(draft)  # refused before the database is opened
        except UserError as exc:
            raise UserError(f"batch file {args.file}, task {index}: {exc}") from None
    for note in notes:
        if note:
            print(f"focusq: {note}", file=sys.stderr)
    with open_store(paths, config) as store:
        try:
            ids = store.run(tasks.add_tasks(drafts, time.time()))
        except UserError as exc:  # an unknown dependency: nothing was added
            raise UserError(f"batch file {args.file}: {exc}") from None
        for task_id in ids:
            print(task_id)
        # Only once they are in: the insert may still refuse the batch (an unknown
        # dependency, a busy file), and a refused batch starts nothing.
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
        if action == "retry":
            p.usage = "focusq retry [options] ID... [-- NEW COMMAND...]"
            p.add_argument("--edit", action="store_true", help="change the command in $EDITOR")
            p.add_argument("--cwd", help="run it in this folder from now on")
            p.add_argument("--shell", action="store_true", help="run the new command with sh -c")
            p.set_defaults(handler=cmd_action, action=action, takes_command=True)
            return
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
    p.add_argument(
        "--attempt", type=positive_int, metavar="N", help="this attempt (default: the last)"
    )
    p.add_argument("--lines", "-n", type=positive_int, metavar="N", help="only the last N lines")
    p.add_argument("--all-attempts", action="store_true", help="every attempt's log, in order")
    p.add_argument(
        "--raw",
        action="store_true",
        help="the bytes as written: colours and other escapes reach the terminal "
        "(by default they are shown, like ␛[31m)",
    )
    p.set_defaults(handler=cmd_log)


def wait_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("ids", type=task_id_arg, nargs="*", metavar="ID", help="jobs to wait for")
    p.add_argument("--all", action="store_true", help="every open job")
    p.add_argument("--group", metavar="NAME", help="every open job of group NAME")
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

Other keys: cwd, env, tags, project, priority, est, locks, group, gate, at, afterany, kind,
and where a job runs: on = "farm", res = {gpu = 1}, host = "box" (or a list).
"""
