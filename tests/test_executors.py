"""One conformance suite for every executor: the local one and the Dask one.

The Dask executor runs on a loopback cluster of 2 single-thread workers (separate
processes bound to 127.0.0.1, started and stopped by the pids this suite started). Each
test starts real commands and waits on the run's own "finished" event.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import resource
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from focusq.engine.executor import Executor, RunHandle, RunSpec
from focusq.engine.local_executor import LocalExecutor
from focusq.engine.runner import SpawnError
from tests.engine_helpers import group_stopped

pytestmark = pytest.mark.slow

distributed = pytest.importorskip("distributed")

from focusq.engine import dask_cluster  # noqa: E402
from focusq.engine.dask_executor import DaskExecutor  # noqa: E402

_ids = itertools.count(1)
DEADLINE = 60.0


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dask_cluster.Cluster]:
    folder = str(tmp_path_factory.mktemp("dask") / "cluster")
    started = dask_cluster.start(folder, workers=2, threads=1, resources={"build": 1})
    try:
        yield started
    finally:
        dask_cluster.stop(folder)


@pytest.fixture(params=["local", "dask"])
async def executor(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Executor]:
    made: Any
    if request.param == "local":
        loop = asyncio.get_running_loop()
        made = LocalExecutor(loop, str(tmp_path / "supervisor.lock"), "testdb", grace=1.0)
    else:
        cluster = request.getfixturevalue("cluster")
        made = DaskExecutor("here", cluster.address, "testdb", follow_interval=0.1)
    await made.open()
    try:
        yield made
    finally:
        await made.close()


def spec(tmp_path: Path, argv: list[str], **extra: Any) -> RunSpec:
    run_id = next(_ids) + os.getpid() * 1000
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    return RunSpec(
        run_id=run_id,
        task_id=run_id,
        attempt=1,
        tag=f"testdb:{run_id}",
        argv=argv,
        cwd=extra.pop("cwd", str(tmp_path)),
        env=extra.pop("env", None),
        log_path=str(logs / f"{run_id}-1.log"),
        display=" ".join(argv),
        grace=extra.pop("grace", 1.0),
        **extra,
    )


def sh(script: str) -> list[str]:
    return ["sh", "-c", script]


async def run_to_end(executor: Executor, run_spec: RunSpec) -> RunHandle:
    handle = executor.start(run_spec, lambda _h: None, lambda _h: None)
    await asyncio.wait_for(handle.finished.wait(), DEADLINE)
    return handle


async def started(executor: Executor, run_spec: RunSpec) -> RunHandle:
    seen = asyncio.Event()
    handle = executor.start(run_spec, lambda _h: seen.set(), lambda _h: None)
    await asyncio.wait_for(seen.wait(), DEADLINE)
    assert handle.pid is not None
    return handle


def body(path: str) -> bytes:
    """A log without focusq's three header lines."""
    data = Path(path).read_bytes()
    return data.split(b"\n", 3)[3] if data.count(b"\n") >= 3 else b""


async def poll(predicate: Any, what: str) -> Any:
    deadline = asyncio.get_running_loop().time() + DEADLINE
    while True:
        value = predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def alive(pid: int) -> bool:
    return state(pid) not in (None, "Z", "X")


# -- the cases ------------------------------------------------------------------------------


async def test_ok(executor: Executor, tmp_path: Path) -> None:
    handle = await run_to_end(executor, spec(tmp_path, sh("echo out; echo err >&2")))
    assert handle.end is not None
    assert (handle.end.returncode, handle.end.stop_reason, handle.end.spawn_error) == (
        0,
        None,
        None,
    )
    assert body(handle.spec.log_path) == b"out\nerr\n"
    header = Path(handle.spec.log_path).read_text().splitlines()[:3]
    assert header[0] == "# focusq: sh -c echo out; echo err >&2"
    assert header[1] == f"# cwd: {tmp_path}"
    assert header[2].startswith("# started: ")


async def test_failed_keeps_the_exit_code(executor: Executor, tmp_path: Path) -> None:
    handle = await run_to_end(executor, spec(tmp_path, sh("exit 3")))
    assert handle.end is not None and handle.end.returncode == 3


@pytest.mark.parametrize("what", ["command", "cwd"])
async def test_a_job_that_cannot_start_is_a_spawn_error(
    executor: Executor, tmp_path: Path, what: str
) -> None:
    if what == "command":
        run_spec = spec(tmp_path, ["no-such-command-xyz"])
    else:
        run_spec = spec(tmp_path, ["true"], cwd=str(tmp_path / "gone"))
    try:
        handle = await run_to_end(executor, run_spec)
    except SpawnError as exc:  # the local executor knows at once
        message = str(exc)
    else:
        assert handle.end is not None and handle.end.spawn_error is not None
        message = handle.end.spawn_error
    assert ("no-such-command-xyz" if what == "command" else "gone") in message


async def test_a_timeout_stops_the_job(executor: Executor, tmp_path: Path) -> None:
    handle = await run_to_end(executor, spec(tmp_path, ["sleep", "30"], timeout=0.5))
    assert handle.end is not None
    assert (handle.end.stop_reason, handle.end.returncode) == ("timed_out", 128 + signal.SIGTERM)


async def test_a_job_that_ignores_term_is_killed_after_the_grace(
    executor: Executor, tmp_path: Path
) -> None:
    run_spec = spec(tmp_path, sh("trap '' TERM; sleep 30"), timeout=0.5, grace=0.5)
    handle = await run_to_end(executor, run_spec)
    assert handle.end is not None
    assert (handle.end.stop_reason, handle.end.returncode) == ("timed_out", 128 + signal.SIGKILL)


async def test_cancel_keeps_the_real_exit_status(executor: Executor, tmp_path: Path) -> None:
    script = "trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done"
    handle = await started(executor, spec(tmp_path, sh(script)))
    await poll(lambda: b"ready\n" in body(handle.spec.log_path), "the trap to be set")
    executor.stop(handle, "cancelled")
    await asyncio.wait_for(handle.finished.wait(), DEADLINE)
    assert handle.end is not None
    assert (handle.end.stop_reason, handle.end.returncode) == ("cancelled", 7)
    assert body(handle.spec.log_path).endswith(b"got TERM\n")


async def test_pause_stops_the_group_and_resume_lets_it_finish(
    executor: Executor, tmp_path: Path
) -> None:
    flag = tmp_path / "go"
    script = f"while [ ! -e {flag} ]; do echo tick; sleep 0.02; done; echo done"
    handle = await started(executor, spec(tmp_path, sh(script)))
    assert handle.pid is not None
    await poll(lambda: b"tick\n" in body(handle.spec.log_path), "a tick")
    assert executor.pause(handle)
    await poll(lambda: group_stopped(handle.pid), "the job stopped")  # type: ignore[arg-type]
    flag.touch()
    await asyncio.sleep(0)  # a stopped job cannot see the flag: still stopped
    assert group_stopped(handle.pid)  # type: ignore[arg-type]
    assert executor.resume(handle)
    await asyncio.wait_for(handle.finished.wait(), DEADLINE)
    assert handle.end is not None and handle.end.returncode == 0
    assert body(handle.spec.log_path).endswith(b"done\n")


async def test_a_leftover_grandchild_is_stopped(executor: Executor, tmp_path: Path) -> None:
    marker = tmp_path / "bg.pid"
    script = f"sleep 30 & echo $! > {marker}; echo started"
    handle = await run_to_end(executor, spec(tmp_path, sh(script)))
    assert handle.end is not None and handle.end.returncode == 0
    leftover = int(marker.read_text())
    await poll(lambda: not alive(leftover), "the leftover sleep to be gone")


async def test_the_log_is_byte_identical(executor: Executor, tmp_path: Path) -> None:
    payload = bytes(range(256)) * 64 + b"\r\n\x1b[31mred\x00nul\n"
    source = tmp_path / "payload.bin"
    source.write_bytes(payload)
    handle = await run_to_end(executor, spec(tmp_path, ["cat", str(source)]))
    assert body(handle.spec.log_path) == payload


async def test_a_100_mb_log_is_copied_with_flat_memory(executor: Executor, tmp_path: Path) -> None:
    size = 100 * 1024 * 1024
    script = f"head -c {size} /dev/zero | tr '\\0' x"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    handle = await run_to_end(executor, spec(tmp_path, sh(script)))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert handle.end is not None and handle.end.returncode == 0
    assert len(body(handle.spec.log_path)) == size
    assert grown_mb < 40, f"this process grew {grown_mb:.0f} MB copying a 100 MB log"


def test_dask_stays_out_of_the_quick_path() -> None:
    import subprocess

    code = (
        "import sys; from focusq.cli import main; "
        "print('distributed' in sys.modules or 'focusq.engine.dask_executor' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
