"""Faults under the Dask executor: what dies, and what each run ends as (issue #15).

Each case runs real commands on a loopback cluster of ``dask scheduler`` + 2 ``dask
worker`` processes (127.0.0.1), and kills a real process with SIGKILL: the focusq side
(a helper process holding a :class:`DaskExecutor`), a Dask worker, or the scheduler. A test
that kills part of a cluster gets a cluster of its own. Every job writes its pid, so its
whole process group is killed at the end of the test whatever happened; every cluster is
stopped by the pids it started, and the worker processes under its nannies are checked gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

distributed = pytest.importorskip("distributed")

from focusq.engine import dask_cluster, dask_task  # noqa: E402
from focusq.engine.dask_executor import DaskExecutor, DaskRun  # noqa: E402
from focusq.engine.executor import Gone, Live, RunHandle, RunSpec  # noqa: E402

DEADLINE = 60.0
_ids = itertools.count(1)

# -- processes ------------------------------------------------------------------------------


def stat(pid: int) -> list[str] | None:
    """``/proc/<pid>/stat`` after the command name (state, ppid, pgrp, ...)."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def alive(pid: int) -> bool:
    fields = stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of a process group."""
    found = []
    for pid in all_pids():
        fields = stat(pid)
        if fields is not None and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            found.append(pid)
    return found


def children(pid: int) -> list[int]:
    return [p for p in all_pids() if (f := stat(p)) is not None and int(f[1]) == pid]


def wait_gone(pids: list[int], deadline: float = 20.0) -> list[int]:
    """Poll until none of ``pids`` runs; the ones still running after ``deadline``."""
    end = time.monotonic() + deadline
    while True:
        left = [p for p in pids if alive(p)]
        if not left or time.monotonic() > end:
            return left
        time.sleep(0.05)


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


async def poll(predicate: Callable[[], Any], what: str, deadline: float = DEADLINE) -> Any:
    """Check ``predicate`` every 20 ms until it holds; fail after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {deadline:g} s waiting for {what}")
        await asyncio.sleep(0.02)


# -- clusters -------------------------------------------------------------------------------


@contextlib.contextmanager
def loopback_cluster(folder: Path) -> Iterator[dask_cluster.Cluster]:
    """A scheduler + 2 single-thread workers, stopped by their pids, nothing left behind."""
    cluster = dask_cluster.start(str(folder), workers=2, threads=1)
    try:
        yield cluster
    finally:
        started = [cluster.scheduler, *cluster.workers]
        under = [c for nanny in cluster.workers for c in children(nanny)]
        dask_cluster.stop(str(folder))
        left = wait_gone(started + under)
        kill_all(left)
        assert not left, f"cluster processes still ran after stop: {left}"


@pytest.fixture(scope="module")
def shared_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dask_cluster.Cluster]:
    """For the cases that kill no part of the cluster."""
    with loopback_cluster(tmp_path_factory.mktemp("dask") / "cluster") as cluster:
        yield cluster


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[dask_cluster.Cluster]:
    """For a case that kills a worker or the scheduler."""
    with loopback_cluster(tmp_path / "cluster") as cluster:
        yield cluster


async def worker_pids(executor: DaskExecutor) -> dict[str, int]:
    """Dask worker address -> the pid of its ``dask worker`` process (the nanny's child)."""
    assert executor.client is not None
    got = await executor.client.run(os.getpid, on_error="return")
    return {address: pid for address, pid in got.items() if isinstance(pid, int)}


async def restarted(executor: DaskExecutor, dead: int) -> None:
    """Poll until the nanny brought a worker back in place of the one of pid ``dead`` (it
    may get the same address)."""
    end = time.monotonic() + DEADLINE
    while True:
        now = await worker_pids(executor)
        if len(now) == 2 and dead not in now.values():
            return
        assert time.monotonic() < end, f"no worker came back in place of {dead}: {now}"
        await asyncio.sleep(0.05)


# -- jobs -----------------------------------------------------------------------------------


@dataclass
class Job:
    """A job's files: its marks (one line per start and end), the gate it waits for, the
    pids of its group leaders (for the clean-up)."""

    folder: Path

    @property
    def marks(self) -> Path:
        return self.folder / "marks"

    @property
    def gate(self) -> Path:
        return self.folder / "gate"

    @property
    def pids(self) -> Path:
        return self.folder / "pids"

    @property
    def background(self) -> Path:
        return self.folder / "bg.pid"

    def script(self, code: int, *, grandchild: bool = False) -> list[str]:
        """Mark the start, print a line, wait (at most 60 s) for the gate, mark the end."""
        lines = [
            f"echo $$ >> {self.pids}",
            f"echo start >> {self.marks}",
            "echo first line",
        ]
        if grandchild:
            lines.append(f"sleep 300 & echo $! > {self.background}.part")
            lines.append(f"mv {self.background}.part {self.background}")
        lines += [
            "i=0",
            f"while [ ! -e {self.gate} ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done",
            "echo last line",
            f"echo end >> {self.marks}",
            f"exit {code}",
        ]
        return ["sh", "-c", "; ".join(lines)]

    def marked(self) -> list[str]:
        try:
            return self.marks.read_text().split()
        except FileNotFoundError:
            return []

    def leaders(self) -> list[int]:
        try:
            return [int(x) for x in self.pids.read_text().split()]
        except FileNotFoundError:
            return []


@pytest.fixture
def job(tmp_path: Path) -> Iterator[Job]:
    folder = tmp_path / "job"
    folder.mkdir()
    made = Job(folder)
    try:
        yield made
    finally:  # whatever happened, nothing of the job's groups runs on
        made.gate.touch()
        for pgid in made.leaders():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)


def spec(tmp_path: Path, argv: list[str]) -> RunSpec:
    run_id = os.getpid() * 1000 + next(_ids)
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    return RunSpec(
        run_id=run_id,
        task_id=run_id,
        attempt=1,
        tag=f"faults:{run_id}",
        argv=argv,
        cwd=str(tmp_path),
        env=None,
        log_path=str(logs / f"{run_id}-1.log"),
        display=" ".join(argv),
        grace=1.0,
    )


def row(run_spec: RunSpec) -> dict[str, Any]:
    """The run's row, as the worker hands it to ``recover``."""
    return {
        "id": run_spec.run_id,
        "task_id": run_spec.task_id,
        "attempt": run_spec.attempt,
        "log_path": run_spec.log_path,
        "started_at": time.time(),
        "pid": None,
        "pgid": None,
    }


def body(data: bytes) -> bytes:
    """A log without focusq's three ``#`` header lines (which must be there)."""
    lines = data.split(b"\n", 3)
    assert len(lines) == 4 and all(line.startswith(b"# ") for line in lines[:3]), data[:300]
    return lines[3]


@contextlib.asynccontextmanager
async def executor_on(cluster: dask_cluster.Cluster) -> AsyncIterator[DaskExecutor]:
    made = DaskExecutor(
        "here", cluster.address, "faults", follow_interval=0.05, connect_timeout=5.0
    )
    await made.open()
    try:
        assert made.client is not None  # the cases count on both workers being there
        await asyncio.wait_for(made.client.wait_for_workers(2), DEADLINE)
        yield made
    finally:
        await asyncio.wait_for(made.close(), DEADLINE)


async def started(executor: DaskExecutor, run_spec: RunSpec) -> DaskRun:
    seen = asyncio.Event()
    handle = executor.start(run_spec, lambda _h: seen.set(), lambda _h: None)
    await asyncio.wait_for(seen.wait(), DEADLINE)
    assert handle.worker is not None and handle.pid is not None
    return handle


async def finished(handle: RunHandle, deadline: float = DEADLINE) -> None:
    try:
        await asyncio.wait_for(handle.finished.wait(), deadline)
    except TimeoutError:
        raise AssertionError(f"the run did not finish within {deadline:g} s") from None


# -- a focusq side that can be SIGKILLed ------------------------------------------------------

SIDE = """
import asyncio, json, os, sys
from focusq.engine.dask_executor import DaskExecutor
from focusq.engine.executor import RunSpec

async def main():
    conf = json.loads(sys.argv[1])
    executor = DaskExecutor("here", conf["address"], "faults", follow_interval=0.05)
    await executor.open()
    seen = asyncio.Event()
    handle = executor.start(RunSpec(**conf["spec"]), lambda _h: seen.set(), lambda _h: None)
    await asyncio.wait_for(seen.wait(), 60)
    while handle.key not in await executor.client.list_datasets():
        await asyncio.sleep(0.02)
    info = {"worker": handle.worker, "log": handle.remote_log, "pid": handle.pid}
    with open(conf["ready"] + ".part", "w") as file:
        json.dump(info, file)
    os.rename(conf["ready"] + ".part", conf["ready"])
    await asyncio.sleep(120)

asyncio.run(main())
"""


@dataclass
class Side:
    process: subprocess.Popen[bytes]
    ready: Path

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def side(tmp_path: Path) -> Iterator[Callable[[dask_cluster.Cluster, RunSpec], Side]]:
    """Start a job from a process of its own (killed at the end of the test, if not before)."""
    made: list[Side] = []
    script = tmp_path / "side.py"
    script.write_text(SIDE)

    def start(cluster: dask_cluster.Cluster, run_spec: RunSpec) -> Side:
        ready = tmp_path / f"ready-{run_spec.run_id}.json"
        conf = {"address": cluster.address, "spec": asdict(run_spec), "ready": str(ready)}
        del conf["spec"]["placement"]  # type: ignore[attr-defined]
        out = open(tmp_path / "side.log", "ab")  # noqa: SIM115
        with out:
            process = subprocess.Popen(
                [sys.executable, str(script), json.dumps(conf)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
        made.append(Side(process, ready))
        return made[-1]

    try:
        yield start
    finally:
        for one in made:
            if one.process.poll() is None:
                one.kill()


async def started_from_side(side: Side, run_spec: RunSpec) -> dict[str, Any]:
    """Wait until the side process saw the job start, published it and copied its first
    line into the local log; what it knew of the run (worker, remote log, pid)."""

    def ready() -> dict[str, Any] | None:
        if side.process.poll() is not None:
            raise AssertionError(f"the focusq side exited ({side.process.returncode})")
        try:
            return dict(json.loads(side.ready.read_text()))
        except FileNotFoundError:
            return None

    info: dict[str, Any] = await poll(ready, "the side to start the job")

    def pulled() -> bool:
        with contextlib.suppress(FileNotFoundError):
            return b"first line\n" in Path(run_spec.log_path).read_bytes()
        return False

    await poll(pulled, "the side to copy the first line into the local log")
    return info


async def recovered(
    executor: DaskExecutor, run_spec: RunSpec, ended: list[RunHandle]
) -> Live | Gone:
    found = await asyncio.wait_for(executor.recover([row(run_spec)], ended.append), DEADLINE)
    assert set(found) == {run_spec.run_id}
    return found[run_spec.run_id]


# -- 1. the focusq side dies and comes back ---------------------------------------------------


async def test_the_focusq_side_killed_mid_job_reattaches_and_gets_the_whole_log(
    shared_cluster: dask_cluster.Cluster, tmp_path: Path, job: Job, side: Any
) -> None:
    run_spec = spec(tmp_path, job.script(5))
    first = side(shared_cluster, run_spec)
    info = await started_from_side(first, run_spec)
    first.kill()
    assert job.marked() == ["start"]

    async with executor_on(shared_cluster) as executor:
        ended: list[RunHandle] = []
        what = await recovered(executor, run_spec, ended)
        assert isinstance(what, Live), what
        handle = what.handle
        assert not handle.finished.is_set()
        job.gate.touch()
        await finished(handle)
        assert handle.end is not None
        assert (handle.end.returncode, handle.end.stop_reason) == (5, None), handle.end
        assert ended == [handle]
        local = Path(run_spec.log_path).read_bytes()
        assert body(local) == b"first line\nlast line\n"
        assert local == Path(info["log"]).read_bytes()  # byte-identical to the remote log
    assert job.marked() == ["start", "end"]  # ran once


async def test_a_job_that_ends_while_no_focusq_side_is_connected_keeps_its_result(
    shared_cluster: dask_cluster.Cluster, tmp_path: Path, job: Job, side: Any
) -> None:
    run_spec = spec(tmp_path, job.script(5))
    first = side(shared_cluster, run_spec)
    info = await started_from_side(first, run_spec)
    first.kill()
    job.gate.touch()
    exit_file = Path(info["log"]).with_suffix(".exit")
    await poll(exit_file.exists, "the job to end while no one watches")

    async with executor_on(shared_cluster) as executor:
        ended: list[RunHandle] = []
        what = await recovered(executor, run_spec, ended)
        if isinstance(what, Live):
            await finished(what.handle)
            end = what.handle.end
        else:
            end = what.end
        assert end is not None and (end.returncode, end.stop_reason) == (5, None), end
        local = Path(run_spec.log_path).read_bytes()
        assert body(local) == b"first line\nlast line\n"
        assert local == Path(info["log"]).read_bytes()
    assert job.marked() == ["start", "end"]


# -- 2. a Dask worker dies mid-job ------------------------------------------------------------


async def test_a_dask_worker_killed_mid_job_interrupts_it_and_leaves_nothing_running(
    own_cluster: dask_cluster.Cluster, tmp_path: Path, job: Job
) -> None:
    async with executor_on(own_cluster) as executor:
        handle = await started(executor, spec(tmp_path, job.script(0, grandchild=True)))
        await poll(job.background.exists, "the job's grandchild")
        grandchild = int(job.background.read_text())
        pgid = handle.pid
        assert pgid is not None and grandchild in group_members(pgid)
        workers = await worker_pids(executor)
        victim = workers[handle.worker]  # type: ignore[index]
        assert victim in [c for nanny in own_cluster.workers for c in children(nanny)]

        os.kill(victim, signal.SIGKILL)
        await finished(handle)
        assert handle.end is not None
        assert handle.end.returncode is None and handle.end.why, handle.end
        await poll(lambda: not group_members(pgid), "the job's group to be gone", deadline=20)
        assert job.marked() == ["start"]  # started once, never again
        # the nanny brought a worker back; the run is still not started a second time
        await restarted(executor, victim)
        assert job.marked() == ["start"]


# -- 3. a finished result's worker dies before the focusq side collected it ---------------------


async def test_a_finished_result_outlives_its_worker_and_the_job_runs_once(
    own_cluster: dask_cluster.Cluster, tmp_path: Path, job: Job, side: Any
) -> None:
    run_spec = spec(tmp_path, job.script(3))
    first = side(own_cluster, run_spec)
    info = await started_from_side(first, run_spec)
    first.kill()
    job.gate.touch()
    exit_file = Path(info["log"]).with_suffix(".exit")
    await poll(exit_file.exists, "the job to end while no one watches")

    async with executor_on(own_cluster) as executor:
        before = await worker_pids(executor)
        os.kill(before[info["worker"]], signal.SIGKILL)
        await restarted(executor, before[info["worker"]])

        ended: list[RunHandle] = []
        what = await recovered(executor, run_spec, ended)
        if isinstance(what, Live):
            await finished(what.handle)
            end = what.handle.end
        else:
            end = what.end
        assert end is not None and (end.returncode, end.stop_reason) == (3, None), end
    assert job.marked() == ["start", "end"]  # ran once: not recomputed


# -- 4. the scheduler dies mid-job ------------------------------------------------------------


async def test_the_scheduler_killed_mid_job_ends_the_run_without_a_hang(
    own_cluster: dask_cluster.Cluster, tmp_path: Path, job: Job
) -> None:
    async with executor_on(own_cluster) as executor:
        handle = await started(executor, spec(tmp_path, job.script(0)))
        os.kill(own_cluster.scheduler, signal.SIGKILL)
        await finished(handle, deadline=30.0)
        assert handle.end is not None
        if handle.end.returncode is None:
            assert handle.end.why, handle.end
        assert job.marked()[:1] == ["start"]
    assert job.marked().count("start") == 1  # never a second start


# -- 5. a stop goes through the task, never Future.cancel -------------------------------------


async def test_stop_goes_through_stop_run_and_never_cancels_the_future(
    shared_cluster: dask_cluster.Cluster,
    tmp_path: Path,
    job: Job,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cancels: list[Any] = []
    real_cancel = distributed.Client.cancel

    def cancel(self: Any, *args: Any, **kwargs: Any) -> Any:
        cancels.append(args)
        return real_cancel(self, *args, **kwargs)

    monkeypatch.setattr(distributed.Client, "cancel", cancel)
    async with executor_on(shared_cluster) as executor:
        assert executor.client is not None
        calls: list[str] = []
        real_run = executor.client.run

        def run(function: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append(getattr(function, "__name__", repr(function)))
            return real_run(function, *args, **kwargs)

        monkeypatch.setattr(executor.client, "run", run)
        script = "trap 'echo got TERM; exit 7' TERM; " + " ".join(job.script(0)[2:])
        handle = await started(executor, spec(tmp_path, ["sh", "-c", script]))
        await poll(lambda: b"first line" in Path(handle.spec.log_path).read_bytes(), "a line")
        executor.stop(handle, "cancelled")
        await finished(handle)
        assert handle.end is not None
        assert (handle.end.stop_reason, handle.end.returncode) == ("cancelled", 7)
        assert Path(handle.spec.log_path).read_bytes().endswith(b"got TERM\n")
        assert dask_task.stop_run.__name__ in calls
        assert cancels == []
        assert handle.pid is not None and not group_members(handle.pid)
        # the worker's thread is free again: a next job runs at once on either worker
        quick = spec(tmp_path, ["true"])
        again = executor.start(quick, lambda _h: None, lambda _h: None)
        await finished(again, deadline=10.0)
        assert again.end is not None and again.end.returncode == 0
    assert job.marked() == ["start"]
