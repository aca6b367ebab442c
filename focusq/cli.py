"""The ``focusq`` command.

Quick commands (``add``, ``ls``, ``status`` ...) import only the standard library, the
quick-add parser and the blocking store driver: no pydantic, no asyncio, no Textual.
Everything heavier is imported inside the command that needs it.
"""

from __future__ import annotations

import json
import os
import sys
import time

from focusq import __version__
from focusq.errors import FocusqError, UserError
from focusq.paths import Paths
from focusq.states import ACTIVE, Kind, TaskStatus

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the quick path milliseconds; annotations are strings
    import argparse
    from collections.abc import Callable, Sequence
    from typing import Any, NoReturn

    Handler = Callable[[argparse.Namespace], int]

EXIT_USAGE = 2

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
  ~mech ~creative  override the inferred kind
"""


def _parser_class() -> type[argparse.ArgumentParser]:
    """argparse, imported only when a command needs it (see :func:`_quick`)."""
    import argparse

    class _Formatter(argparse.RawDescriptionHelpFormatter):
        """Help laid out for the terminal, without argparse importing shutil to measure it."""

        def __init__(self, prog: str) -> None:
            try:
                width = int(os.environ.get("COLUMNS", 0)) or os.get_terminal_size().columns
            except (OSError, ValueError):
                width = 80
            super().__init__(prog, width=max(width - 2, 40))

    class _Parser(argparse.ArgumentParser):
        """argparse that reports a usage mistake in one line, exit code 2."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("formatter_class", _Formatter)
            super().__init__(*args, **kwargs)

        def error(self, message: str) -> NoReturn:
            self.exit(EXIT_USAGE, f"focusq: {message}; see '{self.prog} --help'\n")

    return _Parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line in ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    command: list[str] | None = None
    if "--" in args_list:
        cut = args_list.index("--")
        args_list, command = args_list[:cut], args_list[cut + 1 :]
    args = _quick(args_list)
    if args is None:
        parser = build_parser(args_list)
        args = parser.parse_args(args_list)
        if command is not None and not getattr(args, "takes_command", False):
            parser.error("'--' only goes with 'add' and 'edit'")
    args.command = command
    handler: Handler = args.handler
    try:
        return handler(args)
    except FocusqError as exc:
        print(f"focusq: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (focusq ls | head); stay quiet like other tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


_QUICK_FLAGS = {
    "add": ({"--json", "--shell"}, {"--cwd", "--env"}),
    "status": ({"--short", "--json"}, set()),
}


def _quick(argv: list[str]) -> Any:
    """Arguments of ``add`` and ``status`` read without argparse, or ``None`` to use it.

    These run from shell prompts and scripts many times a day; importing argparse is a
    third of their start-up. Anything unusual (help, an unknown option, a missing
    value) goes to argparse, which then reports it the usual way.
    """
    from types import SimpleNamespace

    if not argv or argv[0] not in _QUICK_FLAGS:
        return None
    switches, valued = _QUICK_FLAGS[argv[0]]
    args = SimpleNamespace(words=[], env=[], cwd=None, **{f[2:]: False for f in switches})
    rest = iter(argv[1:])
    for word in rest:
        if word in switches:
            setattr(args, word[2:], True)
        elif word in valued:
            value = next(rest, None)
            if value is None:
                return None
            if word == "--env":
                args.env.append(value)
            else:
                args.cwd = value
        elif word.startswith("-"):
            return None
        elif argv[0] == "add":
            args.words.append(word)
        else:
            return None
    args.handler = cmd_add if argv[0] == "add" else cmd_status
    args.takes_command = argv[0] == "add"
    return args


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The command tree; with ``argv`` naming a command, only that command's branch.

    Building one sub-parser instead of all of them keeps quick-add fast; the help
    a user sees is the same either way.
    """

    parser = _parser_class()(
        prog="focusq",
        description="A personal work orchestrator: one SQLite queue, mechanical jobs in the "
        "background, creative work in one focus slot. With no command, shows the day's queue.",
        epilog="Data lives in $FOCUSQ_HOME, else ~/.local/share/focusq. "
        "'focusq COMMAND --help' describes each command.",
    )
    parser.add_argument("--version", action="version", version=f"focusq {__version__}")
    parser.set_defaults(handler=cmd_overview)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=type(parser))
    wanted = next((a for a in argv if not a.startswith("-")), None)
    for name, (help_text, configure) in _COMMANDS.items():
        if wanted in _COMMANDS and name != wanted:
            continue
        configure(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def _add_args(p: argparse.ArgumentParser) -> None:
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
    p.set_defaults(handler=cmd_add, takes_command=True)


def _ls_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--all", "-a", action="store_true", help="every task, finished ones too")
    p.add_argument("--kind", choices=[k.value for k in Kind], help="only this kind")
    p.add_argument(
        "--status",
        action="append",
        metavar="STATUS",
        help=f"only these states (repeat or comma-separate): {', '.join(TaskStatus)}",
    )
    p.add_argument("--tag", help="only tasks with this tag")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.set_defaults(handler=cmd_ls)


def _show_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("id", type=_task_id, help="the task's id")
    p.add_argument("--json", action="store_true", help="print it as JSON")
    p.set_defaults(handler=cmd_show)


def _id_only(handler: Handler) -> Callable[[argparse.ArgumentParser], None]:
    def configure(p: argparse.ArgumentParser) -> None:
        p.add_argument("id", type=_task_id, help="the task's id")
        p.set_defaults(handler=handler)

    return configure


def _edit_args(p: argparse.ArgumentParser) -> None:
    p.usage = "focusq edit ID [TOKENS...] [-- COMMAND ARGS...]"
    p.epilog = _GRAMMAR + "\nafter:, afterany: and lock: replace the old lists."
    p.add_argument("id", type=_task_id, help="the task's id")
    import argparse

    p.add_argument("words", nargs=argparse.REMAINDER, help="title words and tokens")
    p.add_argument("--shell", action="store_true", help="run the new command with 'sh -c'")
    p.add_argument("--cwd", help="folder the new command runs in (default: the current one)")
    p.add_argument("--json", action="store_true", help="print the changed task as JSON")
    p.set_defaults(handler=cmd_edit, takes_command=True)


def _note_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("id", type=_task_id, help="the task's id")
    p.add_argument("text", nargs="+", help="the note")
    p.set_defaults(handler=cmd_note)


def _status_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--short", action="store_true", help="one line, for a shell prompt or tmux status bar"
    )
    p.add_argument("--json", action="store_true", help="print the counts as JSON")
    p.set_defaults(handler=cmd_status)


def _task_id(text: str) -> int:
    text = text.lstrip("#")
    if not text.isdigit() or int(text) == 0:
        import argparse

        raise argparse.ArgumentTypeError(f"{text!r} is not a task id (a number like 12)")
    return int(text)


# -- plumbing -------------------------------------------------------------------------------


def _settings(paths: Paths) -> Any:
    from focusq import settings

    return settings.load(paths)


def _open_store(paths: Paths | None = None, config: Any = None) -> Any:
    from focusq.store.sync import SyncStore

    paths = paths or Paths.from_env()
    config = config or _settings(paths)
    store = SyncStore(paths.database, busy_timeout=config.store.busy_timeout)
    store.open()
    return store


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


def _json_record(record: dict[str, Any]) -> dict[str, Any]:
    """Timestamps as ISO 8601 with the local offset; everything else as stored."""
    from datetime import datetime

    out = dict(record)
    for key in ("created_at", "updated_at", "started_at", "ended_at", "at"):
        if out.get(key) is not None:
            out[key] = datetime.fromtimestamp(out[key]).astimezone().isoformat(timespec="seconds")
    return out


# -- commands -------------------------------------------------------------------------------


def cmd_add(args: argparse.Namespace) -> int:
    """``focusq add``."""
    from focusq import quickadd
    from focusq.store.ops import tasks

    now = time.time()
    draft = quickadd.parse(args.words, args.command, now=now, shell=args.shell)
    if draft.kind is Kind.MECHANICAL:
        draft.cwd = _cwd(args.cwd)
        draft.env = _env(args.env) or None
    elif args.cwd or args.env:
        raise UserError("--cwd and --env only go with a command after '--'")
    paths = Paths.from_env()
    config = _settings(paths)
    if draft.kind is Kind.MECHANICAL and draft.command and draft.cwd:
        from focusq.engine.shared import implicit_lock

        lock = implicit_lock(draft.command, draft.cwd, config.engine.shared_state_words)
        if lock and lock not in (draft.locks or []):
            draft.locks = [*(draft.locks or []), lock]
    with _open_store(paths, config) as store:
        task_id = store.run(tasks.add_task(draft, now))
        if args.json:
            _print_json(_json_record(store.run(tasks.get_task(task_id))))
        else:
            print(task_id)
        if draft.locks:
            _tell_lock_waits(store, task_id, draft.locks)
        if draft.kind is Kind.MECHANICAL and not draft.gate:
            _autostart(paths, config, store)
    return 0


def _tell_lock_waits(store: Any, task_id: int, locks: list[str]) -> None:
    from focusq.store.ops import jobs

    for holder in store.run(jobs.lock_holders(locks, task_id)):
        key = holder["key"]
        why = "same worktree" if key.startswith("worktree:") else f"lock {key}"
        print(f"focusq: #{task_id} waits for #{holder['id']}: {why}", file=sys.stderr)


def _autostart(paths: Paths, config: Any, store: Any) -> None:
    if not config.worker.autostart:
        return
    from focusq.engine.launch import ensure_worker

    ensure_worker(paths, store)


def _cwd(given: str | None) -> str:
    if given is None:
        return os.getcwd()
    path = os.path.abspath(os.path.expanduser(given))
    if not os.path.isdir(path):
        raise UserError(f"--cwd {given}: no such folder; give an existing one")
    return path


def _env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise UserError(f"--env {pair!r}: write it as NAME=value")
        env[key] = value
    return env


def cmd_edit(args: argparse.Namespace) -> int:
    """``focusq edit``."""
    from focusq import quickadd
    from focusq.store.ops import tasks

    now = time.time()
    draft = quickadd.parse(args.words, args.command, now=now, shell=args.shell, editing=True)
    if draft.command is not None:
        draft.cwd = _cwd(args.cwd)
    if not any(getattr(draft, f) not in (None, []) for f in quickadd.TaskDraft.__slots__):
        raise UserError("nothing to change: give title words, tokens or '-- COMMAND'")
    with _open_store() as store:
        record = store.run(tasks.edit_task(args.id, draft, now))
    if args.json:
        _print_json(_json_record(record))
    else:
        print(f"edited {_label(record)}")
    return 0


def cmd_note(args: argparse.Namespace) -> int:
    """``focusq note``."""
    from focusq.store.ops import tasks

    with _open_store() as store:
        record = store.run(tasks.add_note(args.id, " ".join(args.text), time.time()))
    print(f"noted on {_label(record)}")
    return 0


_FINISHABLE = (TaskStatus.QUEUED, TaskStatus.WAITING, TaskStatus.HELD)


def cmd_done(args: argparse.Namespace) -> int:
    """``focusq done``."""
    from focusq.store.ops import tasks

    with _open_store() as store:
        record = store.run(
            tasks.transition(args.id, _FINISHABLE, TaskStatus.DONE, time.time(), reason="by hand")
        )
    print(f"done {_label(record)}")
    return 0


def cmd_drop(args: argparse.Namespace) -> int:
    """``focusq drop``."""
    from focusq.store.ops import tasks

    with _open_store() as store:
        record = store.run(
            tasks.transition(
                args.id, _FINISHABLE, TaskStatus.DROPPED, time.time(), reason="by hand"
            )
        )
    print(f"dropped {_label(record)}")
    return 0


def cmd_ls(args: argparse.Namespace) -> int:
    """``focusq ls``."""
    from focusq.store.ops import tasks

    statuses: set[str] | None = None if args.all else {s.value for s in ACTIVE}
    if args.status:
        statuses = {s.strip() for arg in args.status for s in arg.split(",") if s.strip()}
        unknown = statuses - {s.value for s in TaskStatus}
        if unknown:
            raise UserError(
                f"--status {', '.join(sorted(unknown))}: unknown; use {', '.join(TaskStatus)}"
            )
    with _open_store() as store:
        if args.json:
            records = store.run(tasks.list_tasks(statuses, kind=args.kind, tag=args.tag))
            _print_json([_json_record(r) for r in records])
            return 0
        table = store.run(tasks.task_table(statuses, kind=args.kind, tag=args.tag, width=_width()))
    if table:
        sys.stdout.write(table)
    else:
        print("nothing here; add work with: focusq add write the launch post +blog")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """``focusq show``."""
    from focusq.store.ops import jobs, tasks

    with _open_store() as store:
        record = store.run(tasks.get_task(args.id))
        runs = store.run(jobs.runs_of(args.id))
    if args.json:
        shown = _json_record(record)
        shown["runs"] = [_json_run(r) for r in runs]
        _print_json(shown)
    else:
        from focusq.clifmt import task_detail

        sys.stdout.write(task_detail(record, runs))
    return 0


def _json_run(run: dict[str, Any]) -> dict[str, Any]:
    out = _json_record(run)
    out.pop("id", None)
    return out


def cmd_status(args: argparse.Namespace) -> int:
    """``focusq status``."""
    from focusq.store.ops import focus, tasks

    with _open_store() as store:
        counts = store.run(tasks.status_counts())
        session = store.run(focus.current_focus())
    jobs = counts[Kind.MECHANICAL]
    running = jobs.get("running", 0) + jobs.get("paused", 0)
    queued = jobs.get("queued", 0)
    waiting = jobs.get("waiting", 0) + jobs.get("held", 0)
    creative = sum(counts[Kind.CREATIVE].values())
    if args.json:
        _print_json(
            {
                "focus": None if session is None else session["task_id"],
                "running": running,
                "queued": queued,
                "waiting": waiting,
                "creative_open": creative,
            }
        )
        return 0
    focus_text = "no focus" if session is None else _focus_line(session, time.time())
    parts = [focus_text, f"{running} running", f"{queued} queued"]
    if waiting:
        parts.append(f"{waiting} waiting")
    if args.short:
        print(" · ".join(parts))
    else:
        print(f"focus:    {parts[0]}")
        print(f"jobs:     {', '.join(parts[1:])}")
        print(f"creative: {creative} open")
    return 0


def cmd_overview(args: argparse.Namespace) -> int:
    """``focusq`` with no command: the TUI in a terminal, else the status and the queue."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        return cmd_tui(args)
    args.short, args.json = False, False
    cmd_status(args)
    print()
    args.all, args.kind, args.status, args.tag = False, None, None, None
    return cmd_ls(args)


# -- jobs -----------------------------------------------------------------------------------

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
    config = _settings(paths)
    with _open_store(paths, config) as store:
        record = store.run(jobs.request(args.id, action, time.time()))
        if record.get("intent"):
            word = {"cancel": "cancelling"}.get(action, _ACTION_WORDS[action])
        else:
            word = _ACTION_WORDS[action]
        print(f"{word} {_label(record)}")
        if action in _NEEDS_WORKER and record["kind"] == Kind.MECHANICAL:
            _autostart(paths, config, store)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """``focusq worker``: run one in the foreground, or start one in the background."""
    paths = Paths.from_env()
    if not args.foreground:
        from focusq.engine.launch import spawn_worker, worker_alive

        with _open_store(paths) as store:
            holder = worker_alive(store)
        if holder:
            print(f"a worker already runs: pid {holder['pid']} on {holder['host']}")
            return 0
        print(f"started worker pid {spawn_worker(paths)}; log: {paths.home}/worker.log")
        return 0
    import asyncio
    import logging

    from focusq.config import load_settings
    from focusq.engine.worker import WorkerBusy, run_worker

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
    from focusq.store.ops import jobs

    paths = Paths.from_env()
    with _open_store(paths) as store:
        run = _run_of(store, args.id, args.attempt)
        out = sys.stdout.buffer
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


def cmd_wait(args: argparse.Namespace) -> int:
    """``focusq wait``: block until the tasks end; exit 0 when all of them succeeded."""
    from focusq.store.ops import tasks

    paths = Paths.from_env()
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    with _open_store(paths) as store:
        for task_id in args.ids:
            store.run(tasks.get_task(task_id))  # a missing id is an error now, not a hang

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
    config = _settings(paths)
    drafts = read_batch(args.file, now=time.time(), cwd=os.getcwd())
    with _open_store(paths, config) as store:
        ids = store.run(tasks.add_tasks(drafts, time.time()))
        for task_id in ids:
            print(task_id)
        if any(d.kind is Kind.MECHANICAL for d in drafts):
            _autostart(paths, config, store)
    return 0


def cmd_tui(args: argparse.Namespace) -> int:
    """``focusq ui``: the terminal interface."""
    from focusq.config import load_settings
    from focusq.tui.app import make_app

    paths = Paths.from_env()
    make_app(load_settings(paths), paths).run()
    return 0


def cmd_blocks(args: argparse.Namespace) -> int:
    """``focusq blocks``: the day's sync and async blocks, the current one marked."""
    from datetime import date, datetime

    from focusq.config import load_settings
    from focusq.focus.blocks import day_plan, next_boundary

    settings = load_settings(Paths.from_env())
    blocks = settings.time_blocks()
    now = datetime.now()
    try:
        day = date.fromisoformat(args.date) if args.date else now.date()
    except ValueError:
        raise UserError(f"--date {args.date}: write it as YYYY-MM-DD") from None
    plan = day_plan(blocks, day)
    if args.json:
        _print_json(
            [
                {
                    "start": seg.start.isoformat(timespec="minutes"),
                    "end": seg.end.isoformat(timespec="minutes"),
                    "mode": seg.mode,
                    "label": seg.label,
                    "current": seg.start <= now < seg.end,
                }
                for seg in plan
            ]
        )
        return 0
    if not blocks:
        print("no blocks configured: the whole day is free time.")
        print("add [[blocks]] tables to the config file; see 'focusq blocks --help'")
        return 0
    print(day.strftime("%a %d %b %Y"))
    for seg in plan:
        current = seg.start <= now < seg.end
        end = "24:00" if seg.end.date() > day else f"{seg.end:%H:%M}"
        line = f"{'▶' if current else ' '} {seg.start:%H:%M}-{end}  {seg.mode:<5}  {seg.label}"
        if current:
            at, following = next_boundary(blocks, now)
            line += f"   (now; {following.mode} from {at:%H:%M})"
        print(line.rstrip())
    return 0


def cmd_focus(args: argparse.Namespace) -> int:
    """``focusq focus``: start, show, pause, resume or stop the one focus session."""
    from focusq.store.ops import focus

    paths = Paths.from_env()
    config = _settings(paths)
    now = time.time()
    with _open_store(paths, config) as store:
        if args.stop or args.done:
            session = store.run(focus.stop_focus(now, done=args.done))
            spent = now - session["started_at"] - session["paused_seconds"]
            print(f"focused {_minutes(spent)} on #{session['task_id']} {session['title']}")
            return 0
        if args.pause or args.resume:
            session = store.run(focus.pause_focus(now, resume=args.resume))
            print(f"{'resumed' if args.resume else 'paused'} #{session['task_id']}")
            return 0
        if args.id is None:
            session = store.run(focus.current_focus())
            if session is None:
                print("no focus; 'focusq focus ID' starts a session")
            else:
                print(_focus_line(session, now))
            return 0
        minutes = args.minutes or config.focus.default_minutes
        session = store.run(focus.start_focus(args.id, now, minutes, switch=args.switch))
    warning = _gap_warning(paths, config.focus.min_minutes)
    if warning:
        print(f"focusq: {warning}", file=sys.stderr)
    print(f"focus on #{session['task_id']} {session['title']} for {minutes} min")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    """``focusq review``: how a day went, from the event log."""
    import shutil

    from focusq.review import export
    from focusq.review.day import DayLog, day_window
    from focusq.review.figures import figures
    from focusq.store.ops import review

    paths = Paths.from_env()
    config = _settings(paths)
    blocks = _blocks_of(config)
    now = time.time()
    day = _review_day(args.date, now)
    start, end = day_window(day)
    with _open_store(paths, config) as store:
        if args.close:
            store.run(review.close_day(day.isoformat(), now))
        rows = store.run(review.day_log(start, end, day.isoformat()))
    figured = figures(DayLog.of(day, rows, blocks, now))
    if args.json:
        _print_json(figured.to_json())
    elif args.markdown:
        sys.stdout.write(export.to_markdown(figured))
    else:
        width = shutil.get_terminal_size((100, 24)).columns if sys.stdout.isatty() else 100
        sys.stdout.write(export.to_text(figured, width))
    return 0


def _blocks_of(config: Any) -> list[Any]:
    """The configured blocks, built from the cached settings (validated when cached)."""
    from focusq.focus.blocks import make_block

    return [
        make_block(b["days"], b["start"], b["end"], b["mode"], b.get("label", ""))
        for b in config.blocks
    ]


def _review_day(text: str | None, now: float) -> Any:
    from datetime import date

    if not text:
        from focusq.review.day import review_day

        return review_day(now)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--date {text}: write the day as YYYY-MM-DD") from None


def _gap_warning(paths: Paths, min_minutes: int) -> str | None:
    from datetime import datetime

    from focusq.config import load_settings
    from focusq.focus.policy import gap_warning

    return gap_warning(load_settings(paths).time_blocks(), datetime.now(), min_minutes)


def _minutes(seconds: float) -> str:
    from focusq.durations import format_duration

    return format_duration(max(0.0, seconds))


def _focus_line(session: dict[str, Any], now: float) -> str:
    paused = now - session["paused_at"] if session["paused_at"] else 0.0
    spent = now - session["started_at"] - session["paused_seconds"] - paused
    state = " (paused)" if session["paused_at"] else ""
    return (
        f"#{session['task_id']} {session['title']}: {_minutes(spent)} of "
        f"{session['planned_minutes']}m{state}"
    )


def cmd_block(args: argparse.Namespace) -> int:
    """``focusq block ID --on JOB``: the task waits on a job (the TUI offers a switch)."""
    from focusq import quickadd
    from focusq.store.ops import tasks

    now = time.time()
    with _open_store() as store:
        task = store.run(tasks.get_task(args.id))
        draft = quickadd.TaskDraft()
        draft.afterany = [*task["afterany"], args.on]
        record = store.run(tasks.edit_task(args.id, draft, now))
    print(f"#{record['id']} {record['title']} waits on #{args.on}")
    return 0


def cmd_interrupt(args: argparse.Namespace) -> int:
    """``focusq interrupt``: capture something for later, without leaving the work."""
    from focusq.store.ops import inbox

    with _open_store() as store:
        item = store.run(inbox.capture(" ".join(args.text), time.time(), urgent=args.urgent))
    print(f"captured #{item}" + (" (urgent)" if args.urgent else ""))
    return 0


def cmd_inbox(args: argparse.Namespace) -> int:
    """``focusq inbox``: interruptions held and delivered."""
    from datetime import datetime

    from focusq.store.ops import inbox

    since = 0.0 if args.all else datetime.now().replace(hour=0, minute=0, second=0).timestamp()
    with _open_store() as store:
        items = store.run(inbox.inbox(since=since))
    if args.json:
        _print_json([_json_record(i) | {"urgent": bool(i["urgent"])} for i in items])
        return 0
    if not items:
        print("the inbox is empty")
        return 0
    for item in items:
        when = datetime.fromtimestamp(item["at"]).strftime("%H:%M")
        state = f"batch {item['batch']}" if item["delivered_at"] else "held"
        flag = " !" if item["urgent"] else ""
        print(f"{item['id']:>4}  {when}  {state:<8}{flag}  {item['text']}")
    return 0


def _label(record: dict[str, Any]) -> str:
    return f"#{record['id']} {record['title']}"


def _width() -> int:
    """Columns to fit: ``$COLUMNS``, else the terminal's; unlimited when not a terminal."""
    try:
        return (
            int(os.environ.get("COLUMNS", 0)) or os.get_terminal_size(sys.stdout.fileno()).columns
        )
    except (OSError, ValueError):
        return 1 << 20  # not a terminal: nothing is cut


def _action(action: str) -> Callable[[argparse.ArgumentParser], None]:
    def configure(p: argparse.ArgumentParser) -> None:
        p.add_argument("id", type=_task_id, help="the task's id")
        p.set_defaults(handler=cmd_action, action=action)

    return configure


def _focus_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("id", type=_task_id, nargs="?", help="the creative task to focus on")
    p.add_argument("--switch", action="store_true", help="end the current session first")
    p.add_argument(
        "--minutes", type=int, metavar="N", help="planned length (focus.default_minutes)"
    )
    p.add_argument("--stop", action="store_true", help="end the session")
    p.add_argument("--done", action="store_true", help="end the session and mark its task done")
    p.add_argument("--pause", action="store_true", help="pause the session")
    p.add_argument("--resume", action="store_true", help="resume a paused session")
    p.set_defaults(handler=cmd_focus)


def _block_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("id", type=_task_id, help="the task that waits")
    p.add_argument("--on", type=_task_id, required=True, metavar="JOB", help="the job it waits on")
    p.set_defaults(handler=cmd_block)


def _interrupt_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("text", nargs="+", help="what came up")
    p.add_argument("--urgent", action="store_true", help="break through focus and async time")
    p.set_defaults(handler=cmd_interrupt)


def _inbox_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--all", action="store_true", help="every day, not only today")
    p.add_argument("--json", action="store_true", help="print the items as JSON")
    p.set_defaults(handler=cmd_inbox)


def _blocks_args(p: argparse.ArgumentParser) -> None:
    p.epilog = _BLOCKS_HELP
    p.add_argument("--date", metavar="YYYY-MM-DD", help="another day's plan")
    p.add_argument("--json", action="store_true", help="print the segments as JSON")
    p.set_defaults(handler=cmd_blocks)


_BLOCKS_HELP = """\
Blocks come from [[blocks]] tables in the config file:

  [[blocks]]
  days = "mon-fri"        # mon-fri, sat,sun, mon,wed-fri or daily
  start = "09:00"
  end = "10:00"
  mode = "sync"           # sync: meetings, replies; async: maker time
  label = "standup and email"

Time outside every block is free. Overlapping blocks are a config error.
"""


def _review_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--date", metavar="YYYY-MM-DD", help="another day (default: today)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--markdown", action="store_true", help="print Markdown, timeline as SVG")
    out.add_argument("--json", action="store_true", help="print every figure as JSON")
    p.add_argument("--close", action="store_true", help="close the day, then show it")
    p.set_defaults(handler=cmd_review)


def _ui_args(p: argparse.ArgumentParser) -> None:
    p.set_defaults(handler=cmd_tui)


def _worker_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--foreground", action="store_true", help="run here, logging to stderr, until idle"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log every job's start and end")
    p.set_defaults(handler=cmd_worker)


def _log_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("id", type=_task_id, help="the task's id")
    p.add_argument("-f", "--follow", action="store_true", help="follow until the run ends")
    p.add_argument("--attempt", type=int, metavar="N", help="this attempt (default: the last)")
    p.set_defaults(handler=cmd_log)


def _wait_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("ids", type=_task_id, nargs="+", metavar="ID", help="tasks to wait for")
    p.add_argument("--timeout", type=float, metavar="S", help="give up after S seconds (exit 124)")
    p.set_defaults(handler=cmd_wait)


def _batch_args(p: argparse.ArgumentParser) -> None:
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


_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "add": ("Add a task: words make a creative task, '-- CMD' a mechanical job.", _add_args),
    "ls": ("List tasks: open ones by default, in the order they will be taken.", _ls_args),
    "show": ("Show one task in full.", _show_args),
    "done": ("Mark an open task done.", _id_only(cmd_done)),
    "drop": ("Drop an open task from the plan.", _id_only(cmd_drop)),
    "edit": (
        "Change an open task with quick-add tokens; title words replace the title.",
        _edit_args,
    ),
    "note": ("Add a line to a task's note.", _note_args),
    "status": ("What is going on: focus and job counts.", _status_args),
    "log": ("Print a job's log; -f follows it while it runs.", _log_args),
    "cancel": ("Cancel a task; a running job's process group is stopped.", _action("cancel")),
    "pause": ("Pause a running job (SIGSTOP to its group).", _action("pause")),
    "resume": ("Resume a paused job (SIGCONT to its group).", _action("resume")),
    "retry": ("Queue a finished job again, with a fresh retry budget.", _action("retry")),
    "hold": ("Hold a queued task: the worker will not start it.", _action("hold")),
    "release": ("Release a held task.", _action("release")),
    "approve": ("Approve a job waiting at gate:approve.", _action("approve")),
    "wait": ("Wait for tasks to end; exit 0 when all succeeded, 1 if not.", _wait_args),
    "batch": ("Add a set of tasks with dependencies from a TOML file, in one go.", _batch_args),
    "worker": ("Start the background worker (--foreground: run it here).", _worker_args),
    "ui": ("Open the terminal interface (what focusq alone does in a terminal).", _ui_args),
    "blocks": ("Show the day's sync and async time blocks, the current one marked.", _blocks_args),
    "focus": ("Focus on a creative task; --stop, --done, --pause, --resume.", _focus_args),
    "interrupt": (
        "Capture an interruption for the next batch (--urgent breaks through).",
        _interrupt_args,
    ),
    "inbox": ("List today's interruptions, held and delivered.", _inbox_args),
    "block": ("Mark a task as waiting on a job (the TUI then offers a switch).", _block_args),
    "review": ("How a day went: done, focus, interruptions, jobs; what is left.", _review_args),
}
