"""The worker, for real: real processes, real signals, a real SQLite file."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.engine_helpers import (
    Focusq,
    alive,
    db_rows,
    group_alive,
    group_stopped,
    lock_held,
    poll,
    processes_of,
    runs,
    task,
)


def test_a_job_runs_and_its_log_holds_its_output(fq: Focusq) -> None:
    worker = fq.start_worker()
    task_id = fq.add("greet", "--", "sh", "-c", "echo hello; echo oops >&2")
    assert fq.wait(task_id).returncode == 0
    record = fq.show(task_id)
    assert (record["status"], record["result"], record["exit_code"]) == ("done", "ok", 0)
    log = fq("log", str(task_id)).stdout
    assert log.startswith("# focusq: echo hello; echo oops >&2\n# cwd: ")
    assert "hello\noops\n" in log
    [run] = runs(fq.home, task_id)
    assert run["tail"] == "hello\noops"
    assert oct(os.stat(run["log_path"]).st_mode & 0o777) == "0o600"
    # The database holds the whole run: even once the worker is gone, its supervisor
    # writes no pid or exit file for it.
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=20) == 0
    poll(lambda: _supervisors_done(fq), what="the supervisor's lock")
    prefix = run["log_path"].removesuffix(".log")
    assert not os.path.exists(prefix + ".pid")
    assert not os.path.exists(prefix + ".exit")


def _supervisors_done(fq: Focusq) -> bool:
    """Whether no job supervisor holds the lock it keeps until its files are written."""
    return not lock_held(fq.home / "logs" / "supervisor.lock")


def test_a_failing_job_records_its_exit_code(fq: Focusq) -> None:
    fq.start_worker()
    task_id = fq.add("--", "sh", "-c", "exit 3")
    waited = fq.wait(task_id)
    assert waited.returncode == 1
    assert waited.stderr.startswith(f"#{task_id} ") and ": failed (exit 3)" in waited.stderr
    assert (fq.status(task_id), task(fq.home, task_id)["exit_code"]) == ("failed", 3)


def test_command_not_found_is_a_spawn_error(fq: Focusq) -> None:
    fq.start_worker()
    task_id = fq.add("--", "no-such-command-anywhere", "x")
    fq.wait(task_id)
    row = task(fq.home, task_id)
    assert (row["status"], row["result"]) == ("failed", "spawn_error")
    assert "command not found" in row["reason"]


def test_a_cwd_deleted_after_add_is_a_spawn_error(fq: Focusq, tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    task_id = fq.add("--cwd", str(gone), "--", "true")
    gone.rmdir()
    fq.start_worker()
    fq.wait(task_id)
    row = task(fq.home, task_id)
    assert (row["result"], row["status"]) == ("spawn_error", "failed")
    assert "does not exist" in row["reason"]


def test_a_timeout_kills_the_job(fq: Focusq) -> None:
    fq.start_worker()
    task_id = fq.add("timeout:1s", "--", "sleep", "60")
    fq.wait(task_id)
    row = task(fq.home, task_id)
    assert (row["status"], row["result"]) == ("failed", "timed_out")


def test_cancel_kills_a_job_that_ignores_sigterm(fq: Focusq, tmp_path: Path) -> None:
    fq.start_worker()
    ready = tmp_path / "ready"
    task_id = fq.add("--", "sh", "-c", f"trap '' TERM; touch {ready}; while :; do sleep 1; done")
    poll(ready.exists, what="the job to start")
    pgid = poll(lambda: runs(fq.home, task_id)[0]["pgid"])
    assert fq("cancel", str(task_id)).returncode == 0
    fq.wait(task_id)
    assert (fq.status(task_id), task(fq.home, task_id)["result"]) == ("cancelled", "cancelled")
    assert not group_alive(pgid)  # the job ended only once its whole group was gone


def test_a_cancelled_job_keeps_its_lock_until_its_group_is_gone(fq: Focusq, tmp_path: Path) -> None:
    fq.start_worker()
    ready = tmp_path / "ready"
    stubborn = fq.add(
        "lock:deploy", "--", "sh", "-c", f"trap '' TERM; touch {ready}; while :; do sleep 1; done"
    )
    poll(ready.exists)
    follower = fq.add("lock:deploy", "--", "true")
    cancelled_at = time.time()
    fq("cancel", str(stubborn))
    assert fq.wait(follower).returncode == 0
    assert runs(fq.home, follower)[0]["started_at"] >= cancelled_at + 0.5  # the kill grace


def test_cancel_kills_a_backgrounded_grandchild(fq: Focusq, tmp_path: Path) -> None:
    fq.start_worker()
    pid_file = tmp_path / "grandchild.pid"
    task_id = fq.add("--shell", "--", f"sleep 300 & echo $! > {pid_file}; wait")
    grandchild = int(poll(lambda: pid_file.exists() and pid_file.read_text().strip()))
    assert alive(grandchild)
    fq("cancel", str(task_id))
    fq.wait(task_id)
    poll(lambda: not alive(grandchild), timeout=10, what="the grandchild to die")


def test_leftovers_of_a_finished_job_are_stopped(fq: Focusq, tmp_path: Path) -> None:
    fq.start_worker()
    pid_file = tmp_path / "leftover.pid"
    task_id = fq.add("--shell", "--", f"sleep 300 & echo $! > {pid_file}")
    assert fq.wait(task_id).returncode == 0
    leftover = int(pid_file.read_text())
    poll(lambda: not alive(leftover), timeout=10, what="the leftover to die")


def test_binary_and_invalid_utf8_output(fq: Focusq) -> None:
    fq.start_worker()
    task_id = fq.add("--", "printf", "ok \\377\\376\\000 bytes\\n")
    assert fq.wait(task_id).returncode == 0
    log = subprocess.run(
        [sys.executable, "-m", "focusq", "log", str(task_id), "--raw"],
        env=fq.env,
        capture_output=True,
    )
    assert log.returncode == 0
    assert b"ok \xff\xfe\x00 bytes\n" in log.stdout
    assert runs(fq.home, task_id)[0]["tail"] == "ok \ufffd\ufffd\x00 bytes"
    assert fq("show", str(task_id)).returncode == 0


def test_a_dependency_on_a_cancelled_task_is_skipped(fq: Focusq) -> None:
    first = fq.add("deploy", "gate:approve", "--", "true")
    second = fq.add(f"after:{first}", "--", "true")
    fq.start_worker()
    fq("cancel", str(first))
    fq.wait(second)
    row = task(fq.home, second)
    assert (row["status"], row["result"]) == ("skipped", "skipped")
    assert f"after #{first}" in row["reason"]
    assert runs(fq.home, second) == []


def test_retries_back_off_and_each_attempt_has_its_own_log(fq: Focusq) -> None:
    fq.start_worker()
    task_id = fq.add("retry:2", "--", "sh", "-c", "echo attempt; exit 1")
    fq.wait(task_id)
    attempts = runs(fq.home, task_id)
    assert [r["attempt"] for r in attempts] == [1, 2, 3]
    assert [r["result"] for r in attempts] == ["failed"] * 3
    assert len({r["log_path"] for r in attempts}) == 3
    assert all(r["started_at"] >= p["ended_at"] for p, r in itertools.pairwise(attempts))
    assert fq.status(task_id) == "failed"
    assert fq("retry", str(task_id)).returncode == 0
    fq.wait(task_id)
    assert len(runs(fq.home, task_id)) == 6  # a retry by hand brings a fresh budget


def test_jobs_sharing_a_lock_never_overlap(fq: Focusq) -> None:
    ids = [fq.add("lock:deploy:prod", "--", "sleep", "0.3") for _ in range(3)]
    free = fq.add("--", "sleep", "0.3")
    fq.start_worker()
    assert fq.wait(*ids, free).returncode == 0
    spans = sorted((r["started_at"], r["ended_at"]) for i in ids for r in runs(fq.home, i))
    assert all(b[0] >= a[1] for a, b in itertools.pairwise(spans))
    free_run = runs(fq.home, free)[0]
    assert free_run["started_at"] < spans[0][1]  # the unlocked job ran alongside


def test_builds_in_one_git_worktree_wait_for_each_other(fq: Focusq) -> None:
    (fq.workdir / ".git").mkdir()
    first = fq.add("--", "make", "-v")
    second = fq("add", "--", "make", "-v")
    assert second.returncode == 0
    assert f"waits for #{first}: same worktree" in second.stderr
    assert task(fq.home, first)["locks"] == json.dumps([f"worktree:{fq.workdir}"])


def test_add_says_once_per_lock_what_it_waits_for_and_only_when_it_does(fq: Focusq) -> None:
    fq.home.mkdir(parents=True, exist_ok=True)
    (fq.home / "config.toml").write_text('[locks]\n"pool" = 2\n')
    gated = [fq.add("g", "gate:approve", "lock:k", "--", "true") for _ in range(3)]
    alone = fq("add", "lock:k", "--", "true")  # the gated ones hold nothing: nothing to say
    assert alone.returncode == 0 and alone.stderr == ""
    first = int(alone.stdout)
    for _ in range(3):
        fq.add("lock:k", "--", "true")
    both = fq("add", "lock:k", "lock:pool", "--", "true")  # the first in the pool of 2
    said = f"focusq: #{int(both.stdout)} waits for #{first} and 3 more: lock k"
    assert both.stderr.splitlines() == [said]
    fq.add("lock:pool", "--", "true")  # two in the pool now: its cap
    third = fq("add", "lock:pool", "--", "true")
    assert (
        third.stderr
        == f"focusq: #{int(third.stdout)} waits for #{int(both.stdout)} and 1 more: lock pool\n"
    )
    assert all(fq.status(g) == "waiting" for g in gated)


def test_builds_in_a_batch_get_the_worktree_lock_too(fq: Focusq, tmp_path: Path) -> None:
    (fq.workdir / ".git").mkdir()
    batch = tmp_path / "builds.toml"
    batch.write_text(
        f'cwd = "{fq.workdir}"\n'
        '[[task]]\ntitle = "one"\ncommand = ["make", "-v"]\n'
        '[[task]]\ntitle = "two"\nshell = true\ncommand = "make -v && echo two"\n'
        '[[task]]\ntitle = "free"\ncommand = ["true"]\n'
    )
    added = fq("batch", str(batch))
    assert added.returncode == 0, added.stderr
    one, two, free = (int(i) for i in added.stdout.split())
    worktree = json.dumps([f"worktree:{fq.workdir}"])
    assert task(fq.home, one)["locks"] == task(fq.home, two)["locks"] == worktree
    assert task(fq.home, free)["locks"] in ("[]", None)


def test_a_batch_stores_its_shells_environment_once(fq: Focusq, tmp_path: Path) -> None:
    batch = tmp_path / "three.toml"
    batch.write_text("".join(f'[[task]]\ntitle = "t{n}"\ncommand = ["true"]\n' for n in range(3)))
    added = fq("batch", str(batch), FQ_TEST_MARK="from the batch shell")
    assert added.returncode == 0, added.stderr
    assert db_rows(fq.home, "SELECT count(DISTINCT environ_id), count(*) FROM tasks") == [(1, 3)]
    assert db_rows(fq.home, "SELECT count(*) FROM environments") == [(1,)]
    for task_id in added.stdout.split():
        shown = fq("show", task_id, "--env")
        assert "FQ_TEST_MARK=from the batch shell" in shown.stdout, shown.stdout


@pytest.mark.parametrize(
    "second",
    [
        'command = ["echo", "a\\u0000b"]',  # refused before the database is opened
        'command = ["true"]\nafter = [999]',  # refused by the insert itself
    ],
)
def test_a_refused_batch_starts_no_worker(fq: Focusq, tmp_path: Path, second: str) -> None:
    """A refused batch adds nothing and starts nothing, wherever it is refused."""
    batch = tmp_path / "bad.toml"
    batch.write_text(
        f'[[task]]\ntitle = "fine"\ncommand = ["true"]\n[[task]]\ntitle = "bad"\n{second}\n'
    )
    refused = fq("batch", str(batch), FOCUSQ_WORKER__AUTOSTART="true")
    assert refused.returncode == 2 and "bad.toml" in refused.stderr, refused.stderr
    assert "task 2" in refused.stderr or "no task 999" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    assert db_rows(fq.home, "SELECT count(*) FROM tasks") in ([], [(0,)])
    assert db_rows(fq.home, "SELECT count(*) FROM lease") in ([], [(0,)])


def test_fail_fast_group_cancels_the_rest(fq: Focusq) -> None:
    fq.home.mkdir(mode=0o700, exist_ok=True)
    (fq.home / "config.toml").write_text('[groups.pull]\npolicy = "fail-fast"\n')
    slow = fq.add("group:pull", "--", "sleep", "60")
    queued_behind = fq.add("group:pull", "lock:one", "--", "sleep", "60")
    blocker = fq.add("group:pull", "lock:one", "--", "sleep", "60")
    bad = fq.add("group:pull", "--", "false")
    fq.start_worker(FOCUSQ_ENGINE__MAX_PARALLEL="4")
    fq.wait(slow, queued_behind, blocker, bad)
    assert fq.status(bad) == "failed"
    assert {fq.status(t) for t in (slow, queued_behind, blocker)} == {"cancelled"}


def test_an_approval_gate_holds_a_job_until_approved(fq: Focusq, tmp_path: Path) -> None:
    fq.start_worker()
    task_id = fq.add("deploy", "gate:approve", "--", "true")
    assert fq.wait(task_id, timeout=0.5).returncode == 124
    assert fq.status(task_id) == "waiting"
    assert fq("approve", str(task_id)).stdout == f"approved #{task_id} deploy\n"
    assert fq.wait(task_id).returncode == 0
    again = fq("approve", str(task_id))
    assert again.returncode == 2 and "only a task waiting" in again.stderr


def test_pause_stops_the_group_and_resume_continues_it(fq: Focusq, tmp_path: Path) -> None:
    fq.start_worker()
    ready = tmp_path / "ready"
    task_id = fq.add("--", "sh", "-c", f"touch {ready}; sleep 60")
    poll(ready.exists)
    pid = runs(fq.home, task_id)[0]["pid"] or poll(lambda: runs(fq.home, task_id)[0]["pid"])
    fq("pause", str(task_id))
    poll(lambda: fq.status(task_id) == "paused", what="paused")
    poll(lambda: group_stopped(pid), what="the whole group stopped")
    fq("resume", str(task_id))
    poll(lambda: fq.status(task_id) == "running", what="running again")
    assert _state(pid) in "SR"
    fq("cancel", str(task_id))
    fq.wait(task_id)
    assert fq.status(task_id) == "cancelled"


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as file:
        return file.read().rsplit(")", 1)[1].split()[0]


def test_hold_and_release(fq: Focusq) -> None:
    task_id = fq.add("--", "true")
    assert fq("hold", str(task_id)).returncode == 0
    fq.start_worker()
    assert fq.wait(task_id, timeout=0.5).returncode == 124
    assert fq.status(task_id) == "held"
    fq("release", str(task_id))
    assert fq.wait(task_id).returncode == 0


def test_a_second_worker_is_refused(fq: Focusq) -> None:
    first = fq.start_worker()
    second = fq("worker", "--foreground")
    assert second.returncode == 1
    assert f"pid {first.pid}" in second.stderr


def test_the_worker_exits_when_idle(fq: Focusq) -> None:
    worker = fq.start_worker(FOCUSQ_WORKER__IDLE_EXIT="0.3")
    assert worker.wait(timeout=20) == 0
    assert db_rows(fq.home, "SELECT * FROM lease") == []


def _go(fd: int) -> None:
    """Let the process waiting at a pause point go on (``fd``: its FIFO, from ``_writer``)."""
    with os.fdopen(fd, "w") as release:
        release.write("go\n")


def _writer(gate: Path) -> int | None:
    try:  # opening a FIFO without blocking fails until its reader has it open
        return os.open(gate, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return None


def test_work_added_as_an_idle_worker_exits_is_run(fq: Focusq) -> None:
    """The add commits after the worker timed out idle, before it gave its lease up: the add
    sees a live worker and starts none, so that worker must stay and run it."""
    gate = fq.workdir / "idle.gate"
    os.mkfifo(gate)
    worker = fq.start_worker(FOCUSQ_WORKER__IDLE_EXIT="0.1", FOCUSQ_TEST_PAUSE_IDLE_EXIT=str(gate))
    fd = poll(lambda: _writer(gate), what="the worker timing out idle")
    job = fq.add("--", "true")  # its lease is still held: no worker is started for this
    _go(fd)
    assert fq.wait(job, timeout=20).returncode == 0
    _go(poll(lambda: _writer(gate), what="the worker idle again"))  # nothing new: it exits
    assert worker.wait(timeout=20) == 0
    assert db_rows(fq.home, "SELECT * FROM lease") == []


def test_a_skip_decided_before_an_edit_it_had_not_read_is_not_written(fq: Focusq) -> None:
    """The dependency fails and the worker decides to skip what waits on it; before that is
    written, another shell points the dependant at a different job. The edit wins: the
    dependant waits for its new dependency and runs."""
    gate = fq.workdir / "skip.gate"
    os.mkfifo(gate)
    other = fq.add("deploy", "gate:approve", "--", "true")
    first = fq.add("--", "false")
    dependant = fq.add(f"after:{first}", "--", "true")
    fq.start_worker(FOCUSQ_TEST_PAUSE_SKIP=str(gate))
    fd = poll(lambda: _writer(gate), what="the worker about to skip the dependant")
    assert fq("edit", str(dependant), f"after:{other}").returncode == 0
    _go(fd)
    assert fq.wait(first).returncode == 1
    assert fq.status(dependant) == "queued"
    assert fq("approve", str(other)).returncode == 0
    assert fq.wait(dependant).returncode == 0
    assert [r["result"] for r in runs(fq.home, dependant)] == ["ok"]


def test_a_skip_put_off_by_another_shells_write_is_written_next(fq: Focusq) -> None:
    """Another shell's add commits while the skip waits to be written: the worker plans again
    on what it has not read, and the dependant still ends skipped (never left queued)."""
    gate = fq.workdir / "skip.gate"
    os.mkfifo(gate)
    first = fq.add("--", "false")
    dependant = fq.add(f"after:{first}", "--", "true")
    fq.start_worker(FOCUSQ_TEST_PAUSE_SKIP=str(gate))
    fd = poll(lambda: _writer(gate), what="the worker about to skip the dependant")
    fq.add("unrelated", "--held", "--", "true")
    _go(fd)
    assert fq.wait(first).returncode == 1  # written with the skip left out: the FIFO is shut
    _go(poll(lambda: _writer(gate), what="the skip decided again"))
    assert fq.wait(dependant).returncode != 0
    row = task(fq.home, dependant)
    assert (row["status"], row["reason"]) == ("skipped", f"after #{first}, which ended failed")


def test_a_fail_fast_failure_cancels_the_group_as_it_stands_when_written(fq: Focusq) -> None:
    """The worker decides the failure's consequences, then another shell moves one job out
    of the group and adds another to it before that is written: the cancel follows the
    group as the shell left it."""
    fq.home.mkdir(parents=True, exist_ok=True)
    (fq.home / "config.toml").write_text('[groups.g]\npolicy = "fail-fast"\nmax_parallel = 1\n')
    gate = fq.workdir / "skip.gate"
    os.mkfifo(gate)
    failing = fq.add("fails", "group:g", "--shell", "--", "sleep 0.2; exit 1")
    moved = fq.add("moved out", "group:g", "--", "true")  # queued behind it (cap 1)
    doomed = fq.add(f"after:{failing}", "group:g", "--", "true")  # skipped, as ever
    fq.start_worker(FOCUSQ_TEST_PAUSE_SKIP=str(gate))  # the failure's tick holds a skip
    fd = poll(lambda: _writer(gate), what="the worker about to write the failure")
    assert fq("edit", str(moved), "group:elsewhere").returncode == 0
    joined = fq.add("joined", "group:g", "--", "true")
    _go(fd)
    assert fq.wait(failing).returncode == 1  # written; the skip is decided again
    _go(poll(lambda: _writer(gate), what="the skip decided again"))
    assert fq.wait(moved).returncode == 0
    assert fq.wait(joined).returncode != 0
    assert (task(fq.home, joined)["status"], task(fq.home, joined)["result"]) == (
        "cancelled",
        "cancelled",
    )
    assert runs(fq.home, joined) == []
    assert task(fq.home, doomed)["status"] == "skipped"


def test_a_group_stagger_outlives_the_worker_that_started_the_last_job(fq: Focusq) -> None:
    fq.home.mkdir(parents=True, exist_ok=True)
    (fq.home / "config.toml").write_text("[groups.st]\nstagger = 4.0\n")
    first = fq.add("s1", "group:st", "--", "true")
    second = fq.add("s2", "group:st", "--", "true")
    worker = fq.start_worker()
    assert fq.wait(first).returncode == 0
    worker.send_signal(signal.SIGTERM)  # before the stagger let the second one start
    assert worker.wait(timeout=20) == 0
    assert fq.status(second) == "queued"
    fq.start_worker()
    assert fq.wait(second).returncode == 0
    gap = runs(fq.home, second)[0]["started_at"] - runs(fq.home, first)[0]["started_at"]
    assert gap >= 4.0


def test_an_idle_worker_exits_on_time_though_the_database_is_written_meanwhile(
    fq: Focusq,
) -> None:
    """Its own heartbeat, a listing keeping records: a write that brings no work wakes the
    worker but never starts its idle wait over."""
    worker = fq.start_worker(FOCUSQ_WORKER__IDLE_EXIT="2")
    started = time.monotonic()
    while worker.poll() is None and time.monotonic() - started < 20:
        con = sqlite3.connect(fq.home / "focusq.db")
        with con:  # a write, and no work
            con.execute("UPDATE meta SET value = value WHERE key = 'database_id'")
        con.close()
        time.sleep(0.3)  # the pace of the writes under test, not a wait for a result
    assert worker.wait(timeout=20) == 0
    assert time.monotonic() - started < 10


def test_log_follow_into_a_pipe_ends_when_its_reader_does(fq: Focusq) -> None:
    """``log -f ID | head -1`` on a job that then prints nothing for a long while."""
    gate = fq.workdir / "go"
    job = fq.add("--shell", "--", f"echo first; while [ ! -e {gate} ]; do sleep 0.05; done")
    fq.start_worker()
    poll(lambda: fq.status(job) == "running")
    piped = subprocess.run(
        f"{sys.executable} -m focusq log -f {job} | head -1; echo ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        cwd=fq.workdir,
        env=fq.env,
        timeout=30,  # before the fix it waited for the job's end: the gate is never touched
    )
    assert piped.stdout.splitlines()[-1] == "0" and "Traceback" not in piped.stderr
    gate.touch()
    assert fq.wait(job).returncode == 0


def test_a_job_at_a_later_time_waits_for_it(fq: Focusq) -> None:
    fq.start_worker()
    when = time.time() + 1.5
    # With its offset: a local time alone means the first of the two in the hour the clocks
    # go back, an hour earlier than ``when`` in the second one.
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(when))
    task_id = fq.add(f"at:{stamp}", "--", "true")
    fq.wait(task_id)
    assert runs(fq.home, task_id)[0]["started_at"] >= int(when)


def test_jobs_outlive_a_killed_worker_and_are_adopted(fq: Focusq, tmp_path: Path) -> None:
    gate = tmp_path / "go"
    ids = [
        fq.add("--", "sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.05; done; exit {n}")
        for n in (0, 7, 9)
    ]
    worker = fq.start_worker()
    poll(lambda: all(fq.status(i) == "running" for i in ids), what="three running jobs")
    pids = [poll(lambda i=i: runs(fq.home, i)[0]["pid"] or _pid_file(fq, i)) for i in ids]
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert all(alive(p) for p in pids)
    fq.start_worker()
    gate.touch()
    fq.wait(*ids)
    for task_id, code in zip(ids, (0, 7, 9), strict=False):
        [only_run] = runs(fq.home, task_id)  # adopted, never started twice
        assert only_run["exit_code"] == code
        assert only_run["result"] == ("ok" if code == 0 else "failed")


def _pid_file(fq: Focusq, task_id: int) -> int | None:
    path = Path(runs(fq.home, task_id)[0]["log_path"].removesuffix(".log") + ".pid")
    return int(path.read_text()) if path.exists() and path.read_text().strip() else None


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as file:
        return int(file.read().rsplit(")", 1)[1].split()[1])


def _kill_worker_and_job(fq: Focusq, worker: subprocess.Popen[str], task_id: int) -> None:
    """SIGKILL the worker, the job's supervisor, then the job's whole group.

    Nothing is left to adopt, and nothing saw the job end to write its exit code.
    """
    pgid = poll(lambda: runs(fq.home, task_id)[0]["pgid"] or _pid_file(fq, task_id))
    supervisor = _parent(pgid)
    assert supervisor not in (1, worker.pid)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    os.kill(supervisor, signal.SIGKILL)
    os.killpg(pgid, signal.SIGKILL)
    poll(lambda: not alive(pgid))


def test_a_job_that_ends_while_no_worker_runs_keeps_its_exit_code(
    fq: Focusq, tmp_path: Path
) -> None:
    gate = tmp_path / "go"
    task_id = fq.add("--", "sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.05; done; exit 5")
    worker = fq.start_worker()
    poll(lambda: fq.status(task_id) == "running")
    pid = poll(lambda: runs(fq.home, task_id)[0]["pid"] or _pid_file(fq, task_id))
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    gate.touch()
    exit_file = Path(runs(fq.home, task_id)[0]["log_path"].removesuffix(".log") + ".exit")
    poll(lambda: not alive(pid) and exit_file.exists(), what="the job's end, written down")
    ended = exit_file.stat().st_mtime
    restarted = time.time()
    fq.start_worker()
    fq.wait(task_id)
    [only_run] = runs(fq.home, task_id)
    assert (only_run["result"], only_run["exit_code"]) == ("failed", 5)
    # It ended when it exited, not when a worker came back to see it.
    assert only_run["ended_at"] == ended < restarted


def test_a_job_gone_with_its_worker_is_interrupted(fq: Focusq, tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    once = fq.add("--", "sh", "-c", f"touch {ready}; sleep 60")
    worker = fq.start_worker()
    poll(ready.exists)
    _kill_worker_and_job(fq, worker, once)
    fq.start_worker()
    fq.wait(once)
    row = task(fq.home, once)
    assert (row["status"], row["result"]) == ("failed", "interrupted")
    assert [r["result"] for r in runs(fq.home, once)] == ["interrupted"]


def test_an_interrupted_job_with_retries_left_runs_again(fq: Focusq, tmp_path: Path) -> None:
    marker = tmp_path / "ran-before"
    script = f"if [ -e {marker} ]; then exit 0; fi; touch {marker}; sleep 60"
    task_id = fq.add("retry:1", "--", "sh", "-c", script)
    worker = fq.start_worker()
    poll(marker.exists)
    _kill_worker_and_job(fq, worker, task_id)
    fq.start_worker()
    assert fq.wait(task_id).returncode == 0
    assert [r["result"] for r in runs(fq.home, task_id)] == ["interrupted", "ok"]


def test_stopping_the_worker_leaves_jobs_running(fq: Focusq, tmp_path: Path) -> None:
    gate = tmp_path / "go"
    task_id = fq.add("--", "sh", "-c", f"while [ ! -e {gate} ]; do sleep 0.05; done")
    worker = fq.start_worker()
    poll(lambda: fq.status(task_id) == "running")
    pid = poll(lambda: runs(fq.home, task_id)[0]["pid"] or _pid_file(fq, task_id))
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=20) == 0
    assert alive(pid) and fq.status(task_id) == "running"
    fq.start_worker()
    gate.touch()
    assert fq.wait(task_id).returncode == 0
    assert len(runs(fq.home, task_id)) == 1


def test_log_follow_ends_when_the_job_ends(fq: Focusq, tmp_path: Path) -> None:
    gate = tmp_path / "go"
    script = f"echo first; while [ ! -e {gate} ]; do sleep 0.05; done; echo last"
    task_id = fq.add("--", "sh", "-c", script)
    fq.start_worker()
    poll(lambda: fq.status(task_id) == "running")
    follower = subprocess.Popen(
        [sys.executable, "-m", "focusq", "log", "-f", str(task_id)],
        env=fq.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert follower.stdout is not None
    seen = []
    while "first\n" not in seen:
        seen.append(follower.stdout.readline())
    assert follower.poll() is None  # still following the running job
    gate.touch()
    rest = follower.stdout.read()
    assert follower.wait(timeout=30) == 0
    assert seen[0].startswith("# focusq") and rest == "last\n"


def test_batch_adds_a_fan_out_and_fan_in_in_one_go(fq: Focusq, tmp_path: Path) -> None:
    batch = tmp_path / "report.toml"
    out = tmp_path / "out"
    out.mkdir()
    pulls = "\n".join(
        f'[[task]]\nname = "{s}"\ntitle = "pull {s}"\ncommand = ["touch", "{out}/{s}"]\n'
        for s in ("crm", "billing", "ads", "web")
    )
    report = (
        f'[[task]]\ntitle = "build the report"\nshell = true\n'
        f'command = "ls {out} > {tmp_path}/report"\nafter = ["crm", "billing", "ads", "web"]\n'
    )
    batch.write_text('group = "report"\n' + pulls + report)
    added = fq("batch", str(batch))
    assert added.returncode == 0, added.stderr
    ids = [int(i) for i in added.stdout.split()]
    assert len(ids) == 5
    assert fq.show(ids[-1])["after"] == ids[:4]
    fq.start_worker()
    assert fq.wait(*ids).returncode == 0
    assert (tmp_path / "report").read_text().split() == ["ads", "billing", "crm", "web"]
    report_start = runs(fq.home, ids[-1])[0]["started_at"]
    assert all(runs(fq.home, i)[0]["ended_at"] <= report_start for i in ids[:4])


def test_a_bad_batch_adds_nothing(fq: Focusq, tmp_path: Path) -> None:
    batch = tmp_path / "bad.toml"
    batch.write_text(
        '[[task]]\ntitle = "a"\ncommand = ["true"]\n[[task]]\ntitle = "b"\nafter = ["zzz"]\n'
    )
    result = fq("batch", str(batch))
    assert result.returncode == 2
    assert "task 2" in result.stderr and "zzz" in result.stderr
    assert db_rows(fq.home, "SELECT count(*) FROM tasks") in ([], [(0,)])


def test_adding_work_starts_a_worker(fq: Focusq) -> None:
    result = fq("add", "--", "true", FOCUSQ_WORKER__AUTOSTART="true", FOCUSQ_WORKER__IDLE_EXIT="1")
    task_id = int(result.stdout)
    try:
        assert fq.wait(task_id).returncode == 0
    finally:
        for (pid,) in db_rows(fq.home, "SELECT pid FROM lease"):
            os.kill(pid, signal.SIGTERM)


def test_a_worker_started_by_add_reads_the_users_config_file(tmp_path: Path) -> None:
    """No FOCUSQ_HOME: the data goes to $XDG_DATA_HOME/focusq and the config is read from
    $XDG_CONFIG_HOME/focusq/config.toml, by the add and by the worker it starts alike."""
    marker = tmp_path / "hook ran"
    config = tmp_path / "config" / "focusq" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f"[hooks]\non_end = \"touch '{marker}'\"\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOCUSQ_")}
    env |= {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    env |= {"XDG_DATA_HOME": str(tmp_path / "data"), "FOCUSQ_WORKER__IDLE_EXIT": "5"}
    home = tmp_path / "data" / "focusq"
    try:
        added = subprocess.run(
            [sys.executable, "-m", "focusq", "add", "--", "true"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert added.returncode == 0, added.stderr
        poll(marker.exists, what="the config's on_end hook to run")
    finally:
        for pid in processes_of(home):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_a_config_the_worker_cannot_use_is_logged_and_the_next_one_applies(
    fq: Focusq, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    with open(log, "w") as err:
        worker = subprocess.Popen(
            [sys.executable, "-m", "focusq", "worker", "--foreground"],
            cwd=fq.workdir,
            env=fq.env,
            stderr=err,
        )
    fq.workers_extra = [worker]  # type: ignore[attr-defined]
    try:
        poll(lambda: db_rows(fq.home, "SELECT pid FROM lease"), what="the lease")
        config = fq.home / "config.toml"

        def refused() -> bool:  # written again until seen: its watcher may start after
            config.write_text("_env_prefix = 5\n")
            return "the changed config is not used" in log.read_text()

        poll(refused, what="the refusal")
        marker = tmp_path / "hook ran"
        config.write_text(f"[hooks]\non_end = \"touch '{marker}'\"\n")
        poll(lambda: "config changed" in log.read_text(), what="the good config")
        assert fq.wait(fq.add("--", "true")).returncode == 0
        poll(marker.exists, what="the new config's hook")
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0, log.read_text()
    assert "Traceback" not in log.read_text()
    assert db_rows(fq.home, "SELECT * FROM lease") == []


def test_log_follow_and_wait_agree_on_a_job_done_by_hand(fq: Focusq) -> None:
    job = fq.add("--held", "--", "true")
    assert fq("done", str(job)).returncode == 0
    assert fq("wait", str(job)).returncode == 0
    assert fq("log", "-f", str(job)).returncode == 0


def test_creative_tasks_have_no_job_actions(fq: Focusq) -> None:
    task_id = fq.add("write", "the", "post")
    for action in ("pause", "approve", "resume"):
        result = fq(action, str(task_id))
        assert result.returncode == 2
        assert "is creative: there is no job" in result.stderr
    logged = fq("log", str(task_id))
    assert logged.returncode == 2 and "no log" in logged.stderr


@pytest.mark.slow
def test_a_job_printing_a_gigabyte_streams_to_its_log(fq: Focusq) -> None:
    worker = fq.start_worker()
    task_id = fq.add("--", "head", "-c", "1000000000", "/dev/zero")
    peak = 0
    while fq.status(task_id) in ("queued", "running"):
        with open(f"/proc/{worker.pid}/status") as status:
            rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))
        peak = max(peak, rss)
        time.sleep(0.05)  # sampling memory while the job runs, not waiting for it
    assert fq.status(task_id) == "done"
    log = Path(runs(fq.home, task_id)[0]["log_path"])
    try:
        assert log.stat().st_size > 1_000_000_000
    finally:
        log.unlink()
    assert peak < 100 * 1024, f"worker RSS peaked at {peak} kB"
