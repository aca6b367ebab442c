"""The worker: the one process that starts mechanical jobs for a database.

It holds the ``worker`` lease, recovers what an earlier worker left running, and then
reacts to three things only: a change of the database files (watchfiles), a job's exit
(a pidfd in the event loop) and a timer for ``at:`` times, backoffs, staggers and
timeouts. Each reaction is a *tick*: read what changed since the last event seen, ask the
scheduler what to start, and write every resulting state change in one transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import time
from collections.abc import Iterable
from typing import Any

from focusq.engine import lease, runner, runs
from focusq.engine.active import Active
from focusq.engine.executor import Executor, Live, Recovered, RunHandle
from focusq.engine.executors import RETRY_AFTER, Executors
from focusq.engine.faults import pause_point
from focusq.engine.hooks import Hooks
from focusq.engine.local_executor import LocalExecutor
from focusq.engine.outcome import RunHistory, fail_fast_reason
from focusq.engine.procs import become_subreaper
from focusq.engine.queue import Queue
from focusq.engine.runner import SpawnError
from focusq.engine.scheduler import Job, Limits, choose
from focusq.engine.series import Series
from focusq.paths import Paths, make_private_dir
from focusq.settings import load as load_settings
from focusq.states import EventKind, TaskStatus
from focusq.store.aio import Store
from focusq.store.driver import clear_damage, mark_damaged
from focusq.store.ops import base, groups, jobs, queue
from focusq.watch import database_changes, file_changes

log = logging.getLogger("focusq.worker")

RUNNING = ("running", "paused")


class Worker:
    """Runs the jobs of one database until idle for ``worker.idle_exit`` seconds."""

    def __init__(self, paths: Paths, settings: Any, store: Store) -> None:
        self.paths = paths
        self.settings = settings
        self.store = store
        self.limits = Limits.of(settings)
        self.groups: dict[str, dict[str, Any]] = {}
        """Groups as the shell changed them (caps, pauses), over the config's."""
        self.active: dict[int, Active] = {}
        self.history = RunHistory(settings.engine.default_estimate)
        self.queue = Queue(self.history)
        self.jobs = self.queue.jobs
        """Open jobs that are not queued, by id: their whole records, as last read."""
        self.status = self.queue.status
        """The state of every task a dependency names, and of every open job."""
        self.last_start: dict[str, float] = {}
        self.series = Series()
        """When the next recurring job is due."""
        self.last_event = 0
        self._written = 0
        """The newest event after this worker's last write: the ones up to it are seen."""
        self._evidence: list[str] = []
        """Pid and exit files to delete once the database holds what they say."""
        self.wake = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._stopping = asyncio.Event()
        self._pending: list[Any] = []
        """Store steps to write with the next transaction (pids of started jobs)."""
        self._pending_known: list[Active] = []
        """The runs whose pids those steps record, for the supervisor once committed."""
        self._flush: asyncio.TimerHandle | None = None
        self._wake_at: float | None = None
        self._replan = True
        """Plan on the next tick even if nothing changed (the first tick, after recovery)."""
        self._db_changed = True
        """The database files changed since the last refresh (or it never ran)."""
        self._base_env = dict(os.environ)
        """The environment of jobs added before environments were captured, read once."""
        self.pid = 0  # as its lease holds it, once taken
        self.database_id = ""
        """This database's id, in every job's run tag (read when the worker starts)."""
        self.local: LocalExecutor | None = None
        """Runs jobs on this machine through the job supervisor (made in :meth:`run`)."""
        self.executors: Executors | None = None
        self._away: dict[str, dict[int, dict[str, Any]]] = {}
        """Runs on executors not reachable when this worker started, by executor and run."""
        self.hooks: Hooks
        """``[hooks] on_end``, run once per finished run (made in :meth:`run`)."""

    # -- life cycle -------------------------------------------------------------------------

    async def run(self) -> None:
        """Take the lease, recover, then tick on every change until idle or stopped."""
        me, previous = await lease.take(self.store, self.paths.database)
        self.pid = me["pid"]
        make_private_dir(self.paths.logs)
        log.info("worker %d started for %s", me["pid"], self.paths.database)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        # Jobs whose supervisor dies are reparented here and reaped with their status.
        become_subreaper()
        loop.add_signal_handler(signal.SIGCHLD, self._reap)
        self.hooks = Hooks(loop, self.settings)
        watcher = asyncio.create_task(self._watch(), name="watch-database")
        config_watcher = asyncio.create_task(self._watch_config(), name="watch-config")
        heartbeat = asyncio.create_task(lease.keep(self.store, self._lease_lost), name="heartbeat")
        try:
            self.history.load(await self.store.run(jobs.durations_of_ok_runs()))
            await self._load_groups()
            if staggers := self.limits.group_stagger:  # the last worker's starts count too
                since = runner.now() - max(staggers.values())
                self.last_start = await self.store.run(jobs.group_starts(since))
            self.database_id = await self.store.run(base.database_id())
            self.local = LocalExecutor(
                loop,
                os.path.join(self.paths.logs, "supervisor.lock"),
                self.database_id,
                grace=self.settings.engine.kill_grace,
                same_boot=previous is None or previous["boot_id"] == runner.boot_id(),
            )
            self.executors = Executors(
                self.local, self.settings, self.paths.home, self.database_id, self._replan_now
            )
            await self.local.open()
            await self._recover()
            self.local.recovered()
            # What is loaded now (a big queue's views) lives long: the garbage collector
            # need not walk it again on every full collection.
            gc.freeze()
            await self._loop()
        finally:
            watcher.cancel()
            config_watcher.cancel()
            heartbeat.cancel()
            for task in (watcher, config_watcher):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
                loop.remove_signal_handler(sig)
            if self.executors is not None:
                await self.executors.close()
            await lease.give_up(self.store, me["pid"])
            log.info("worker %d stopped; %d job(s) left running", me["pid"], len(self.active))

    def _reap(self) -> None:
        """A child exited: a job this worker watches itself, or anything orphaned below it."""
        if self.local is None:
            return
        for pid, code in self.local.reap():
            self.hooks.reaped(pid, code)

    def stop(self) -> None:
        """Leave the loop; running jobs go on and the next worker adopts them."""
        self._stopping.set()
        self.wake.set()

    async def _loop(self) -> None:
        idle_exit = self.settings.worker.idle_exit
        idle_since: float | None = None
        while not self._stopping.is_set():
            await self.tick()
            idle = not self.active and not len(self.queue.ready) and not self._running()
            # From when the work ran out: a wake that brings none (a heartbeat) never resets it.
            idle_since = (idle_since or time.monotonic()) if idle else None
            try:
                if idle_since is not None:
                    left = idle_since + idle_exit - time.monotonic()
                    await asyncio.wait_for(self.wake.wait(), timeout=max(0.0, left))
                else:
                    await self.wake.wait()
            except TimeoutError:
                idle_since = None
                pause_point("IDLE_EXIT")
                seen = max(self.last_event, self._written)  # all changes up to it handled
                if await lease.give_up_if_quiet(self.store, self.pid, seen):
                    log.info("idle for %gs: exiting", idle_exit)
                    return
                self._db_changed = True  # work came in as it was exiting: stay for it
            self.wake.clear()

    def _running(self) -> bool:
        """Whether a job runs that this worker does not watch (rare: it only reads it)."""
        return any(j["status"] in RUNNING for j in self.jobs.values())

    async def _watch(self) -> None:
        # 10 ms keeps a new job's start well inside 50 ms for well under 1% of a core idle.
        async for _ in database_changes(self.paths.home, step=10):
            self._db_changed = True
            self.wake.set()

    async def _watch_config(self) -> None:
        """A changed config (caps, locks, groups, hooks) applies at once, no restart; a bad
        one is logged and the old one kept."""
        with contextlib.suppress(FileNotFoundError):  # no config folder: nothing to watch
            async for _ in file_changes(self.paths.config_file):
                try:
                    self.settings = self.hooks.settings = load_settings(self.paths)
                except Exception as exc:  # a bad file, or worse: the old settings stay
                    log.error("the changed config is not used: %s", exc)
                    continue
                if self.executors is not None:
                    self.executors.configured(self.settings)
                log.info("config changed: caps, locks, groups and hooks follow it now")
                await self._load_groups()

    async def _load_groups(self) -> None:
        self.groups = await self.store.run(groups.group_states())
        self.limits = Limits.of(self.settings, self.groups)
        self._replan_now()

    def _lease_lost(self) -> None:
        log.error("the lease was taken over: stopping")
        self.stop()

    # -- recovery ---------------------------------------------------------------------------

    async def _recover(self) -> None:
        """Re-attach to jobs that outlived the last worker; end the ones that did not."""
        steps = []
        pause_point("BEFORE_RECOVERY")
        self.last_event, open_jobs, statuses = await self.store.run(queue.start())
        self.queue.recovered(open_jobs, statuses)
        await self.queue.load(self.store, runner.now())
        running = {j["run"]["id"]: j for j in open_jobs if j["status"] in RUNNING and j["run"]}
        assert self.executors is not None
        names = sorted({j["run"]["executor"] for j in running.values()})
        for name in names:
            rows = self._rows(j for j in running.values() if j["run"]["executor"] == name)
            executor = await self.executors.get(name)
            if isinstance(executor, str):  # unreachable now: its jobs may well run on there
                if name == "local":
                    continue
                log.warning("%s: %d run(s) kept open until it answers", executor, len(rows))
                self._away[name] = {row["id"]: running[row["id"]] for row in rows}
                continue
            found = await executor.recover(rows, self._ended)
            for run_id, what in found.items():
                steps.extend(self._recovered(running[run_id], executor, what))
        if steps:
            await self.store.run(base.apply(steps))
        self._forget_evidence()
        self.hooks.fire()

    async def _reattach(self) -> list[Any]:
        """Re-attach the runs of executors unreachable at the start, once one answers."""
        assert self.executors is not None
        steps: list[Any] = []
        for name, away in list(self._away.items()):
            executor = self.executors.poll(name)  # opened in the background: no wait here
            if executor is None or isinstance(executor, str):
                continue
            del self._away[name]
            rows = self._rows(away.values())
            found = await executor.recover(rows, self._ended)
            for run_id, what in found.items():
                steps.extend(self._recovered(away[run_id], executor, what))
        return steps

    def _rows(self, running: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """The open runs of ``running`` jobs, as an executor's ``recover`` takes them."""
        grace = self.settings.engine.kill_grace
        return [
            {**j["run"], "task_id": j["id"], "timeout": j["timeout"], "grace": grace}
            for j in running
        ]

    def _away_ids(self) -> set[int]:
        return {j["id"] for away in self._away.values() for j in away.values()}

    def _recovered(self, job: dict[str, Any], executor: Executor, what: Recovered) -> list[Any]:
        """Watch a run that outlived its worker, or write down how it ended."""
        run = job["run"]
        local = executor is self.local
        if isinstance(what, Live):
            args = (run["log_path"], run["started_at"], run["attempt"])
            self.active[job["id"]] = Active(job["id"], run["id"], what.handle, executor, *args)
            if local:
                self._evidence += runs.evidence(run["log_path"])[:1]
            log.info("re-attached to job #%d (pid %s)", job["id"], what.handle.pid)
            if what.record_pid is not None:  # keep the pid the run had, from a file or its tag
                return [
                    jobs.record_spawn(run["id"], what.record_pid, run["pgid"] or what.record_pid)
                ]
            return []
        end = what.end
        result = {None: "interrupted", 0: "ok"}.get(end.returncode, "failed")
        if (job["intent"] or "").startswith("cancel") and result != "ok":
            result = "cancelled"  # asked while no worker ran: no retry follows
        step, status = runs.finish_step(
            job,
            run["id"],
            run["attempt"],
            result,
            end.returncode,
            run["log_path"],
            what.at,
            engine=self.settings.engine,
            why=end.why,
        )
        self.queue.set_status(job["id"], status.value)
        if local:
            self._evidence += runs.evidence(run["log_path"])
        self.hooks.ended(job, result, end.returncode, run["log_path"])
        log.info("job #%d ended while no worker ran: %s", job["id"], result)
        return [step, *self._fail_fast(job, run["attempt"], result)]

    def _forget_evidence(self) -> None:
        """Delete the pid and exit files of runs the database now holds in full."""
        runs.forget(self._evidence)
        self._evidence.clear()

    # -- the tick ---------------------------------------------------------------------------

    async def tick(self) -> None:
        """Catch up with the database, settle ended jobs, start what may start."""
        changed = False
        if self._db_changed:
            self._db_changed = False
            changed = await self._refresh()
        now = runner.now()
        steps: list[Any] = self._pending
        known = self._pending_known
        self._pending, self._pending_known = [], []
        if self._away:
            steps.extend(await self._reattach())
        away = self._away_ids()
        ended = [t for t, a in self.active.items() if a.handle.finished.is_set()]
        settled = []
        for task_id in ended:
            active = self.active[task_id]
            settled.append(active)
            steps.extend(self._settle(task_id, active, now))
        deferred = set()
        for task_id in sorted(self.queue.intents):
            job = self.jobs.get(task_id)
            if task_id in away:
                deferred.add(task_id)  # for when its executor answers again
            elif task_id not in self.active:
                if job is not None or task_id in self.queue:
                    steps.append(jobs.clear_intent(task_id))
            elif job is None or not job["intent"]:
                continue
            elif self.active[task_id].handle.pid is None:
                deferred.add(task_id)  # signals need its pid: when its start is reported
            else:
                steps.extend(self._apply_intent(job, now))
        self.queue.intents = deferred

        starts: list[int] = []
        skips: list[tuple[int, str]] = []
        wake_at: float | None = None
        due = self._wake_at is not None and self._wake_at <= now
        planned = changed or ended or self._replan or due
        if planned:
            ready = self.queue.ready
            ready.advance(now)
            skips = ready.skips()
            self._replan = False
            steps.extend(self.series.steps(now, self.settings.recurring.catch_up))
            holding = [*self.active, *away]  # a run kept open holds its slot and locks
            running = [self._job(self.jobs[t]) for t in holding if t in self.jobs]
            assert self.executors is not None
            placed = ready.placed(self.limits.executor_for) or self.limits.executor_caps
            wanted = {*placed, *self._away}  # where ready jobs and kept-open runs go
            limits = self.limits.without(self.executors.unavailable(wanted))
            starts, stagger = choose(ready.ready(), running, limits, now, self.last_start)
            wake_at = min((t for t in (ready.wake_at, stagger) if t is not None), default=None)
        where = {t: self.limits.executor_of(self.queue.queued[t]) for t in starts}
        assert self.executors is not None
        # Decided on this view of the queue: written only if no other process changed it.
        decided: list[Any] = [jobs.skip(t, now, why) for t, why in skips]
        decided += [jobs.claim(t, now, self.paths.logs, where[t]) for t in starts]
        claimed: list[Any] = []
        if steps or decided:
            if skips:
                pause_point("SKIP")
            seen = max(self.last_event, self._written)
            _, fresh, self._written = await self.store.run(jobs.write_tick(steps, decided, seen))
            self._forget_evidence()
            self.hooks.fire()
            if fresh is None:  # another process changed the queue meanwhile: plan again
                starts = []
                self._db_changed = self._replan = True
                self.wake.set()
            else:
                claimed = fresh[len(skips) :]  # the skips' results come first
                self.queue.skipped(t for t, _ in skips)
        for executor in self.executors:
            mine = [a.handle for a in known if a.executor is executor]
            over = [a.handle for a in settled if a.executor is executor]
            if mine or over:
                executor.acknowledge(mine, over)
        for task_id, claim in zip(starts, claimed, strict=True):
            if claim is not None:
                self.queue.claimed(claim["job"])
                executor = await self.executors.get(where[task_id])
                self._pending.extend(self._spawn(claim["job"], claim, executor, now))
        if self._pending:
            self._arm_flush()
        if planned:
            await self.series.load(self.store)
            retry = self.executors.retry_in(wanted)
            if self._away:
                retry = RETRY_AFTER if retry is None else min(retry, RETRY_AFTER)
            if retry is not None:  # look again when an executor may answer
                again = runner.now() + retry
                wake_at = again if wake_at is None else min(wake_at, again)
            self._arm_timer(self.series.wake(wake_at))

    def _arm_flush(self) -> None:
        if self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(0.05, self._flush_now)

    def _flush_now(self) -> None:
        self._flush = None
        self.wake.set()

    async def _refresh(self) -> bool:
        """Read what changed since the last event seen, a page at a time; ``True`` if any
        task did."""
        changed = False
        more = True
        while more:
            page = await self.store.run(queue.changes_since(self.last_event))
            self.last_event, more, views, records, states, other = page
            if EventKind.GROUP in other:  # a cap set or a pause from the shell
                await self._load_groups()
            self.queue.take(views, records, states, runner.now(), self.active)
            self.series.saw(views)
            changed = changed or bool(views)
        return changed

    def _job(self, record: dict[str, Any]) -> Job:
        """The scheduler's view of a record, built once per loaded record."""
        job: Job | None = record.get("_job")
        if job is None:
            job = record["_job"] = Job.of(record, self.history.estimate(record))
        return job

    # -- starting ---------------------------------------------------------------------------

    def _spawn(
        self, job: dict[str, Any], claim: dict[str, Any], executor: Executor | str, now: float
    ) -> list[Any]:
        assert self.executors is not None
        try:
            if isinstance(executor, str):
                raise SpawnError(executor)
            spec = self.executors.spec(executor.name, job, claim, self._base_env)
            handle = executor.start(spec, self._started, self._ended)
        except SpawnError as exc:
            log.info("job #%d could not start: %s", job["id"], exc)
            runs.append_log(claim["log_path"], f"focusq: could not start: {exc}\n")
            self.hooks.ended(job, "spawn_error", None, claim["log_path"])
            step = runs.spawn_error_step(job["id"], claim["run_id"], str(exc), now)
            return [step, *self._fail_fast(job, claim["attempt"], "spawn_error")]
        if job["group"]:
            self.last_start[job["group"]] = now
        job["status"] = "running"
        self.active[job["id"]] = Active(
            job["id"], claim["run_id"], handle, executor, claim["log_path"], now, claim["attempt"]
        )
        log.debug("starting job #%d: %s", job["id"], job["title"])
        return []

    def _started(self, handle: RunHandle) -> None:
        """A job's pid is known: record it, and send what waited for it."""
        active = self.active.get(handle.spec.task_id)
        if active is None or active.handle is not handle or handle.pid is None:
            return
        log.debug("job #%d runs as pid %d", active.task_id, handle.pid)
        host = None if active.executor is self.local else handle.host
        self._pending.append(jobs.record_spawn(active.run_id, handle.pid, handle.pid, host))
        self._pending_known.append(active)
        # Written with the next tick's transaction (the supervisor writes a pid file if
        # this worker dies before then), or within a moment if nothing else happens.
        self._arm_flush()
        if active.task_id in self.queue.intents:
            self.wake.set()

    def _ended(self, handle: RunHandle) -> None:
        self.wake.set()

    def _replan_now(self) -> None:
        """Plan again at once (the caps changed; an executor opened, or failed to)."""
        self._replan = True
        self.wake.set()

    # -- stopping ---------------------------------------------------------------------------

    def _stop_job(self, task_id: int, reason: str, first: int = signal.SIGTERM) -> None:
        active = self.active.get(task_id)
        if active is not None:
            active.executor.stop(active.handle, reason, first)

    def _apply_intent(self, job: dict[str, Any], now: float) -> list[Any]:
        active = self.active[job["id"]]
        intent = job["intent"]
        job["intent"] = None
        if intent.startswith("cancel"):  # "cancel" or "cancel:SIGINT"
            first = getattr(signal, intent.partition(":")[2] or "SIGTERM", signal.SIGTERM)
            self._stop_job(job["id"], "cancelled", first)
            return []  # kept until its end is written: a worker that dies meanwhile still knows
        if intent == "pause" and job["status"] == "running":
            active.executor.pause(active.handle)
            return [jobs.set_paused(job["id"], True, now)]
        if intent == "resume" and job["status"] == "paused":
            active.executor.resume(active.handle)
            return [jobs.set_paused(job["id"], False, now)]
        return [jobs.clear_intent(job["id"])]

    # -- ending -----------------------------------------------------------------------------

    def _settle(self, task_id: int, active: Active, now: float) -> list[Any]:
        """Write down how an ended job ended, and what follows from it."""
        del self.active[task_id]
        end = active.handle.end
        assert end is not None
        exit_code, sig = runner.exit_details(end.returncode)
        job = self.jobs.get(task_id)
        if job is None:
            return []
        if end.spawn_error is not None:
            log.info("job #%d could not start: %s", task_id, end.spawn_error)
            self.queue.set_status(task_id, TaskStatus.FAILED.value)
            self.hooks.ended(job, "spawn_error", None, active.log_path)
            step = runs.spawn_error_step(job["id"], active.run_id, end.spawn_error, now)
            return [step, *self._fail_fast(job, active.attempt, "spawn_error")]
        if end.stop_reason:
            result = end.stop_reason
        elif end.returncode == 0:
            result = "ok"
        elif end.returncode is None:
            result = "interrupted"
        else:
            result = "failed"
        if result == "ok" and self.history.learn(job, now - active.started):
            self.queue.learnt(job)  # the estimate moved much: re-order the queued jobs like it
        step, status = runs.finish_step(
            job,
            active.run_id,
            active.attempt,
            result,
            exit_code,
            active.log_path,
            now,
            sig,
            engine=self.settings.engine,
            why=end.why,
        )
        # Dependents may start in this very tick: the scheduler sees the new state now.
        self.queue.set_status(task_id, status.value)
        self.hooks.ended(job, result, exit_code, active.log_path)
        log.debug("job #%d ended: %s (exit %s)", task_id, result, exit_code)
        return [step, *self._fail_fast(job, active.attempt, result)]

    def _fail_fast(self, job: dict[str, Any], attempt: int, result: str) -> list[Any]:
        """A failure in a fail-fast group cancels the rest of the group."""
        if (reason := fail_fast_reason(self.settings.groups, job, attempt, result)) is None:
            return []
        group = job["group"]  # those not started are picked as the group stands when written
        steps: list[Any] = [jobs.cancel_unstarted_in_group(group, job["id"], runner.now(), reason)]
        for other in [t for t, o in self.jobs.items() if o["group"] == group and t != job["id"]]:
            if other in self.active:  # kept as its intent: no retry, whoever writes its end
                self._stop_job(other, "cancelled")
                steps.append(jobs.set_intent(other, "cancel"))
        return steps

    def _arm_timer(self, wake_at: float | None) -> None:
        self._wake_at = wake_at
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if wake_at is not None:
            delay = max(0.0, wake_at - runner.now())
            self._timer = asyncio.get_running_loop().call_later(delay, self.wake.set)


async def run_worker(paths: Paths, settings: Any) -> None:
    """Open the store and run a worker until it is idle or stopped."""
    async with Store(paths.database, busy_timeout=settings.store.busy_timeout) as store:
        # Rarely started, so it checks the file: a damaged one is written to by no one.
        problems = await store.run(base.quick_check())
        if problems != ["ok"]:
            raise mark_damaged(paths.database, problems)
        clear_damage(paths.database)
        await Worker(paths, settings, store).run()
