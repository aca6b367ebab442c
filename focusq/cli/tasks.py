"""Task commands: ``add``, ``ls``, ``show``, ``edit``, ``done``, ``drop``, ``note``, ``status``."""

from __future__ import annotations

import os
import sys
import time

from focusq.cli.common import (
    autostart_worker,
    cached_settings,
    job_cwd,
    job_env,
    open_store,
    revive_worker,
    task_id_arg,
)
from focusq.cli.output import (
    focus_line,
    json_record,
    json_run,
    print_json,
    task_label,
    with_waiting_for,
)
from focusq.errors import UserError
from focusq.paths import Paths
from focusq.states import ACTIVE, Kind, TaskStatus

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the quick path milliseconds; annotations are strings
    import argparse
    from collections.abc import Callable
    from typing import Any

    Handler = Callable[[argparse.Namespace], int]


_GRAMMAR = """\
quick-add grammar (focusq add / focusq edit):
  words            the title; unknown key:value words stay in it ("fix: typo")
  -- CMD ARGS...   the command: makes the task mechanical (run without a shell
                   unless --shell, then the words are one 'sh -c' string)
  +TAG             a tag (in edit, -TAG removes one)
  project:NAME     the project
  pri:H|M|L        priority (default M)
  est:30m|2h       estimate (s, m, h, d; a bare number is minutes)
  after:ID[,ID]    start only after these succeeded
  afterany:ID      start only after these ended, however they ended
  lock:KEY         never run two holders of KEY at once (repeatable): lock:deploy:prod
  timeout:10m      kill the job after this long
  retry:N          retry a failed job up to N times
  group:NAME       a group with its own cap and failure policy
  gate:approve     wait for 'focusq approve ID' before starting
  at:HH:MM         not before this time (the next one); at:2026-11-24T09:00
  every:1d|2h|mon-fri  a recurring job: a run at each due time (with at:HH:MM)
  cron:"0 3 * * 1" a recurring job on a cron schedule
  catchup:one|all|none  due times missed while no worker ran; overlap:yes lets runs overlap
  on:NAME          run on an executor from [executors.NAME] (on:local: this machine)
  res:KEY=N        a Dask worker resource the job needs (res:build=1)
  host:NAME        only on the Dask workers of this host
  ~mech ~creative  override the inferred kind
"""


def add_args(p: argparse.ArgumentParser) -> None:
    p.usage = "focusq add [options] WORDS... [-- COMMAND ARGS...]"
    p.epilog = (
        _GRAMMAR + "\nexamples:\n  focusq add write the launch post +blog pri:H est:90m\n"
        "  focusq add build site lock:site -- make -C site build\n"
        "  id=$(focusq add -- pytest -x)"
    )
    p.add_argument("words", nargs="*", help="title words and tokens (see below)")
    p.add_argument("--shell", action="store_true", help="run the command with 'sh -c'")
    p.add_argument("--cwd", help="folder the job runs in (default: the current one)")
    p.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="set a variable (repeat)"
    )
    p.add_argument("--json", action="store_true", help="print the new task as JSON")
    p.add_argument("--held", action="store_true", help="add it held: it waits for 'release'")
    p.add_argument(
        "--follow", action="store_true", help="follow the job's log to its end; exit as it did"
    )
    p.set_defaults(handler=cmd_add, takes_command=True)


def ls_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--all", "-a", action="store_true", help="every task, finished ones too")
    p.add_argument("--kind", choices=[k.value for k in Kind], help="only this kind")
    p.add_argument(
        "--status",
        action="append",
        metavar="STATUS",
        help=f"only these states (repeat or comma-separate): {', '.join(TaskStatus)}",
    )
    p.add_argument("--tag", help="only tasks with this tag")
    p.add_argument("--archived", action="store_true", help="only the tasks 'focusq clean' archived")
    p.add_argument(
        "--limit",
        "-n",
        type=_count,
        metavar="N",
        help="at most N rows (0: all); a terminal shows a screenful, a pipe every row",
    )
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.set_defaults(handler=cmd_ls)


def _count(text: str) -> int:
    """A whole number of rows, 0 or more."""
    if not (text.isascii() and text.isdigit()):
        import argparse

        raise argparse.ArgumentTypeError(f"{text!r} is not a number of rows (0 or more)")
    return int(text)


def clean_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--older-than",
        metavar="AGE",
        help="only tasks that finished at least AGE ago (7d, 12h; default: every finished one)",
    )
    p.add_argument("--group", metavar="NAME", help="only the tasks of group NAME")
    p.set_defaults(handler=cmd_clean)


def cmd_clean(args: argparse.Namespace) -> int:
    """``focusq clean``: archive finished tasks out of the lists; their events stay, so every
    review is unchanged; logs of archived tasks past ``logs.keep_days`` are deleted."""
    from focusq.durations import parse_duration
    from focusq.store.ops import tasks

    now = time.time()
    try:
        age = 0.0 if args.older_than is None else parse_duration(args.older_than)
    except ValueError as exc:
        raise UserError(f"--older-than: {exc}") from None
    paths = Paths.from_env()
    config = cached_settings(paths)
    with open_store(paths, config) as store:
        archived = store.run(tasks.archive(now - age, now, group=args.group))
        old_logs = store.run(tasks.archived_logs(now - config.logs.keep_days * 86400))
    deleted = 0
    for path in old_logs:
        try:
            os.unlink(path)
            deleted += 1
        except FileNotFoundError:
            continue
    said = f"; deleted {deleted} old log(s)" if deleted else ""
    print(f"archived {len(archived)} finished task(s){said}")
    return 0


def show_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("id", type=task_id_arg, help="the task's id")
    p.add_argument("--json", action="store_true", help="print it as JSON")
    p.add_argument(
        "--env", action="store_true", help="print the environment its job runs with (private)"
    )
    p.set_defaults(handler=cmd_show)


def finish_args(action: str) -> Callable[[argparse.ArgumentParser], None]:
    """``done`` and ``drop``: ids or selectors."""

    def configure(p: argparse.ArgumentParser) -> None:
        from focusq.cli.many import many_args

        many_args(p, action)
        p.set_defaults(handler=cmd_done if action == "done" else cmd_drop)

    return configure


def edit_args(p: argparse.ArgumentParser) -> None:
    p.usage = "focusq edit ID [TOKENS...] [-- COMMAND ARGS...]"
    p.epilog = _GRAMMAR + "\nafter:, afterany: and lock: replace the old lists."
    p.add_argument("id", type=task_id_arg, help="the task's id")
    import argparse

    p.add_argument("words", nargs=argparse.REMAINDER, help="title words and tokens")
    p.add_argument("--shell", action="store_true", help="run the new command with 'sh -c'")
    p.add_argument("--cwd", help="folder the new command runs in (default: the current one)")
    p.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="set a variable (repeat)"
    )
    p.add_argument(
        "--unset-env", action="append", default=[], metavar="KEY", help="unset a variable"
    )
    p.add_argument("--json", action="store_true", help="print the changed task as JSON")
    p.set_defaults(handler=cmd_edit, takes_command=True)


_EDIT_SWITCHES = {"--shell": "shell", "--json": "json"}
_EDIT_VALUED = {"--cwd": "cwd", "--env": "env", "--unset-env": "unset_env"}


def _edit_options(args: argparse.Namespace) -> list[str]:
    """The words after the id, with options read out of them wherever they stand (as
    ``add`` reads them), so ``edit 3 pri:H --cwd /srv`` never renames the task."""
    words: list[str] = []
    rest = iter(args.words)
    for word in rest:
        name, eq, inline = word.partition("=")
        if word in _EDIT_SWITCHES:
            setattr(args, _EDIT_SWITCHES[word], True)
        elif name in _EDIT_VALUED:
            value = inline if eq else next(rest, None)
            if value is None:
                raise UserError(f"{name} needs a value; see 'focusq edit --help'")
            dest = _EDIT_VALUED[name]
            if dest == "cwd":
                args.cwd = value
            else:
                getattr(args, dest).append(value)
        else:
            words.append(word)
    return words


def note_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("id", type=task_id_arg, help="the task's id")
    p.add_argument("text", nargs="+", help="the note")
    p.set_defaults(handler=cmd_note)


def status_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--short", action="store_true", help="one line, for a shell prompt or tmux status bar"
    )
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.set_defaults(handler=cmd_status)


def cmd_add(args: argparse.Namespace) -> int:
    """``focusq add``."""
    from focusq import quickadd
    from focusq.store.ops import tasks

    now = time.time()
    draft = quickadd.parse(args.words, args.command, now=now, shell=args.shell)
    if draft.kind is Kind.MECHANICAL:
        draft.cwd = job_cwd(args.cwd)
        draft.env = job_env(args.env) or None
        draft.environ = dict(os.environ)  # the job runs with this shell's environment
    elif args.cwd or args.env:
        raise UserError("--cwd and --env only go with a command after '--'")
    if args.follow and (draft.kind is not Kind.MECHANICAL or args.json or args.held):
        raise UserError(
            "--follow follows a job's log: give a command after '--', not --json/--held"
        )
    paths = Paths.from_env()
    config = cached_settings(paths)
    if draft.kind is Kind.MECHANICAL:
        from focusq.engine.placement import place

        note = place(draft, config)
        if note:
            print(f"focusq: {note}", file=sys.stderr)
    with open_store(paths, config) as store:
        task_id = store.run(tasks.add_task(draft, now, held=args.held))
        if args.json:
            print_json(json_record(store.run(tasks.get_task(task_id))))
        else:
            print(task_id, flush=True)
        if draft.locks:
            _tell_lock_waits(store, config, task_id, draft.locks)
        if draft.kind is Kind.MECHANICAL and not draft.gate and not args.held:
            autostart_worker(paths, config, store)
        if args.follow:
            from focusq.cli.jobs import follow_new

            return follow_new(store, paths, task_id)
    return 0


def _tell_lock_waits(store: Any, config: Any, task_id: int, locks: list[str]) -> None:
    """One line per lock the new job will wait for: as many jobs hold it, or come before,
    as its cap allows."""
    from focusq.engine.limits import Limits
    from focusq.store.ops import jobs

    ahead: dict[str, list[int]] = {}
    for holder in store.run(jobs.lock_holders(locks, task_id)):
        ahead.setdefault(holder["key"], []).append(holder["id"])
    limits = Limits.of(config)
    for key in locks:
        ids = ahead.get(key, [])
        if ids and len(ids) >= limits.lock_cap(key):
            why = "same worktree" if key.startswith("worktree:") else f"lock {key}"
            more = f" and {len(ids) - 1} more" if len(ids) > 1 else ""
            print(f"focusq: #{task_id} waits for #{ids[0]}{more}: {why}", file=sys.stderr)


def cmd_edit(args: argparse.Namespace) -> int:
    """``focusq edit``."""
    from focusq import quickadd
    from focusq.store.ops import tasks

    now = time.time()
    words = _edit_options(args)
    draft = quickadd.parse(words, args.command, now=now, shell=args.shell, editing=True)
    if draft.command is not None or args.cwd:
        draft.cwd = job_cwd(args.cwd)  # a new command runs here too, by default
    draft.env = job_env(args.env) or None
    for name in args.unset_env:
        if not name.isidentifier():
            raise UserError(f"--unset-env {name!r}: give a variable's name")
    draft.unset_env = list(args.unset_env)
    if not any(getattr(draft, f) not in (None, []) for f in quickadd.TaskDraft.__slots__):
        raise UserError("nothing to change: give title words, tokens, --env or '-- COMMAND'")
    if draft.executor or draft.resources or draft.hosts:  # checked as add checks them
        from focusq.engine.placement import executor_of

        paths = Paths.from_env()
        executor_of(draft, cached_settings(paths))
    with open_store() as store:
        record = store.run(tasks.edit_task(args.id, draft, now))
    if args.json:
        print_json(json_record(record))
    else:
        print(f"edited {task_label(record)}")
    return 0


def cmd_note(args: argparse.Namespace) -> int:
    """``focusq note``."""
    from focusq.store.ops import tasks

    with open_store() as store:
        record = store.run(tasks.add_note(args.id, " ".join(args.text), time.time()))
    print(f"noted on {task_label(record)}")
    return 0


_FINISHABLE = (TaskStatus.QUEUED, TaskStatus.WAITING, TaskStatus.HELD)


def cmd_done(args: argparse.Namespace) -> int:
    """``focusq done``."""
    return _finish(args, "done", TaskStatus.DONE)


def cmd_drop(args: argparse.Namespace) -> int:
    """``focusq drop``."""
    return _finish(args, "drop", TaskStatus.DROPPED)


def _finish(args: argparse.Namespace, action: str, to: TaskStatus) -> int:
    from focusq.cli.many import act_on_many
    from focusq.store.ops import tasks

    # Dropping a recurring job's template stops its series.
    allowed = (*_FINISHABLE, TaskStatus.RECURRING) if action == "drop" else _FINISHABLE

    def act(store: Any, task_id: int) -> str:
        op = tasks.transition(task_id, allowed, to, time.time(), reason="by hand")
        return f"{to.value} {task_label(store.run(op))}"

    return act_on_many(args, action, act)


def cmd_ls(args: argparse.Namespace) -> int:
    """``focusq ls``."""
    statuses: set[str] | None = None if args.all else {s.value for s in ACTIVE}
    if args.archived:
        statuses = None
    if args.status:
        statuses = {s.strip() for arg in args.status for s in arg.split(",") if s.strip()}
        if not statuses:
            raise UserError("--status: give one or more states, like --status queued,running")
        unknown = statuses - {s.value for s in TaskStatus}
        if unknown:
            raise UserError(
                f"--status {', '.join(sorted(unknown))}: unknown; use {', '.join(TaskStatus)}"
            )
    from focusq.cli import ls

    paths = Paths.from_env()
    config = cached_settings(paths)
    with open_store(paths, config) as store:
        revive_worker(paths, config, store)
        if args.json:  # written by SQLite, a page at a time: one line a task
            ls.print_json(store, config, args, statuses)
            return 0
        shown = ls.print_table(store, config, args, statuses, terminal=sys.stdout.isatty())
    if not shown:
        print("nothing here; add work with: focusq add write the launch post +blog")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """``focusq show``."""
    from focusq.store.ops import jobs, tasks

    if args.env:
        return _show_env(args.id)
    paths = Paths.from_env()
    config = cached_settings(paths)
    with open_store(paths, config) as store:
        record = store.run(tasks.get_task(args.id))
        runs = store.run(jobs.runs_of(args.id))
        with_waiting_for(store, config, [record])
    if args.json:
        shown = json_record(record)
        shown["runs"] = [json_run(r) for r in runs]
        print_json(shown)
    else:
        from focusq.cli.output import task_detail

        sys.stdout.write(task_detail(record, runs))
    return 0


def _show_env(task_id: int) -> int:
    """``focusq show ID --env``: the only place the captured environment is shown."""
    from focusq.store.ops import tasks

    with open_store() as store:
        captured, overrides = store.run(tasks.environment(task_id))
    if captured is None and not overrides:
        print(f"#{task_id} captured no environment: its job runs with the worker's")
        return 0
    shown = {**(captured or {}), **overrides}
    for key in sorted(shown):
        mark = "  (--env)" if key in overrides else ""
        print(f"{key}={shown[key]}{mark}".replace("\n", "\\n"))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """``focusq status``: the focus slot, the jobs, and what the inbox holds until when."""
    from focusq.cli.day import held_release
    from focusq.store.ops import focus, tasks

    paths = Paths.from_env()
    config = cached_settings(paths)
    now = time.time()
    with open_store(paths, config) as store:
        counts = store.run(tasks.status_counts())
        session = store.run(focus.current_focus())
        held, release = held_release(store, config, now, focusing=session is not None)
        mechanical = counts[Kind.MECHANICAL]
        if any(mechanical.get(s) for s in ("queued", "running", "paused")):
            autostart_worker(paths, config, store)  # a crashed worker never leaves work waiting
        else:
            revive_worker(paths, config, store)  # a recurring job's due time may have passed
    jobs = counts[Kind.MECHANICAL]
    running = jobs.get("running", 0) + jobs.get("paused", 0)
    queued = jobs.get("queued", 0)
    waiting = jobs.get("waiting", 0) + jobs.get("held", 0)
    creative = sum(counts[Kind.CREATIVE].values())
    if args.json:
        print_json(
            {
                "focus": None if session is None else session["task_id"],
                "running": running,
                "queued": queued,
                "waiting": waiting,
                "creative_open": creative,
                "held": held,
                "release": None if release is None else json_record({"at": release})["at"],
            }
        )
        return 0
    focus_text = "no focus" if session is None else focus_line(session, now)
    parts = [focus_text, f"{running} running", f"{queued} queued"]
    if waiting:
        parts.append(f"{waiting} waiting")
    inbox_text = ""
    if held and release is not None and release <= now:
        inbox_text = f"{held} due"
    elif held and release is not None:
        # "held" is a task's state: the inbox keeps its items instead.
        inbox_text = f"{held} in the inbox till {time.strftime('%H:%M', time.localtime(release))}"
    if args.short:
        print(" · ".join(parts + [inbox_text] * bool(inbox_text)))
    else:
        print(f"focus:    {parts[0]}")
        print(f"jobs:     {', '.join(parts[1:])}")
        print(f"creative: {creative} open")
        if inbox_text:
            print(f"inbox:    {inbox_text}")
    return 0
