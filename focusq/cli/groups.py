"""``focusq group``: groups with their caps, policy and counts; set a cap, pause, resume."""

from __future__ import annotations

import sys
import time

from focusq.cli.common import cached_settings, open_store, positive_int
from focusq.cli.output import print_json
from focusq.errors import UserError
from focusq.paths import Paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any


def group_args(p: argparse.ArgumentParser) -> None:
    """``group`` [``set NAME --parallel N`` | ``pause NAME [--wait]`` | ``resume NAME``]."""
    p.add_argument("--json", action="store_true", help="print the groups as JSON")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", parser_class=type(p))
    setting = verbs.add_parser("set", help="change a group's cap at once")
    setting.add_argument("name", metavar="NAME")
    setting.add_argument("--parallel", type=positive_int, required=True, metavar="N")
    pausing = verbs.add_parser("pause", help="start nothing new in the group; pause its jobs")
    pausing.add_argument("name", metavar="NAME")
    pausing.add_argument(
        "--wait", action="store_true", help="let its running jobs finish instead of pausing them"
    )
    resuming = verbs.add_parser("resume", help="start the group's jobs again")
    resuming.add_argument("name", metavar="NAME")
    p.set_defaults(handler=cmd_group)


def cmd_group(args: argparse.Namespace) -> int:
    """``focusq group``."""
    from focusq.store.ops import groups, jobs, tasks

    paths = Paths.from_env()
    config = cached_settings(paths)
    now = time.time()
    with open_store(paths, config) as store:
        if args.verb is None:
            return _list(store, config, args.json)
        name = args.name
        if not name or not name.isprintable() or any(c.isspace() for c in name):
            raise UserError(f"group {name!r}: a group's name is one word, as group:NAME gives it")
        if args.verb == "set":
            store.run(groups.set_group(name, now, parallel=args.parallel))
            print(f"group {name}: at most {args.parallel} at once")
            return 0
        pausing = args.verb == "pause"
        store.run(groups.set_group(name, now, paused=pausing))
        if pausing and args.wait:
            print(f"group {name} paused: its running jobs finish, nothing new starts")
            return 0
        action, frm = ("pause", "running") if pausing else ("resume", "paused")
        ids = store.run(tasks.select((frm,), group=name, kind="mechanical"))
        for task_id in ids:
            store.run(jobs.request(task_id, action, now))
        what = f"; {len(ids)} job(s) {'pausing' if pausing else 'resuming'}" if ids else ""
        print(f"group {name} {'paused' if pausing else 'resumed'}{what}")
        if not pausing:
            from focusq.cli.common import autostart_worker

            autostart_worker(paths, config, store)
    return 0


def _list(store: Any, config: Any, as_json: bool) -> int:
    from focusq.store.ops import groups

    changed = store.run(groups.group_states())
    counts = store.run(groups.group_counts())
    names = sorted({*config.groups, *changed, *counts})
    rows = []
    for name in names:
        configured = config.groups.get(name)
        state = changed.get(name, {})
        cap = state.get("parallel") or (configured.max_parallel if configured else None)
        n = counts.get(name, {})
        rows.append(
            {
                "name": name,
                "parallel": cap,
                "policy": configured.policy if configured else "fail-safe",
                "paused": bool(state.get("paused")),
                "running": n.get("running", 0) + n.get("paused", 0),
                "queued": n.get("queued", 0),
                "waiting": n.get("waiting", 0) + n.get("held", 0),
            }
        )
    if as_json:
        print_json(rows)
        return 0
    if not rows:
        print("no groups: add jobs with group:NAME, or [groups.NAME] in the config")
        return 0
    width = max(5, *(len(r["name"]) for r in rows))
    print(f"{'GROUP':<{width}}  CAP  POLICY     RUNNING  QUEUED  WAITING  STATE")
    for r in rows:
        cap = str(r["parallel"] or "-")
        state = "paused" if r["paused"] else "open"
        print(
            f"{r['name']:<{width}}  {cap:>3}  {r['policy']:<9}  {r['running']:>7}  "
            f"{r['queued']:>6}  {r['waiting']:>7}  {state}"
        )
    sys.stdout.flush()
    return 0
