"""The worker's executors by name: ``local``, and each ``[executors.NAME]``, opened when a
job first needs it.

A Dask executor with no ``address`` gets a loopback cluster that focusq starts (see
:mod:`focusq.engine.dask_cluster`), in ``executors/NAME`` beside the database. It is
opened in the background (:meth:`Executors.poll`): jobs for it wait meanwhile, and the
worker's other jobs go on. An executor that does not answer (no scheduler at its address,
a cluster that did not start) is *down*: its jobs wait, and it is tried again after
:data:`RETRY_AFTER` seconds or a config change. One that cannot run jobs at all (not
configured, ``focusq[dask]`` not installed, another focusq version on the workers) makes
the jobs meant for it end as ``spawn_error`` with the reason, in one line.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from focusq.engine import runs
from focusq.engine.down import note_down
from focusq.engine.executor import Executor, ExecutorDown, Placement, RunSpec
from focusq.engine.local_executor import LocalExecutor
from focusq.errors import FocusqError
from focusq.quickadd import command_text

log = logging.getLogger("focusq.worker")

RETRY_AFTER = 30.0


def _unconfigured(name: str) -> str:
    return f"executor {name} is not configured: add an [executors.{name}] table"


class Executors:
    """Where jobs run, by executor name."""

    def __init__(
        self,
        local: LocalExecutor,
        settings: Any,
        home: str,
        database_id: str,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.local = local
        self.settings = settings
        self.home = home
        self.database_id = database_id
        self.on_change = on_change
        """Called when an executor opened in the background is ready, or failed."""
        self.open: dict[str, Executor] = {"local": local}
        self._failed: dict[str, tuple[float, str, bool]] = {}
        """Why an executor could not be opened, when, and whether it is only down."""
        self._opening: dict[str, asyncio.Task[Executor | str]] = {}
        self._tasks: set[asyncio.Task[Executor | str]] = set()
        """Every open under way, also those begun under an older config."""
        self._generation = 0
        """Bumped by each config change: an open begun under an older config is not used."""

    def __iter__(self) -> Any:
        return iter(self.open.values())

    async def get(self, name: str) -> Executor | str:
        """The executor called ``name``, opened; or why it cannot run jobs now."""
        state = self.poll(name)
        if state is not None:
            return state
        return await asyncio.shield(self._opening[name])

    async def _attempt(self, name: str) -> Executor | str:
        """Open the executor called ``name`` now; it, or why it cannot run jobs."""
        config = self.settings.executors.get(name)
        if config is None:  # taken out of the config meanwhile
            return _unconfigured(name)
        generation, down = self._generation, False
        try:
            executor = await self._open(name, config)
            if generation != self._generation:  # opened as the config was: not used
                await executor.close()
                return f"executor {name}: its config changed while connecting"
        except ImportError:
            why = f"executor {name} needs the Dask extra: pip install 'focusq[dask]'"
        except (FocusqError, OSError) as exc:
            why = str(exc) if str(exc).startswith("executor ") else f"executor {name}: {exc}"
            down = isinstance(exc, (ExecutorDown, OSError))
        except Exception as exc:  # Dask's own troubles: try again later, as for no answer
            log.exception("executor %s could not be opened", name)
            why, down = f"executor {name}: {type(exc).__name__}: {exc}", True
        else:
            self.open[name] = executor
            self._failed.pop(name, None)
            note_down(self.home, name, None)
            return executor
        log.error("%s", why)
        if generation == self._generation:  # else the next try follows the new config
            self._failed[name] = (time.monotonic(), why, down)
            note_down(self.home, name, why if down else None)
        return why

    def poll(self, name: str) -> Executor | str | None:
        """Without waiting: the executor called ``name`` if open, else why it cannot run
        jobs now, else ``None`` while it is being opened (started here in the background;
        :attr:`on_change` says when it is done)."""
        found = self.open.get(name)
        if found is not None:
            return found
        failed = self._failed.get(name)
        if failed is not None and time.monotonic() - failed[0] < RETRY_AFTER:
            return failed[1]
        if name not in self.settings.executors:
            return _unconfigured(name)
        if name not in self._opening:
            log.info("executor %s: connecting", name)
            task = asyncio.ensure_future(self._attempt(name))
            self._opening[name] = task
            self._tasks.add(task)
            task.add_done_callback(lambda done: self._opened(name, done))
        return None

    def _opened(self, name: str, task: asyncio.Task[Executor | str]) -> None:
        self._tasks.discard(task)
        if self._opening.get(name) is task:  # else one begun under an older config
            del self._opening[name]
            self.on_change()

    def down(self, name: str) -> str | None:
        """Why the executor called ``name`` does not answer now, if it does not (its jobs
        wait for it); ``None`` if it is open, being opened, or cannot run jobs at all."""
        failed = self._failed.get(name)
        return failed[1] if failed is not None and failed[2] else None

    def retry_in(self, wanted: Collection[str]) -> float | None:
        """Seconds until the first of the executors ``wanted`` that is down is tried again,
        if one is (one that nothing wants is left alone, so an idle worker can exit)."""
        waits = [
            f[0]
            for n, f in self._failed.items()
            if f[2] and n in wanted and n not in self._opening and n in self.settings.executors
        ]
        due = min(waits, default=None)
        return None if due is None else max(0.0, due + RETRY_AFTER - time.monotonic())

    def configured(self, settings: Any) -> None:
        """The config changed: use it, and try again the executors that failed to open
        (one being opened now is opened again, as the new config says)."""
        self.settings = settings
        self._failed.clear()
        self._generation += 1
        self._opening.clear()  # those under way finish unused; the next try is the new config's

    def unavailable(self, wanted: Collection[str]) -> list[str]:
        """Of the executors ``wanted`` (the ready jobs' and the kept-open runs'), those that
        take no job now: being opened (begun here in the background if need be), or down
        (tried again once :data:`RETRY_AFTER` has passed). Choosing leaves their jobs out,
        so they take no slot, lock or group place from the jobs behind them."""
        out = []
        for name in wanted:
            if name in self.open:
                continue
            state = self.poll(name)
            if state is None or (isinstance(state, str) and self.down(name)):
                out.append(name)
        return out

    async def close(self) -> None:
        opening = list(self._tasks)
        for task in opening:
            task.cancel()
        await asyncio.gather(*opening, return_exceptions=True)
        for name, (_, _, down) in self._failed.items():
            if down:  # no worker tries it any more: say nothing stale
                note_down(self.home, name, None)
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
