"""Recurring jobs from the shell: ``ls --recurring`` and ``install-timer``."""

from __future__ import annotations

import os
import sys
import time

from focusq.cli.common import cached_settings, open_store, revive_worker
from focusq.errors import UserError
from focusq.paths import Paths

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the quick path milliseconds; annotations are strings
    import argparse
    from typing import Any


def ls_args(p: argparse.ArgumentParser) -> None:
    """``focusq ls``'s arguments, and ``--recurring``."""
    from focusq.cli.tasks import ls_args as task_ls_args

    task_ls_args(p)
    p.add_argument(
        "--recurring",
        action="store_true",
        help="the recurring jobs (every:, cron:): rule, next due time, last run",
    )
    p.set_defaults(handler=cmd_ls)


def cmd_ls(args: argparse.Namespace) -> int:
    """``focusq ls``; with ``--recurring``, the templates of recurring jobs."""
    if not args.recurring:
        from focusq.cli.tasks import cmd_ls as task_cmd_ls

        return task_cmd_ls(args)
    from focusq.store.ops import recurring

    paths = Paths.from_env()
    config = cached_settings(paths)
    with open_store(paths, config) as store:
        revive_worker(paths, config, store)
        templates = store.run(recurring.templates(stopped=args.all))
    if args.json:
        from focusq.cli.output import print_json

        print_json([_json(t) for t in templates])
        return 0
    if not templates:
        print("no recurring jobs; add one with: focusq add backup every:1d at:02:00 -- ./backup")
        return 0
    rows = [("ID", "NEXT", "REPEATS", "LAST RUN", "TITLE")]
    rows += [_row(t, config.recurring.catch_up) for t in templates]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        cells = [row[0].rjust(widths[0]), *(row[i].ljust(widths[i]) for i in range(1, 4))]
        print("  ".join([*cells, row[4]]).rstrip())
    return 0


def _row(template: dict[str, Any], catch_up: str) -> tuple[str, str, str, str, str]:
    from focusq import recurrence
    from focusq.cli.output import visible

    series = template["recurring"]
    repeats = recurrence.describe(recurrence.parse(series["rule"]), series["anchor"])
    if series["catch_up"] and series["catch_up"] != catch_up:
        repeats += f" catchup:{series['catch_up']}"
    if series["overlap"]:
        repeats += " overlap:yes"
    status = template["status"]
    nxt = _moment(series["next_due"]) if status == "recurring" else status
    last = series["last"]
    last_run = "-" if last is None else f"#{last['id']} {last['result'] or last['status']}"
    return (str(template["id"]), nxt, repeats, last_run, visible(template["title"]))


def _moment(at: float) -> str:
    """A due time: its hour today, its day this week, its date later."""
    now = time.time()
    local, today = time.localtime(at), time.localtime(now)
    if local[:3] == today[:3]:
        return time.strftime("today %H:%M", local)
    if at - now < 6 * 86400:
        return time.strftime("%a %H:%M", local)
    return time.strftime("%Y-%m-%d %H:%M", local)


def _json(template: dict[str, Any]) -> dict[str, Any]:
    from focusq import recurrence
    from focusq.cli.output import json_record

    out = json_record({k: v for k, v in template.items() if k != "recurring"})
    series = dict(template["recurring"])
    series["repeats"] = recurrence.describe(recurrence.parse(series["rule"]), series["anchor"])
    for key in ("anchor", "next_due"):
        series[key] = json_record({"at": series[key]})["at"]
    if series["last"] is not None:
        series["last"] = json_record(series["last"])
    out["recurring"] = series
    return out


# -- install-timer --------------------------------------------------------------------------

UNIT = "focusq-recurring"
"""The name of the service and timer ``install-timer`` writes."""


def install_timer_args(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Write a systemd user timer that runs 'focusq status --short' every minute, which "
        "starts a worker when a recurring job is due and none runs (the worker exits when "
        "idle). It is written to $XDG_CONFIG_HOME/systemd/user (~/.config/systemd/user); "
        "enable it with: systemctl --user daemon-reload && "
        f"systemctl --user enable --now {UNIT}.timer"
    )
    p.add_argument(
        "--remove", action="store_true", help="delete the unit files (disable the timer first)"
    )
    p.set_defaults(handler=cmd_install_timer)


def unit_dir(environ: dict[str, str] | None = None) -> str:
    """Where systemd looks for the user's units."""
    env = os.environ if environ is None else environ
    config = env.get("XDG_CONFIG_HOME") or os.path.join(
        env.get("HOME") or os.path.expanduser("~"), ".config"
    )
    return os.path.join(config, "systemd", "user")


def units(paths: Paths, python: str) -> dict[str, str]:
    """The service and timer files, by name: the service asks ``focusq status --short``
    (which starts a worker if a due time passed) for this database."""
    environment = "".join(
        f"Environment={_quote(f'{name}={value}')}\n" for name, value in paths.environ().items()
    )
    service = (
        "[Unit]\n"
        "Description=focusq: start the worker when a recurring job is due\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"{environment}"
        f"ExecStart={_quote(python)} -m focusq status --short\n"
        "# The worker it may start is detached and exits by itself when idle.\n"
        "KillMode=process\n"
        "StandardOutput=null\n"
    )
    timer = (
        "[Unit]\n"
        "Description=focusq: check every minute whether a recurring job is due\n"
        "\n"
        "[Timer]\n"
        "OnCalendar=*-*-* *:*:00\n"
        "Persistent=true\n"
        "AccuracySec=5s\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return {f"{UNIT}.service": service, f"{UNIT}.timer": timer}


def _quote(path: str) -> str:
    """``path`` as a value in a unit file: ``%`` is systemd's specifier sign, doubled."""
    path = path.replace("%", "%%")
    if any(c in path for c in ' "\\'):
        return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return path


def cmd_install_timer(args: argparse.Namespace) -> int:
    """``focusq install-timer``: write (or ``--remove``) the systemd user timer."""
    folder = unit_dir()
    files = units(Paths.from_env(), sys.executable)
    if args.remove:
        for name in files:
            try:
                os.unlink(os.path.join(folder, name))
            except FileNotFoundError:
                continue
            print(f"removed {os.path.join(folder, name)}")
        return 0
    try:
        os.makedirs(folder, exist_ok=True)
        for name, body in files.items():
            path = os.path.join(folder, name)
            temporary = f"{path}.tmp"
            with open(temporary, "w", encoding="utf-8") as file:
                file.write(body)
            os.replace(temporary, path)
            print(f"wrote {path}")
    except OSError as exc:
        raise UserError(f"cannot write the timer in {folder}: {exc.strerror}") from None
    print(
        f"enable it with: systemctl --user daemon-reload && "
        f"systemctl --user enable --now {UNIT}.timer"
    )
    return 0
