"""Jobs on a Dask cluster through the whole of focusq: add on:NAME, the worker, the runs.

The executor in the config has no address, so the worker starts a loopback cluster of its
own (scheduler and workers on 127.0.0.1, detached); ``focusq executor stop`` stops it, and
the fixture makes sure it is stopped whatever happens.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine_helpers import Focusq, db_rows, poll, runs, task

pytestmark = pytest.mark.slow

pytest.importorskip("distributed")

from focusq.engine import dask_cluster  # noqa: E402

CONFIG = """
[executors.here]
workers = 2
threads = 1
max_parallel = 2
follow_interval = 0.1
resources = {build = 1}
"""


@pytest.fixture
def dq(fq: Focusq, tmp_path: Path) -> Iterator[Focusq]:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    fq.env["FOCUSQ_CONFIG_FILE"] = str(config)
    try:
        yield fq
    finally:
        dask_cluster.stop(str(fq.home / "executors" / "here"))


def start_worker(fq: Focusq) -> subprocess.Popen[bytes]:
    log = open(fq.home / "test-worker.log", "ab")  # noqa: SIM115 - the worker keeps it
    worker = subprocess.Popen(
        [sys.executable, "-m", "focusq", "worker", "--foreground"],
        cwd=fq.workdir,
        env=fq.env,
        stdout=log,
        stderr=log,
    )
    fq.workers.append(worker)  # type: ignore[arg-type]
    poll(lambda: db_rows(fq.home, "SELECT pid FROM lease WHERE pid = ?", worker.pid), what="lease")
    return worker


def test_a_job_runs_on_the_cluster_and_says_where(dq: Focusq) -> None:
    job = dq.add("on:here", "--shell", "--", "echo hi from $(hostname); exit 3")
    start_worker(dq)
    assert dq.wait(job, timeout=120).returncode == 1
    ended = task(dq.home, job)
    assert (ended["status"], ended["exit_code"]) == ("failed", 3)
    [run] = runs(dq.home, job)
    assert run["executor"] == "here"
    assert run["host"] == os.uname().nodename
    log = Path(run["log_path"]).read_text()
    assert log.startswith("# focusq: ")
    assert f"hi from {os.uname().nodename}\n" in log
    shown = dq("show", str(job))
    assert f"ran by here on {os.uname().nodename}" in shown.stdout


def test_placement_that_cannot_run_is_refused_at_add(dq: Focusq) -> None:
    for words, says in (
        (["on:nowhere"], "'on:nowhere' names no executor"),
        (["on:here", "res:gpu=1"], "no worker of executor here offers it"),
        (["res:build=1"], "add on:NAME too"),
    ):
        result = dq("add", *words, "--", "true")
        assert result.returncode == 2, result
        assert says in result.stderr
        assert result.stderr.count("\n") == 1
    assert db_rows(dq.home, "SELECT count(*) FROM tasks") in ([], [(0,)])  # nothing written
    ok = dq("add", "on:here", "res:build=1", "--", "true")
    assert ok.returncode == 0, ok.stderr


def test_a_batch_places_its_jobs_as_add_does(dq: Focusq, tmp_path: Path) -> None:
    batch = tmp_path / "jobs.toml"
    batch.write_text(
        '[[task]]\ntitle = "build"\ncommand = ["true"]\non = "here"\nres = {build = 1}\n'
        f'host = "{os.uname().nodename}"\n'
        '[[task]]\ntitle = "here too"\ncommand = ["true"]\n'
    )
    added = dq("batch", str(batch))
    assert added.returncode == 0, added.stderr
    build, local = (int(i) for i in added.stdout.split())
    placed = task(dq.home, build)
    assert placed["executor"] == "here"
    assert json.loads(placed["placement"]) == {
        "resources": {"build": 1.0},
        "hosts": [os.uname().nodename],
    }
    assert task(dq.home, local)["executor"] is None
    for table, says in (
        ('on = "nowhere"', "'on:nowhere' names no executor"),
        ('on = "here"\nres = {gpu = 1}', "no worker of executor here offers it"),
        ("res = {build = 1}", "add on:NAME too"),
        ('on = "here"\nres = "gpu"', "res must be a table"),
    ):
        batch.write_text(
            f'[[task]]\ntitle = "ok"\ncommand = ["true"]\n[[task]]\ntitle = "bad"\n'
            f'command = ["true"]\n{table}\n'
        )
        refused = dq("batch", str(batch))
        assert refused.returncode == 2, refused
        assert "task 2" in refused.stderr and says in refused.stderr
        assert refused.stderr.count("\n") == 1
    assert len(db_rows(dq.home, "SELECT id FROM tasks")) == 2  # nothing more written


def test_cancel_on_the_cluster_keeps_the_exit_status(dq: Focusq) -> None:
    script = "trap 'echo stopping; exit 7' TERM; echo ready; while :; do sleep 0.05; done"
    job = dq.add("on:here", "--shell", "--", script)
    start_worker(dq)

    def ready() -> bool:
        found = runs(dq.home, job)
        log = Path(found[0]["log_path"]) if found else None
        return log is not None and log.exists() and "ready" in log.read_text().split("\n", 3)[-1]

    poll(ready, timeout=120, what="the job to start on the cluster")
    assert dq("cancel", str(job)).returncode == 0
    assert dq.wait(job, timeout=60).returncode == 1
    ended = task(dq.home, job)
    assert (ended["status"], ended["exit_code"]) == ("cancelled", 7)
    assert Path(runs(dq.home, job)[0]["log_path"]).read_text().endswith("stopping\n")


def test_a_killed_worker_re_attaches_to_a_job_on_the_cluster(dq: Focusq) -> None:
    gate = dq.workdir / "go"
    marks = dq.workdir / "marks"
    script = f"echo start >> {marks}; while [ ! -e {gate} ]; do sleep 0.05; done; echo end"
    job = dq.add("on:here", "--shell", "--", script)
    worker = start_worker(dq)
    poll(lambda: marks.exists(), timeout=120, what="the job to start")
    poll(lambda: runs(dq.home, job)[0]["host"], what="its start recorded")
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    start_worker(dq)
    gate.touch()
    assert dq.wait(job, timeout=60).returncode == 0
    [run] = runs(dq.home, job)  # re-attached: never started twice
    assert (run["result"], run["exit_code"]) == ("ok", 0)
    assert marks.read_text() == "start\n"
    assert Path(run["log_path"]).read_text().endswith("end\n")


def test_executor_stop_stops_the_cluster_focusq_started(dq: Focusq) -> None:
    job = dq.add("on:here", "--", "true")
    start_worker(dq)
    assert dq.wait(job, timeout=120).returncode == 0
    cluster = dask_cluster.read(str(dq.home / "executors" / "here"))
    assert cluster is not None
    listed = dq("executor")
    assert f"focusq's cluster at {cluster.address}" in listed.stdout
    for worker in dq.workers:
        worker.terminate()
        worker.wait()
    stopped = dq("executor", "stop", "here")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    pids = [cluster.scheduler, *cluster.workers]
    poll(lambda: not any(_alive(p) for p in pids), what="every cluster process gone")
    assert dq("executor", "stop", "nowhere").returncode == 2


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def test_placement_words_in_a_task_with_no_command_stay_in_its_title() -> None:
    from focusq import quickadd

    draft = quickadd.parse(["call Bob on:monday about host:port"], None, now=0)
    assert (draft.title, draft.executor, draft.hosts) == (
        "call Bob on:monday about host:port",
        None,
        None,
    )
    job = quickadd.parse(["build", "on:farm", "res:build=2", "host:box"], ["make"], now=0)
    assert (job.title, job.executor, job.resources, job.hosts) == (
        "build",
        "farm",
        {"build": 2.0},
        ["box"],
    )


def test_a_cluster_start_cut_short_leaves_nothing_running(tmp_path: Path) -> None:
    import json

    folder = tmp_path / "cluster"
    first = dask_cluster.start(str(folder), workers=1)
    record = folder / "cluster.json"
    # As a worker killed between spawning the processes and learning the address leaves it.
    record.write_text(json.dumps({**json.loads(record.read_text()), "address": None}))
    try:
        assert dask_cluster.read(str(folder)) is None
        second = dask_cluster.start(str(folder), workers=1)
        assert second.scheduler != first.scheduler
        old = [first.scheduler, *first.workers]
        poll(lambda: not any(_alive(p) for p in old), what="the first start's processes gone")
    finally:
        dask_cluster.stop(str(folder))


def test_a_host_no_worker_runs_on_is_a_spawn_error_not_a_hang(dq: Focusq) -> None:
    here = dq.add("on:here", "host:127.0.0.1", "--", "true")
    nowhere = dq.add("on:here", "host:no-such-box", "--", "true")
    start_worker(dq)
    assert dq.wait(here, nowhere, timeout=120).returncode == 1
    assert task(dq.home, here)["status"] == "done"
    lost = task(dq.home, nowhere)
    assert (lost["status"], lost["result"]) == ("failed", "spawn_error")
    assert "host:no-such-box: no worker of executor here runs there" in lost["reason"]


def test_a_job_whose_executor_is_gone_ends_saying_so(fq: Focusq, tmp_path: Path) -> None:
    """Its [executors.NAME] table was removed after it was queued: it does not wait forever."""
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    fq.env["FOCUSQ_CONFIG_FILE"] = str(config)
    job = fq.add("on:here", "--", "true")
    refused = fq("edit", str(job), "on:nowhere")
    assert refused.returncode == 2 and "'on:nowhere' names no executor" in refused.stderr
    config.write_text("")
    fq.start_worker()
    assert fq.wait(job, timeout=60).returncode == 1
    ended = task(fq.home, job)
    assert ended["result"] == "spawn_error"
    assert "executor here is not configured" in ended["reason"]


def test_runs_on_an_executor_unreachable_at_restart_are_kept_and_re_attached(
    fq: Focusq, tmp_path: Path
) -> None:
    folder = tmp_path / "farm"
    cluster = dask_cluster.start(str(folder), workers=1)
    config = tmp_path / "config.toml"

    def point_at(address: str) -> None:
        config.write_text(
            f'[executors.farm]\naddress = "{address}"\nfollow_interval = 0.1\nconnect_timeout = 1\n'
        )

    point_at(cluster.address)
    fq.env["FOCUSQ_CONFIG_FILE"] = str(config)
    gate, marks = fq.workdir / "go", fq.workdir / "marks"
    script = f"echo start >> {marks}; while [ ! -e {gate} ]; do sleep 0.05; done; echo end"
    try:
        job = fq.add("on:farm", "--shell", "--", script)
        worker = start_worker(fq)
        poll(lambda: marks.exists() and runs(fq.home, job)[0]["host"], timeout=120, what="start")
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        point_at("tcp://127.0.0.1:9")  # nothing answers there
        start_worker(fq)
        log = fq.home / "test-worker.log"
        poll(lambda: "kept open until it answers" in log.read_text(), what="the run kept open")
        assert task(fq.home, job)["status"] == "running"  # not called interrupted
        point_at(cluster.address)  # it answers again: the worker re-attaches
        poll(lambda: "re-attached to job" in log.read_text(), what="the re-attach")
        gate.touch()
        assert fq.wait(job, timeout=60).returncode == 0
        [run] = runs(fq.home, job)
        assert (run["result"], run["exit_code"]) == ("ok", 0)
        assert marks.read_text() == "start\n"  # it ran once
    finally:
        dask_cluster.stop(str(folder))


def test_a_job_for_an_executor_that_does_not_answer_waits_for_it(
    fq: Focusq, tmp_path: Path
) -> None:
    """No scheduler at the address: the job stays queued (local work goes on meanwhile),
    and runs once the executor answers."""
    folder = tmp_path / "farm"
    config = tmp_path / "config.toml"

    def point_at(address: str) -> None:
        config.write_text(
            f'[executors.farm]\naddress = "{address}"\nfollow_interval = 0.1\nconnect_timeout = 1\n'
        )

    point_at("tcp://127.0.0.1:9")  # nothing answers there
    fq.env["FOCUSQ_CONFIG_FILE"] = str(config)
    remote = fq.add("pri:H", "on:farm", "lock:shared", "--", "true")
    local = fq.add("lock:shared", "--", "true")
    start_worker(fq)
    # Not held up by the remote one, though that one comes first and wants the same lock.
    assert fq.wait(local, timeout=60).returncode == 0
    log = fq.home / "test-worker.log"
    poll(lambda: "no Dask scheduler at tcp://127.0.0.1:9" in log.read_text(), what="the try")
    assert task(fq.home, remote)["status"] == "queued"
    assert runs(fq.home, remote) == []  # never claimed, so no attempt is spent
    listed = fq("executor").stdout
    assert "not answering (last tried " in listed and "no Dask scheduler at" in listed
    # Why it waits, in the same words everywhere.
    said = {r["id"]: r["waiting_for"] for r in json.loads(fq("ls", "--json").stdout)}
    assert said[remote] == "farm not answering"
    assert json.loads(fq("show", str(remote), "--json").stdout)["waiting_for"] == said[remote]
    assert "(farm not answering)" in fq("ls").stdout
    try:
        cluster = dask_cluster.start(str(folder), workers=1)
        point_at(cluster.address)  # a config change tries again at once
        assert fq.wait(remote, timeout=120).returncode == 0
        [run] = runs(fq.home, remote)
        assert (run["executor"], run["result"]) == ("farm", "ok")
        assert "not answering" not in fq("executor").stdout
        assert "not answering" not in fq("ls").stdout
    finally:
        dask_cluster.stop(str(folder))


def _farm(config: Path, address: str, connect_timeout: float) -> None:
    config.write_text(
        f'[executors.farm]\naddress = "{address}"\nconnect_timeout = {connect_timeout}\n'
    )


def test_local_jobs_go_on_while_an_executor_is_connected_to(fq: Focusq, tmp_path: Path) -> None:
    """The connect takes up to a minute (nothing answers there): the local job behind the
    remote one, wanting the same lock, runs meanwhile."""
    config = tmp_path / "config.toml"
    _farm(config, "tcp://127.0.0.1:9", 60)
    fq.env["FOCUSQ_CONFIG_FILE"] = str(config)
    remote = fq.add("pri:H", "on:farm", "lock:shared", "--", "true")
    local = fq.add("lock:shared", "--", "true")
    start_worker(fq)
    assert fq.wait(local, timeout=40).returncode == 0
    log = (fq.home / "test-worker.log").read_text()
    assert "no Dask scheduler" not in log  # the connect was still under way
    assert task(fq.home, remote)["status"] == "queued"


def test_an_executor_taken_out_of_the_config_while_connecting_ends_its_jobs(
    fq: Focusq, tmp_path: Path
) -> None:
    """Its connect under way finishes unused: the job ends saying why, at once, and the
    worker does not spin on a retry that never comes."""
    config = tmp_path / "config.toml"
    _farm(config, "tcp://127.0.0.1:9", 60)
    fq.env["FOCUSQ_CONFIG_FILE"] = str(config)
    remote = fq.add("on:farm", "--", "true")
    worker = start_worker(fq)
    log = fq.home / "test-worker.log"
    poll(lambda: "executor farm: connecting" in log.read_text(), what="the worker connecting")
    config.write_text("")
    assert fq.wait(remote, timeout=40).returncode == 1
    ended = task(fq.home, remote)
    assert ended["result"] == "spawn_error" and "executor farm is not configured" in ended["reason"]
    idle = _cpu_seconds(worker.pid)
    # Idle now (nothing queued, the old connect still under way in the background): a tenth
    # of a second of CPU time over a few looks would be a loop.
    for _ in range(20):
        fq("status")
    assert _cpu_seconds(worker.pid) - idle < 0.5


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def test_a_down_executor_is_tried_again_only_while_something_wants_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from focusq.config import load_settings
    from focusq.engine.down import read_down
    from focusq.engine.executors import RETRY_AFTER, Executors
    from focusq.engine.local_executor import LocalExecutor
    from focusq.paths import Paths

    config = tmp_path / "config.toml"
    _farm(config, "tcp://127.0.0.1:9", 1)
    monkeypatch.setenv("FOCUSQ_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FOCUSQ_CONFIG_FILE", str(config))
    paths = Paths.from_env()
    local = LocalExecutor(asyncio.get_running_loop(), str(tmp_path / "supervisor.lock"), "db")
    executors = Executors(local, load_settings(paths), paths.home, "db")
    why = await executors.get("farm")
    assert isinstance(why, str) and executors.down("farm") == why
    assert read_down(paths.home, "farm") is not None  # focusq executor says so
    assert executors.retry_in(set()) is None  # nothing wants it: an idle worker may exit
    retry = executors.retry_in({"farm"})
    assert retry is not None and 0 < retry <= RETRY_AFTER
    await executors.close()
    assert read_down(paths.home, "farm") is None  # no worker tries it now: nothing stale
