"""Jobs on a Dask cluster: the executor protocol over an asyncio ``distributed.Client``.

Each run is one Dask task (:func:`focusq.engine.dask_task.run_shell`) keyed
``focusq-<database id>-run-<run id>``, submitted with no Dask retries (focusq's own retry
budget decides) and published, a batch per loop turn, so a focusq worker that restarts
re-attaches to it by name (``get_dataset``; a future rebuilt from its key alone does not).
Its pid, host and remote log arrive as a worker event; its log is pulled by offset into
the canonical local ``logs/<task>-<attempt>.log`` while it runs and at once when it ends,
so ``focusq log -f``, the TUI and the review read it as any other. Stops and pauses are
calls to the worker that runs it; ``Future.cancel`` never touches a running job.

Only this module and :mod:`focusq.engine.dask_task` import ``distributed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from distributed import Client, Future

from focusq import __version__
from focusq.engine import dask_task
from focusq.engine.executor import (
    ExecutorDown,
    Gone,
    Live,
    Recovered,
    RunEnd,
    RunHandle,
    RunSpec,
)
from focusq.engine.runner import SpawnError
from focusq.errors import FocusqError

log = logging.getLogger("focusq.worker")

CHUNK = 4 << 20
"""Bytes pulled per log read."""


class DaskRun:
    """A run on a Dask worker, as the focusq worker follows it."""

    def __init__(self, spec: RunSpec, key: str, future: Future[Any]) -> None:
        self.spec = spec
        self.key = key
        self.future = future
        self._pid: int | None = None
        self.host: str | None = None
        self.worker: str | None = None
        self.remote_log: str | None = None
        self.finished = asyncio.Event()
        self.end: RunEnd | None = None
        self.stop_reason: str | None = None
        self.stop_signal: int = signal.SIGTERM
        self.started = asyncio.Event()
        self.done = asyncio.Event()
        """The task returned (or failed): pull the rest of the log, then it is over."""
        self.on_started: Callable[[RunHandle], None] | None = None
        self.follower: asyncio.Task[None] | None = None
        self.relocated = False
        """Its log was looked for again after its task ended (its worker may be gone)."""
        self._result: asyncio.Future[Any] | None = None

    def result(self) -> asyncio.Future[Any]:
        """The task's result, fetched from its worker once however often it is asked for."""
        if self._result is None:
            self._result = asyncio.ensure_future(_awaited(self.future))
        return self._result

    @property
    def pid(self) -> int | None:
        return self._pid


class DaskExecutor:
    """Runs jobs as tasks on a Dask cluster at ``address``."""

    def __init__(
        self,
        name: str,
        address: str,
        database_id: str,
        *,
        follow_interval: float = 0.5,
        keep_remote_logs: bool = False,
        connect_timeout: float = 10.0,
        call_timeout: float = 10.0,
        expect_workers: int = 0,
    ) -> None:
        self.name = name
        self.address = address
        self.database_id = database_id
        self.follow_interval = follow_interval
        self.expect_workers = expect_workers
        """Workers to wait for on open (a cluster focusq just started): placement is
        checked against the workers that joined."""
        self.keep_remote_logs = keep_remote_logs
        self.connect_timeout = connect_timeout
        self.call_timeout = call_timeout
        """The longest wait for one call to a worker (a dead one is otherwise retried for
        Dask's whole connect timeout, 30 s by default)."""
        self.client: Client | None = None
        self.runs: dict[str, DaskRun] = {}
        """By key, until acknowledged."""
        self._publish: dict[str, Future[Any]] = {}
        self._calls: set[asyncio.Future[Any]] = set()
        """Calls to workers under way (kept referenced until they are done)."""
        self._publishing: asyncio.Task[None] | None = None

    # -- life cycle -------------------------------------------------------------------------

    async def open(self) -> None:
        try:
            self.client = await Client(
                self.address, asynchronous=True, timeout=self.connect_timeout
            )
        except (OSError, TimeoutError) as exc:
            raise ExecutorDown(
                f"executor {self.name}: no Dask scheduler at {self.address} ({exc}); "
                f"start it, or fix [executors.{self.name}] address"
            ) from exc
        try:
            await self._check_and_follow(self.client)
        except BaseException:  # connected but not usable: leave no client behind
            client, self.client = self.client, None
            await client.close()
            raise

    async def _check_and_follow(self, client: Client) -> None:
        """The workers run this focusq; the cleanup plugin is on them; start reports come."""
        versions = await client.run(_focusq_version)
        wrong = {w: v for w, v in versions.items() if v != __version__}
        if wrong:
            raise FocusqError(
                f"executor {self.name}: Dask workers run another focusq "
                f"({', '.join(f'{w}: {v}' for w, v in sorted(wrong.items()))}; this is "
                f"{__version__}): install the same version there"
            )
        await client.register_plugin(dask_task.Cleanup(), name=dask_task.Cleanup.name)
        if self.expect_workers:
            with contextlib.suppress(TimeoutError):
                wait_for: Any = client.wait_for_workers  # typed as returning nothing
                waiting = wait_for(self.expect_workers, timeout=60)
                if waiting is not None:  # the asynchronous client returns a coroutine
                    await waiting
        client.subscribe_topic(dask_task.TOPIC, self._on_start_event)

    async def close(self) -> None:
        """Stop following; jobs run on, published, for the next worker to re-attach."""
        for run in self.runs.values():
            if run.follower is not None:
                run.follower.cancel()
        if self._publishing is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._publishing
        if self.client is not None:
            await self.client.close()
            self.client = None

    # -- runs -------------------------------------------------------------------------------

    def start(
        self,
        spec: RunSpec,
        on_started: Callable[[RunHandle], None],
        on_ended: Callable[[RunHandle], None],
    ) -> DaskRun:
        assert self.client is not None
        key = self.key(spec.run_id)
        payload = {
            "key": key,
            "argv": spec.argv,
            "cwd": spec.cwd,
            "env": dict(spec.env or {}),
            "timeout": spec.timeout,
            "grace": spec.grace,
            "header": header(spec),
        }
        placement = spec.placement
        where: dict[str, Any] = {}
        if placement.hosts:  # only there
            self._check_hosts(placement.hosts)
            where = {"workers": list(placement.hosts), "allow_other_workers": False}
        future = self.client.submit(
            dask_task.run_shell,
            payload,
            key=key,
            pure=False,
            retries=0,
            resources=dict(placement.resources) or None,
            **where,
        )
        run = DaskRun(spec, key, future)
        run.on_started = on_started
        self._follow(run, on_ended, offset=0)
        self._publish[key] = future
        if self._publishing is None or self._publishing.done():
            self._publishing = asyncio.ensure_future(self._publish_soon())
        return run

    def stop(self, handle: RunHandle, reason: str, first: int = signal.SIGTERM) -> None:
        run = self._run(handle)
        if run.finished.is_set():
            return
        if run.stop_reason is None:
            run.stop_reason = reason
            run.stop_signal = first
        if run.worker is not None:
            self._call(run, dask_task.stop_run, run.key, reason, first)
        # else: stopped as soon as its start event says where it runs

    def pause(self, handle: RunHandle) -> bool:
        return self._signal(handle, signal.SIGSTOP)

    def resume(self, handle: RunHandle) -> bool:
        return self._signal(handle, signal.SIGCONT)

    def acknowledge(self, started: Sequence[RunHandle], ended: Sequence[RunHandle]) -> None:
        keys = [self._run(h).key for h in ended]
        if not keys or self.client is None:
            return
        gone = [self.runs.pop(k) for k in keys if k in self.runs]
        self._keep(self._forget(keys, gone))

    async def recover(
        self, rows: Sequence[Mapping[str, Any]], on_ended: Callable[[RunHandle], None]
    ) -> dict[int, Recovered]:
        """Re-attach to published runs (their logs resume where the local copy ends);
        a run no longer published ended with what its host wrote down, or is gone."""
        assert self.client is not None
        published = set(await self.client.list_datasets())
        out: dict[int, Recovered] = {}
        for row in rows:
            key = self.key(row["id"])
            spec = RunSpec.of_open_run(row, key)
            if key in published:
                future = await self.client.get_dataset(key)
                run = DaskRun(spec, key, future)
                run.host = row.get("host")
                if await self._relocate(run):
                    run.started.set()
                self._follow(run, on_ended, offset=_size(row["log_path"]))
                out[row["id"]] = Live(run)
                continue
            known = await self._exit_file(key, None)
            if known is not None:  # it ended while no one held its result: its host knows
                end = _run_end(known)
                out[row["id"]] = Gone(end, at=float(known.get("ended") or _now()))
                continue
            why = "its Dask run was not found when the worker came back: exit code unknown"
            out[row["id"]] = Gone(RunEnd(None, why=why, host=row.get("host")), at=_now())
        return out

    def _check_hosts(self, hosts: Sequence[str]) -> None:
        """:class:`SpawnError` for a ``host:`` no worker runs on (Dask would keep the job
        pending forever)."""
        assert self.client is not None
        workers = self.client.scheduler_info().get("workers", {})
        if not workers:
            return  # none has joined yet: nothing to check against
        known = {info.get("host") for info in workers.values()} | set(workers)
        missing = [h for h in hosts if h not in known]
        if missing:
            have = ", ".join(sorted(str(h) for h in known if h)) or "none"
            raise SpawnError(
                f"host:{missing[0]}: no worker of executor {self.name} runs there ({have})"
            )

    def key(self, run_id: int) -> str:
        return f"focusq-{self.database_id}-run-{run_id}"

    # -- inside -----------------------------------------------------------------------------

    def _run(self, handle: RunHandle) -> DaskRun:
        assert isinstance(handle, DaskRun)
        return handle

    def _signal(self, handle: RunHandle, sig: int) -> bool:
        run = self._run(handle)
        if run.worker is None or run.finished.is_set():
            return False
        self._call(run, dask_task.signal_run, run.key, sig)
        return True

    def _call(self, run: DaskRun, function: Callable[..., Any], *args: Any) -> None:
        assert self.client is not None and run.worker is not None
        self._keep(self.client.run(function, *args, workers=[run.worker], on_error="return"))

    def _keep(self, awaitable: Any) -> None:
        call = asyncio.ensure_future(awaitable)
        self._calls.add(call)
        call.add_done_callback(self._calls.discard)

    def _on_start_event(self, event: tuple[float, dict[str, Any]]) -> None:
        _, info = event
        run = self.runs.get(info.get("key", ""))
        if run is None or run.started.is_set():
            return
        run._pid, run.host, run.worker = info["pid"], info["host"], info["worker"]
        run.remote_log = info["log"]
        run.started.set()
        if run.on_started is not None:
            run.on_started(run)
        if run.stop_reason is not None:
            self._call(run, dask_task.stop_run, run.key, run.stop_reason, run.stop_signal)

    def _follow(self, run: DaskRun, on_ended: Callable[[RunHandle], None], offset: int) -> None:
        self.runs[run.key] = run
        loop = asyncio.get_running_loop()

        def done(_future: Any) -> None:  # called in a thread of Dask's
            with contextlib.suppress(RuntimeError):  # the loop is closed: no one waits
                loop.call_soon_threadsafe(run.done.set)

        run.future.add_done_callback(done)
        run.follower = asyncio.ensure_future(self._pull(run, on_ended, offset))

    async def _pull(self, run: DaskRun, on_ended: Callable[[RunHandle], None], offset: int) -> None:
        """Copy the remote log into the local one while the run goes on, then settle it."""
        assert self.client is not None
        await _first(run.started.wait(), run.done.wait())
        fd = os.open(run.spec.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            while True:
                done = run.done.is_set()
                inline = await self._inline(run) if done else None
                if inline is not None and len(inline) >= offset:
                    os.write(fd, inline[offset:])  # a small log came with the result
                    break
                if done and not run.relocated and (run.remote_log is None or _lost(run)):
                    run.relocated = True  # read the rest through a worker that sees it
                    if not await self._relocate(run) and _lost(run):
                        run.worker = None  # its worker is gone, and no other sees its log
                data = await self._read(run, offset)
                if data:
                    os.write(fd, data)
                    offset += len(data)
                    if len(data) == CHUNK:
                        continue
                if done and not data:
                    break
                if not done:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(run.done.wait(), self.follow_interval)
        finally:
            os.close(fd)
        run.end = await self._result(run)
        run.host = run.end.host or run.host
        run.finished.set()
        on_ended(run)

    async def _inline(self, run: DaskRun) -> bytes | None:
        """The whole log, when the task returned it with its result (a small one)."""
        try:
            result = await run.result()
        except Exception:
            return None
        data = result.get("log_bytes") if isinstance(result, dict) else None
        return data if isinstance(data, bytes) else None

    async def _read(self, run: DaskRun, offset: int) -> bytes:
        """The log from ``offset``; empty at its end, or when no worker that sees it
        answers (its own is gone and no other on its host has it)."""
        for attempt in range(2):
            if run.remote_log is None or run.worker is None:
                return b""
            data = await self._ask(run.worker, dask_task.read_log, run.remote_log, offset, CHUNK)
            if isinstance(data, bytes):
                return data
            if attempt == 0 and not await self._relocate(run):
                break
        return b""

    async def _ask(self, worker: str, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` on one worker; ``None`` if it failed or did not answer."""
        assert self.client is not None
        call = self.client.run(function, *args, workers=[worker], on_error="return")
        try:
            got = await asyncio.wait_for(call, self.call_timeout)
        except Exception:  # its worker or the scheduler is gone
            return None
        value = got.get(worker)
        return None if isinstance(value, BaseException) else value

    async def _ask_all(self, function: Callable[..., Any], *args: Any) -> dict[str, Any]:
        """``function(*args)`` on every worker: the answers that are not failures."""
        if self.client is None:
            return {}
        call = self.client.run(function, *args, on_error="return")
        try:
            got = await asyncio.wait_for(call, self.call_timeout)
        except Exception:
            return {}
        return {w: v for w, v in got.items() if not isinstance(v, BaseException)}

    async def _relocate(self, run: DaskRun) -> bool:
        """Find a worker that sees the run's log (the one running it first); whether one
        does. Any worker on its host sees it once the one that ran it is gone."""
        found = await self._ask_all(dask_task.locate, run.key, run.remote_log)
        places = [(w, where) for w, where in sorted(found.items()) if isinstance(where, dict)]
        if not places:
            return False
        worker, where = max(places, key=lambda place: place[1].get("pid") is not None)
        run.worker, run.remote_log = worker, where["log"]
        run.host = where.get("host") or run.host
        if where.get("pid") is not None:
            run._pid = where["pid"]
        return True

    async def _exit_file(self, key: str, remote_log: str | None) -> dict[str, Any] | None:
        """A run's end as its host wrote it down, if a worker sees it (an exit code known
        there first)."""
        found = await self._ask_all(dask_task.ended_result, key, remote_log)
        ends = [end for _, end in sorted(found.items()) if isinstance(end, dict)]
        if not ends:
            return None
        return max(ends, key=lambda end: end.get("returncode") is not None)

    async def _result(self, run: DaskRun) -> RunEnd:
        try:
            result = await run.result()
        except Exception as exc:  # KilledWorker, a lost scheduler
            known = await self._exit_file(run.key, run.remote_log)
            if known is not None and known.get("returncode") is not None:
                return _run_end(known)  # it did end, and its host knows how
            why = f"its Dask worker was lost ({type(exc).__name__}): exit code unknown"
            if known is not None and known.get("why"):
                why = str(known["why"])
            return RunEnd(None, stop_reason=run.stop_reason, why=why, host=run.host)
        if result.get("returncode") is None and not result.get("spawn_error"):
            known = await self._exit_file(run.key, run.remote_log)  # a refused second start
            if known is not None and known.get("returncode") is not None:
                return _run_end(known)
        return _run_end(result)

    async def _publish_soon(self) -> None:
        """Publish the runs started this loop turn, in one call (one per job costs 11 ms)."""
        await asyncio.sleep(0)
        batch, self._publish = self._publish, {}
        if batch and self.client is not None:
            try:
                await self.client.publish_dataset(override=True, **batch)
            except Exception as exc:
                log.warning("executor %s: could not publish runs: %s", self.name, exc)

    async def _forget(self, keys: list[str], runs: list[DaskRun]) -> None:
        assert self.client is not None
        client = self.client
        await asyncio.gather(*(client.unpublish_dataset(k) for k in keys), return_exceptions=True)
        by_worker: dict[str, list[tuple[str, str | None]]] = {}
        for run in runs:
            if run.worker is not None:
                by_worker.setdefault(run.worker, []).append((run.key, run.remote_log))
        calls = [
            client.run(
                dask_task.forget_many,
                items,
                keep_log=self.keep_remote_logs,
                workers=[worker],
                on_error="return",
            )
            for worker, items in by_worker.items()
        ]
        await asyncio.gather(*calls, return_exceptions=True)


async def _awaited(future: Future[Any]) -> Any:
    return await future


def header(spec: RunSpec) -> str:
    """The log's three ``#`` lines, as a local run writes them."""
    from datetime import datetime

    from focusq.engine.runner import one_line

    started = datetime.now().astimezone().isoformat(timespec="seconds")
    return (
        f"# focusq: {one_line(spec.display)}\n# cwd: {one_line(spec.cwd)}\n# started: {started}\n"
    )


async def _first(*waits: Any) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


def _run_end(result: Mapping[str, Any]) -> RunEnd:
    """A run's end, from the dict its task returned (or its exit file)."""
    return RunEnd(
        result.get("returncode"),
        stop_reason=result.get("stop_reason") or None,
        spawn_error=result.get("spawn_error"),
        why=result.get("why"),
        host=result.get("host"),
    )


def _lost(run: DaskRun) -> bool:
    """Its task did not return (its worker or the scheduler was lost)."""
    return run.future.status in ("error", "cancelled", "lost")


def _focusq_version() -> str:
    from focusq import __version__ as version

    return version


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _now() -> float:
    import time

    return time.time()
