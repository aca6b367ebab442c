"""The worker's executors by name: ``local``, and each ``[executors.NAME]``, opened when a
job first needs it.

A Dask executor with no ``address`` gets a loopback cluster that focusq starts (see
:mod:`focusq.engine.dask_cluster`), in ``executors/NAME`` beside the database. An
executor that cannot be opened (no scheduler, ``focusq[dask]`` not installed, another
focusq version on the workers) is not asked again for :data:`RETRY_AFTER` seconds; the
jobs meant for it end as ``spawn_error`` with the reason, in one line.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from focusq.engine import runs
from focusq.engine.executor import Executor, Placement, RunSpec
from focusq.engine.local_executor import LocalExecutor
from focusq.errors import FocusqError
from focusq.quickadd import command_text

log = logging.getLogger("focusq.worker")

RETRY_AFTER = 30.0


class Executors:
    """Where jobs run, by executor name."""

    def __init__(self, local: LocalExecutor, settings: Any, home: str, database_id: str) -> None:
        self.local = local
        self.settings = settings
        self.home = home
        self.database_id = database_id
        self.open: dict[str, Executor] = {"local": local}
        self._failed: dict[str, tuple[float, str]] = {}

    def __iter__(self) -> Any:
        return iter(self.open.values())

    async def get(self, name: str) -> Executor | str:
        """The executor called ``name``, opened; or why it cannot run jobs now."""
        found = self.open.get(name)
        if found is not None:
            return found
        failed = self._failed.get(name)
        if failed is not None and time.monotonic() - failed[0] < RETRY_AFTER:
            return failed[1]
        config = self.settings.executors.get(name)
        if config is None:
            return f"executor {name} is not configured: add an [executors.{name}] table"
        try:
            executor = await self._open(name, config)
        except ImportError:
            why = f"executor {name} needs the Dask extra: pip install 'focusq[dask]'"
        except (FocusqError, OSError) as exc:
            why = str(exc) if str(exc).startswith("executor ") else f"executor {name}: {exc}"
        else:
            self.open[name] = executor
            self._failed.pop(name, None)
            return executor
        log.error("%s", why)
        self._failed[name] = (time.monotonic(), why)
        return why

    def configured(self, settings: Any) -> None:
        """The config changed: use it, and try again the executors that failed to open."""
        self.settings = settings
        self._failed.clear()

    async def close(self) -> None:
        for executor in self.open.values():
            await executor.close()

    def spec(
        self,
        name: str,
        job: Mapping[str, Any],
        claim: Mapping[str, Any],
        base_env: Mapping[str, str],
    ) -> RunSpec:
        """What ``name`` needs to start ``claim``'s run of ``job``."""
        tag = runs.run_tag(self.database_id, claim["run_id"])
        if name == "local":
            env = runs.job_environment(job, claim["attempt"], tag, base_env)
            placement = Placement()
        else:  # another host: its own environment, with the job's overrides and ids
            env = runs.job_environment({**job, "environ": {}}, claim["attempt"], tag, {})
            placed = job.get("placement") or {}
            placement = Placement(placed.get("resources", {}), tuple(placed.get("hosts", ())))
        return RunSpec(
            run_id=claim["run_id"],
            task_id=job["id"],
            attempt=claim["attempt"],
            tag=tag,
            argv=job["command"],
            cwd=job["cwd"] or self.home,
            env=env,
            log_path=claim["log_path"],
            display=command_text(job["command"]),
            timeout=job["timeout"],
            grace=self.settings.engine.kill_grace,
            placement=placement,
        )

    async def _open(self, name: str, config: Any) -> Executor:
        from focusq.engine.dask_executor import DaskExecutor  # only when a job runs there

        address = config.address
        if not address:
            from focusq.engine import dask_cluster

            folder = os.path.join(self.home, "executors", name)
            cluster = await asyncio.get_running_loop().run_in_executor(
                None,
                lambda: dask_cluster.start(
                    folder,
                    workers=config.workers,
                    threads=config.threads,
                    resources=config.resources,
                ),
            )
            address = cluster.address
            log.info("executor %s: a Dask cluster on this machine at %s", name, address)
        executor = DaskExecutor(
            name,
            address,
            self.database_id,
            follow_interval=config.follow_interval,
            keep_remote_logs=config.keep_remote_logs,
            expect_workers=0 if config.address else config.workers,
            connect_timeout=config.connect_timeout,
        )
        await executor.open()
        return executor
