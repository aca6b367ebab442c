"""``focusq executor``: the executors jobs run on, and the Dask clusters focusq starts."""

from __future__ import annotations

import os

from focusq.cli.common import cached_settings
from focusq.errors import UserError
from focusq.paths import Paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any


def executor_args(p: argparse.ArgumentParser) -> None:
    """``executor`` [``start NAME`` | ``stop NAME``]."""
    verbs = p.add_subparsers(dest="verb", metavar="VERB", parser_class=type(p))
    starting = verbs.add_parser("start", help="start the Dask cluster focusq runs for NAME")
    starting.add_argument("name", metavar="NAME")
    stopping = verbs.add_parser("stop", help="stop the Dask cluster focusq started for NAME")
    stopping.add_argument("name", metavar="NAME")
    p.set_defaults(handler=cmd_executor)


def cmd_executor(args: argparse.Namespace) -> int:
    """``focusq executor``: list, or start/stop a loopback cluster."""
    from focusq.engine import dask_cluster

    paths = Paths.from_env()
    config = cached_settings(paths)
    if args.verb is None:
        _list(paths, config)
        return 0
    name = args.name
    settings = _own_cluster(config, name)
    folder = os.path.join(paths.home, "executors", name)
    if args.verb == "start":
        cluster = dask_cluster.start(
            folder,
            workers=settings.workers,
            threads=settings.threads,
            resources=settings.resources,
        )
        print(f"executor {name}: a Dask cluster at {cluster.address} ({settings.workers} workers)")
        return 0
    if dask_cluster.stop(folder):
        print(f"executor {name}: its Dask cluster is stopped")
    else:
        print(f"executor {name}: no cluster of focusq's was running")
    return 0


def _own_cluster(config: Any, name: str) -> Any:
    settings = config.executors.get(name)
    if settings is None:
        known = ", ".join(sorted(config.executors)) or "none configured"
        raise UserError(f"no executor {name} (known: {known}); add an [executors.{name}] table")
    if settings.address:
        raise UserError(
            f"executor {name} uses the scheduler at {settings.address}: focusq did not start "
            "it and does not stop it"
        )
    return settings


def _list(paths: Paths, config: Any) -> None:
    import time

    from focusq.cli.output import visible
    from focusq.engine import dask_cluster
    from focusq.engine.down import read_down

    print(f"local      this machine, {config.engine.max_parallel} at once")
    for name, settings in sorted(config.executors.items()):
        if settings.address:
            where = settings.address
        else:
            cluster = dask_cluster.read(os.path.join(paths.home, "executors", name))
            where = f"focusq's cluster at {cluster.address}" if cluster else "focusq's (stopped)"
        print(f"{name:<10} {settings.kind} {where}, {settings.max_parallel} at once")
        down = read_down(paths.home, name)
        if down is not None:  # its jobs wait for it
            shown = "%H:%M" if time.time() - down[0] < 12 * 3600 else "%Y-%m-%d %H:%M"
            since = time.strftime(shown, time.localtime(down[0]))
            print(visible(f"{'':<10} not answering (last tried {since}): {down[1]}"))
