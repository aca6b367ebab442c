"""The day's commands: ``focus``, ``interrupt``, ``inbox``, ``blocks``, ``block``, ``review``."""

from __future__ import annotations

import sys
import time

from focusq.cli.common import cached_settings, day_arg, open_store, positive_int, task_id_arg
from focusq.cli.output import (
    duration_text,
    focus_line,
    json_record,
    print_json,
    task_label,
    visible,
)
from focusq.errors import UserError
from focusq.paths import Paths

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the quick path milliseconds; annotations are strings
    import argparse
    from typing import Any


def cmd_blocks(args: argparse.Namespace) -> int:
    """``focusq blocks``: the day's sync and async blocks, the current one marked, and the
    calendar's meetings among them."""
    from datetime import datetime, timedelta

    from focusq.focus.blocks import day_plan, next_boundary

    paths = Paths.from_env()
    config = cached_settings(paths)
    now = datetime.now()
    day = day_arg(args.date) if args.date else now.date()
    blocks = day_blocks(paths, config, [day, day + timedelta(days=1)])
    plan = day_plan(blocks, day)
    if args.json:
        print_json(
            [
                {
                    "start": seg.start.astimezone().isoformat(timespec="seconds"),
                    "end": seg.end.astimezone().isoformat(timespec="seconds"),
                    "mode": seg.mode,
                    "label": seg.label,
                    "source": seg.source or None,
                    "current": seg.start <= now < seg.end,
                }
                for seg in plan
            ]
        )
        return 0
    if all(seg.mode == "free" for seg in plan):
        if config.calendar.ics:
            print(f"no meetings in the calendar and no blocks on {day:%a %d %b %Y}: free time.")
        else:
            print("no blocks configured: the whole day is free time.")
            print("add [[blocks]] tables to the config file; see 'focusq blocks --help'")
        return 0
    print(day.strftime("%a %d %b %Y"))
    # A column says which blocks are meetings, on a day that has some.
    meetings = any(seg.source == "calendar" for seg in plan)
    for seg in plan:
        current = seg.start <= now < seg.end
        end = "24:00" if seg.end.date() > day else f"{seg.end:%H:%M}"
        line = f"{'▶' if current else ' '} {seg.start:%H:%M}-{end}  {seg.mode:<5}  "
        if meetings:
            line += f"{'calendar' if seg.source == 'calendar' else '':<8}  "
        line += visible(seg.label)
        if current:
            at, following = next_boundary(blocks, now)
            line += f"   (now; {following.mode} from {at:%H:%M})"
        print(line.rstrip())
    return 0


def day_blocks(paths: Paths, config: Any, days: Any, *, parse: bool = True) -> list[Any]:
    """The configured blocks and the calendar's meetings on ``days``.

    A calendar file that cannot be used is said in one line on stderr; the rest still work.
    With ``parse=False`` (the quick path) only meetings already cached are included.
    """
    blocks = _blocks_of(config)
    calendar = getattr(config, "calendar", None)
    if calendar is None or not calendar.ics:
        return blocks
    from focusq.calendar import meeting_blocks

    meetings, problems = meeting_blocks(paths.home, paths.config_dir, calendar, days, parse=parse)
    for problem in problems if parse else ():  # a status line stays one line
        print(f"focusq: {visible(problem)}", file=sys.stderr)
    return blocks + meetings


def cmd_focus(args: argparse.Namespace) -> int:
    """``focusq focus``: start, show, pause, resume or stop the one focus session."""
    from focusq.store.ops import focus

    paths = Paths.from_env()
    config = cached_settings(paths)
    now = time.time()
    if args.trim is not None:
        from focusq.cli.planning import trim

        return trim(paths, config, args.trim, args.to, now)
    if args.to is not None:
        raise UserError("--to goes with --trim ID: the session to trim")
    with open_store(paths, config) as store:
        if args.new is not None:
            from focusq.cli.planning import add_creative

            args.id = add_creative(store, args.new, now)
        if args.stop or args.done:
            session = store.run(focus.stop_focus(now, done=args.done))
            spent = now - session["started_at"] - session["paused_seconds"]
            label = task_label({"id": session["task_id"], "title": session["title"]})
            print(f"focused {duration_text(spent)} on {label}")
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
                print(focus_line(session, now))
            return 0
        minutes = args.minutes or config.focus.default_minutes
        session = store.run(focus.start_focus(args.id, now, minutes, switch=args.switch))
    warning = _gap_warning(paths, config)
    if warning:
        print(f"focusq: {warning}", file=sys.stderr)
    label = task_label({"id": session["task_id"], "title": session["title"]})
    print(f"focus on {label} for {minutes} min")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    """``focusq review``: how a day went, from the event log."""
    import shutil
    from datetime import timedelta

    from focusq.review import export
    from focusq.review.day import DayLog, day_window, review_day
    from focusq.review.figures import figures
    from focusq.store.ops import review

    paths = Paths.from_env()
    config = cached_settings(paths)
    now = time.time()
    day = _review_day(args.date, now)
    blocks = day_blocks(paths, config, [day, day + timedelta(days=1)])
    start, end = day_window(day)
    if args.week:
        from focusq.cli.planning import week

        return week(paths, config, day, now, as_json=args.json)
    if args.close and day > review_day(now):
        raise UserError(f"--close {day.isoformat()}: that day has not happened yet")
    with open_store(paths, config) as store:
        rows = store.run(review.day_log(start, end, day.isoformat()))
        figured = figures(DayLog.of(day, rows, blocks, now))
        if args.close and figured.closed_at is None:
            _refuse_open_answers(figured, day.isoformat(), force=args.force)
            store.run(review.close_day(day.isoformat(), now))
            rows = store.run(review.day_log(start, end, day.isoformat()))
            figured = figures(DayLog.of(day, rows, blocks, now))
    if args.json:
        print_json(export.to_json(figured))
    elif args.markdown:  # a title's or a log's escapes are shown, never obeyed
        sys.stdout.write(visible(export.to_markdown(figured), lines=True))
    else:
        width = shutil.get_terminal_size((100, 24)).columns if sys.stdout.isatty() else 100
        sys.stdout.write(visible(export.to_text(figured, width), lines=True))
    return 0


def _refuse_open_answers(figured: Any, day: str, *, force: bool) -> None:
    """Closing a day with work nobody answered for needs ``--force``."""
    open_ones = [u for u in figured.unfinished if u.answer is None]
    if not open_ones or force:
        return
    named = ", ".join(f"#{u.id} {u.title}" for u in open_ones[:5])
    more = f" and {len(open_ones) - 5} more" if len(open_ones) > 5 else ""
    raise UserError(
        f"{len(open_ones)} unfinished task(s) of {day} have no answer: {named}{more}; answer "
        "them in the review screen (R), or close anyway with --close --force"
    )


def _blocks_of(config: Any) -> list[Any]:
    """The configured blocks, built from the cached settings (validated when cached)."""
    from focusq.focus.blocks import make_block

    return [
        make_block(b["days"], b["start"], b["end"], b["mode"], b.get("label", ""))
        for b in config.blocks
    ]


def _review_day(text: str | None, now: float) -> Any:
    if not text:
        from focusq.review.day import review_day

        return review_day(now)
    return day_arg(text)


def _gap_warning(paths: Paths, config: Any) -> str | None:
    from datetime import datetime, timedelta

    from focusq.focus.policy import gap_warning

    now = datetime.now()
    blocks = day_blocks(paths, config, [now.date(), now.date() + timedelta(days=1)])
    return gap_warning(blocks, now, config.focus.min_minutes)


def cmd_block(args: argparse.Namespace) -> int:
    """``focusq block ID --on JOB``: the task waits on a job (the TUI offers a switch)."""
    from focusq import quickadd
    from focusq.store.ops import tasks

    now = time.time()
    with open_store() as store:
        task = store.run(tasks.get_task(args.id))
        job = store.run(tasks.get_task(args.on))
        if job["kind"] != "mechanical":
            raise UserError(f"--on {args.on}: #{args.on} is creative; a task waits only on a job")
        if job["status"] not in ("queued", "waiting", "held", "running", "paused"):
            raise UserError(f"--on {args.on}: #{args.on} is {job['status']}; nothing to wait for")
        draft = quickadd.TaskDraft()
        draft.afterany = [*task["afterany"], args.on]
        record = store.run(tasks.edit_task(args.id, draft, now))
    print(f"{task_label(record)} waits on #{args.on}")
    return 0


TUI_LOCK = "tui.lock"
"""The file under the data folder an open TUI holds a shared ``flock`` on."""


def tui_is_open(home: str) -> bool:
    """Whether a TUI on this data folder is open (it holds :data:`TUI_LOCK`)."""
    import fcntl
    import os

    try:
        fd = os.open(os.path.join(home, TUI_LOCK), os.O_RDONLY)
    except OSError:
        return False  # never created: no TUI has run here
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing lets go of a lock we took
    return False


def cmd_interrupt(args: argparse.Namespace) -> int:
    """``focusq interrupt``: capture something for later, without leaving the work.

    An urgent item captured while no TUI is open would reach nobody: the terminal bell
    rings and one desktop notification goes out (where ``notify-send`` exists).
    """
    from focusq.store.ops import inbox

    paths = Paths.from_env()
    text = " ".join(args.text)
    with open_store(paths) as store:
        item = store.run(inbox.capture(text, time.time(), urgent=args.urgent))
    # "#N" names a task everywhere: an interruption is named in words.
    print(f"captured interruption {item}" + (" (urgent)" if args.urgent else ""))
    if args.urgent and not tui_is_open(paths.home):
        _ring_and_notify(text)
    return 0


def _ring_and_notify(text: str) -> None:
    import shutil
    import subprocess

    if sys.stderr.isatty():
        sys.stderr.write("\a")
        sys.stderr.flush()
    if shutil.which("notify-send") is None:
        return
    try:
        subprocess.run(
            ["notify-send", "--app-name=focusq", "--urgency=critical", "focusq: urgent", text],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        pass  # a notification that cannot be sent is not worth failing the capture for


def cmd_inbox(args: argparse.Namespace) -> int:
    """``focusq inbox``: interruptions held, due, delivered and dismissed."""
    from datetime import datetime

    from focusq.review.day import day_start
    from focusq.store.ops import inbox

    paths = Paths.from_env()
    config = cached_settings(paths)
    now = time.time()
    since = 0.0 if args.all else day_start(now)
    with open_store(paths, config) as store:
        items = store.run(inbox.inbox(since=since))
        due = _due(store, config, now)
    for item in items:
        item["state"] = (
            "dismissed"
            if item["dismissed_at"] is not None
            else "delivered"
            if item["delivered_at"] is not None
            else "due"
            if item["id"] in due
            else "held"
        )
    if args.json:
        print_json([json_record(i) | {"urgent": bool(i["urgent"])} for i in items])
        return 0
    if not items:
        print("the inbox is empty")
        return 0
    today = day_start(now)
    for item in items:  # an item still held from an earlier day says which
        when = datetime.fromtimestamp(item["at"]).strftime(
            "%H:%M" if item["at"] >= today else "%b %d %H:%M"
        )
        state = f"batch {item['batch']}" if item["state"] == "delivered" else item["state"]
        state = "for later" if state == "held" else state  # "held" is a task's state
        flag = " !" if item["urgent"] else ""
        print(f"{item['id']:>4}  {when}  {state:<9}{flag}  {visible(item['text'])}")
    return 0


def _due(store: Any, config: Any, now: float) -> set[int]:
    """The held items the policy would deliver now (urgent ones always are)."""
    from focusq.focus.policy import Held, to_deliver
    from focusq.store.ops import focus, inbox

    held = [Held(i, at, urgent) for i, at, urgent in store.run(inbox.held())]
    mode, start = _segment_now(config, now)
    decision = to_deliver(
        held,
        now=now,
        mode=mode,
        segment_start=start,
        focusing=store.run(focus.current_focus()) is not None,
        last_delivery=store.run(inbox.last_delivery()),
        batch_minutes=config.interrupts.batch_minutes,
        focus_ended=store.run(focus.last_focus_end()),
    )
    return set(decision.ids)


def held_release(store: Any, config: Any, now: float, focusing: bool) -> tuple[int, float | None]:
    """How many items are held, and when they go out if nothing else changes.

    For ``status --short``: the policy (and ``dataclasses``, a third of the budget) is
    imported only when something is held.
    """
    from focusq.store.ops import focus, inbox

    rows = store.run(inbox.held())
    if not rows:
        return 0, None
    from focusq.focus.policy import Held, next_release

    held = [Held(i, at, urgent) for i, at, urgent in rows]
    release = next_release(
        held,
        now=now,
        blocks=_today_blocks(config, now, parse=False),
        focusing=focusing,
        last_delivery=store.run(inbox.last_delivery()),
        batch_minutes=config.interrupts.batch_minutes,
        focus_ended=store.run(focus.last_focus_end()),
    )
    return len(held), release


def _segment_now(config: Any, now: float) -> tuple[str, float]:
    """The current block's mode and start (``free`` and 0 without blocks)."""
    from datetime import datetime

    from focusq.focus.blocks import segment_at

    blocks = _today_blocks(config, now)
    if not blocks:
        return "free", 0.0
    segment = segment_at(blocks, datetime.fromtimestamp(now))
    return segment.mode, segment.start.timestamp()


def _today_blocks(config: Any, now: float, *, parse: bool = True) -> list[Any]:
    """The blocks and meetings of today and tomorrow (the next boundary may be tomorrow)."""
    from datetime import date, timedelta

    today = date.fromtimestamp(now)
    return day_blocks(Paths.from_env(), config, [today, today + timedelta(days=1)], parse=parse)


def focus_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("id", type=task_id_arg, nargs="?", help="the creative task to focus on")
    p.add_argument("--switch", action="store_true", help="end the current session first")
    p.add_argument(
        "--minutes",
        type=positive_int,
        metavar="N",
        help="planned length (focus.default_minutes)",
    )
    p.add_argument(
        "--new", metavar="TEXT", help='add a creative task and focus on it: "title +tag est:50m"'
    )
    p.add_argument(
        "--trim", type=task_id_arg, metavar="ID", help="trim ID's last session (with --to)"
    )
    p.add_argument("--to", metavar="HH:MM", help="with --trim: when the focus really stopped")
    p.add_argument("--stop", action="store_true", help="end the session")
    p.add_argument("--done", action="store_true", help="end the session and mark its task done")
    p.add_argument("--pause", action="store_true", help="pause the session")
    p.add_argument("--resume", action="store_true", help="resume a paused session")
    p.set_defaults(handler=cmd_focus)


def block_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("id", type=task_id_arg, help="the task that waits")
    p.add_argument(
        "--on", type=task_id_arg, required=True, metavar="JOB", help="the job it waits on"
    )
    p.set_defaults(handler=cmd_block)


def interrupt_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("text", nargs="+", help="what came up")
    p.add_argument("--urgent", action="store_true", help="break through focus and async time")
    p.set_defaults(handler=cmd_interrupt)


def inbox_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--all", action="store_true", help="every day, not only today")
    p.add_argument("--json", action="store_true", help="print the items as JSON")
    p.set_defaults(handler=cmd_inbox)


def blocks_args(p: argparse.ArgumentParser) -> None:
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


def review_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--date", metavar="YYYY-MM-DD", help="another day (default: today)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--markdown", action="store_true", help="print Markdown, timeline as SVG")
    out.add_argument("--json", action="store_true", help="print every figure as JSON")
    p.add_argument(
        "--week",
        action="store_true",
        help="the 7 days to --date: estimates against time taken, per tag and project",
    )
    p.add_argument("--close", action="store_true", help="close the day, then show it")
    p.add_argument(
        "--force", action="store_true", help="with --close: close even with unanswered work"
    )
    p.set_defaults(handler=cmd_review)
