"""The ``focusq`` command: dispatch, the quick path that skips argparse, the error boundary.

Quick commands (``add``, ``ls``, ``status`` ...) import only the standard library, the
quick-add parser and the blocking store driver: no pydantic, no asyncio, no Textual.
Everything heavier is imported inside the command that needs it, and each command family
(:mod:`~focusq.cli.tasks`, :mod:`~focusq.cli.jobs`, :mod:`~focusq.cli.day`) only when
its command runs.
"""

from __future__ import annotations

import os
import sys

from focusq import __version__
from focusq.cli.common import not_utf8
from focusq.errors import FocusqError
from focusq.paths import Paths

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the quick path milliseconds; annotations are strings
    import argparse
    from collections.abc import Callable, Sequence
    from typing import Any, NoReturn

    Handler = Callable[[argparse.Namespace], int]

EXIT_USAGE = 2


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
    for name in ("stdout", "stderr"):  # closed by the caller (cmd >&-): written to nowhere
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w"))  # noqa: SIM115 (open till exit)
    try:
        code = _main(list(sys.argv[1:] if argv is None else argv))
        sys.stdout.flush()  # a full disk says so here, not in a traceback at exit
        return code
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        import errno

        from focusq.cli.output import stdout_to_devnull

        no_room = (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG)
        if not isinstance(exc, BrokenPipeError) and exc.errno not in no_room:
            raise
        stdout_to_devnull()  # what could not be written is dropped, not tried again at exit
        if isinstance(exc, BrokenPipeError):  # the reader went away (ls | head): stay quiet
            return 0
        print(f"focusq: could not write the output: {exc.strerror}", file=sys.stderr)
        return 1


def _main(args_list: list[str]) -> int:
    command: list[str] | None = None
    if "--" in args_list:
        cut = args_list.index("--")
        args_list, command = args_list[:cut], args_list[cut + 1 :]
    for word in args_list:  # a job's command after -- may hold any bytes; words are text
        shown = not_utf8(word)
        if shown is not None:
            print(
                f"focusq: '{shown}' is not valid UTF-8; focusq reads its words as UTF-8 "
                "(only a job's command after -- may hold other bytes)",
                file=sys.stderr,
            )
            return EXIT_USAGE
    args = _quick(args_list)
    if args is None or (command is not None and not args.takes_command):
        parser = build_parser(args_list)
        args = parser.parse_args(args_list)
        if command is not None and not getattr(args, "takes_command", False):
            parser.error("'--' only goes with 'add' and 'edit'")
    args.command = command
    handler: Handler = args.handler
    try:
        return handler(args)
    except FocusqError as exc:
        from focusq.cli.output import visible

        print(f"focusq: {visible(str(exc))}", file=sys.stderr)  # a title in it stays inert
        return exc.exit_code


_QUICK_FLAGS = {
    "add": ({"--json", "--shell", "--held", "--follow"}, {"--cwd", "--env"}),
    "status": ({"--short", "--json"}, set()),
}


def _quick(argv: list[str]) -> Any:
    """Arguments of ``add`` and ``status`` read without argparse, or ``None`` to use it.

    These run from shell prompts and scripts many times a day; importing argparse is a
    third of their start-up. Anything unusual (help, an unknown option, a missing
    value) goes to argparse, which then reports it the usual way.
    """
    from types import SimpleNamespace

    if argv[:1] == ["completion"]:  # a Tab press asking for ids: as quick as it gets
        from focusq.cli.completion import quick_args

        return quick_args(argv)
    if argv[:1] == ["ls"]:
        return _quick_ls(argv[1:])
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
    from focusq.cli.tasks import cmd_add, cmd_status

    args.handler = cmd_add if argv[0] == "add" else cmd_status
    args.takes_command = argv[0] == "add"
    return args


_LS_SWITCHES = {"--all": "all", "-a": "all", "--archived": "archived", "--json": "json"}
_LS_SWITCHES |= {"--recurring": "recurring"}
_LS_VALUED = {"--kind": "kind", "--tag": "tag", "--limit": "limit", "-n": "limit"}
_LS_VALUED |= {"--status": "status"}


def _quick_ls(argv: list[str]) -> Any:
    """``ls``'s arguments read without argparse (a script polls ``ls --json``), or ``None``
    for anything argparse should see: help, ``--kind=job``, ``-aj``, a value it refuses."""
    from types import SimpleNamespace

    args = SimpleNamespace(
        all=False,
        archived=False,
        json=False,
        recurring=False,
        kind=None,
        tag=None,
        limit=None,
        status=None,
    )
    rest = iter(argv)
    for word in rest:
        if word in _LS_SWITCHES:
            setattr(args, _LS_SWITCHES[word], True)
            continue
        value = next(rest, None) if word in _LS_VALUED else None
        if value is None or value.startswith("-"):
            return None
        if word == "--status":
            args.status = [*(args.status or ()), value]
        elif word == "--kind" and value not in ("creative", "mechanical"):
            return None
        elif word in ("--limit", "-n"):
            if not (value.isascii() and value.isdigit()):  # "²" is a digit int() refuses
                return None
            args.limit = int(value)
        else:
            setattr(args, _LS_VALUED[word], value)
    from focusq.cli.recurring import cmd_ls

    args.handler, args.takes_command = cmd_ls, False
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
    table = commands()
    for name, (help_text, configure) in table.items():
        if wanted in table and name != wanted:
            continue
        configure(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def cmd_overview(args: argparse.Namespace) -> int:
    """``focusq`` with no command: the TUI in a terminal, else the status and the queue."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        return cmd_tui(args)
    from focusq.cli.tasks import cmd_ls, cmd_status

    args.short, args.json = False, False
    cmd_status(args)
    print()
    args.all, args.kind, args.status, args.tag, args.archived = False, None, None, None, False
    return cmd_ls(args)


def cmd_tui(args: argparse.Namespace) -> int:
    """``focusq ui``: the terminal interface."""
    from focusq.config import load_settings
    from focusq.errors import ConfigError, UserError
    from focusq.tui.app import make_app
    from focusq.tui.preflight import problem

    paths = Paths.from_env()
    settings = load_settings(paths)
    wrong = problem(settings, paths.config_dir)
    if wrong:
        raise ConfigError(wrong)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError("the ui needs a terminal; in a script, use focusq status or focusq ls")
    app = make_app(settings, paths)
    app.run()
    return app.return_code or 0  # 1 after an error nothing handled (see tui-crash.log)


def _ui_args(p: argparse.ArgumentParser) -> None:
    p.set_defaults(handler=cmd_tui)


def commands() -> dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]]:
    """Every command: its one-line help and the function that adds its arguments."""
    from focusq.cli.completion import completion_args
    from focusq.cli.day import (
        block_args,
        blocks_args,
        focus_args,
        inbox_args,
        interrupt_args,
        review_args,
    )
    from focusq.cli.doctor import doctor_args
    from focusq.cli.executors import executor_args
    from focusq.cli.groups import group_args
    from focusq.cli.jobs import action_args, batch_args, log_args, wait_args, worker_args
    from focusq.cli.recurring import install_timer_args, ls_args
    from focusq.cli.tasks import (
        add_args,
        clean_args,
        edit_args,
        finish_args,
        note_args,
        show_args,
        status_args,
    )

    return {
        "add": ("Add a task: words make a creative task, '-- CMD' a mechanical job.", add_args),
        "ls": ("List tasks: open ones by default, in the order they will be taken.", ls_args),
        "show": ("Show one task in full.", show_args),
        "done": ("Mark open tasks done.", finish_args("done")),
        "drop": ("Drop open tasks from the plan.", finish_args("drop")),
        "edit": (
            "Change an open task with quick-add tokens; title words replace the title.",
            edit_args,
        ),
        "note": ("Add a line to a task's note.", note_args),
        "clean": ("Archive finished tasks out of the lists (the review keeps them).", clean_args),
        "status": ("What is going on: focus and job counts.", status_args),
        "log": ("Print a job's log; -f follows it while it runs.", log_args),
        "cancel": (
            "Cancel a task; a running job's process group is stopped.",
            action_args("cancel"),
        ),
        "pause": ("Pause a running job (SIGSTOP to its group).", action_args("pause")),
        "resume": ("Resume a paused job (SIGCONT to its group).", action_args("resume")),
        "retry": ("Queue a finished job again, with a fresh retry budget.", action_args("retry")),
        "hold": ("Hold a queued task: the worker will not start it.", action_args("hold")),
        "release": ("Release a held task.", action_args("release")),
        "approve": ("Approve a job waiting at gate:approve.", action_args("approve")),
        "wait": ("Wait for tasks to end; exit 0 when all succeeded, 1 if not.", wait_args),
        "batch": ("Add a set of tasks with dependencies from a TOML file, in one go.", batch_args),
        "worker": ("Start the background worker (--foreground: run it here).", worker_args),
        "group": (
            "Groups: caps, policy, counts; set NAME --parallel N, pause, resume.",
            group_args,
        ),
        "ui": ("Open the terminal interface (what focusq alone does in a terminal).", _ui_args),
        "blocks": (
            "Show the day's sync and async time blocks, the current one marked.",
            blocks_args,
        ),
        "focus": ("Focus on a creative task; --stop, --done, --pause, --resume.", focus_args),
        "interrupt": (
            "Capture an interruption for the next batch (--urgent breaks through).",
            interrupt_args,
        ),
        "inbox": ("List today's interruptions, held and delivered.", inbox_args),
        "block": ("Mark a task as waiting on a job (the TUI then offers a switch).", block_args),
        "review": ("How a day went: done, focus, interruptions, jobs; what is left.", review_args),
        "completion": ("Print the shell completion script for bash, zsh or fish.", completion_args),
        "install-timer": (
            "Write a systemd user timer that starts a worker when a recurring job is due.",
            install_timer_args,
        ),
        "executor": (
            "Executors: where jobs run; start or stop the Dask cluster focusq runs for one.",
            executor_args,
        ),
        "doctor": (
            "Check the setup: data, database, worker, config, themes, terminal.",
            doctor_args,
        ),
    }
