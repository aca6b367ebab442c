"""The engine's promises at their edges: a restart, a kill in a window, a zombie, a bad job.

Real workers, supervisors and jobs; real signals; every wait polls a deadline or waits on
an event.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from tests.engine_helpers import (
    Focusq,
    alive,
    db_rows,
    poll,
    runs,
    supervisor_of,
    task,
)

pytestmark = pytest.mark.slow


# -- nothing stuck --------------------------------------------------------------------------


def test_a_restarted_worker_knows_dependencies_that_ended_before_it(fq: Focusq) -> None:
    first = fq.add("a", "--", "true")  # before the worker: one idle 0.3 s may not wait for it
    worker = fq.start_worker(FOCUSQ_WORKER__IDLE_EXIT="0.3")
    assert fq.wait(first).returncode == 0
    assert worker.wait(timeout=30) == 0  # idle: it exits
    second = fq.add("b", f"after:{first}", "--", "true")
    fq.start_worker()
    assert fq.wait(second, timeout=15).returncode == 0
    assert fq.status(second) == "done"


@pytest.mark.parametrize("how", ["drop", "cancel"])
def test_dependants_of_a_task_ended_before_the_worker_started_are_skipped(
    fq: Focusq, how: str
) -> None:
    first = fq.add("a", "at:23:59", "--", "true")
    later = fq.add("b", f"after:{first}", "--", "true")
    either = fq.add("c", f"afterany:{first}", "--", "true")
    assert fq(how, str(first)).returncode == 0
    fq.start_worker()
    assert fq.wait(later, either).returncode == 1
    ended = task(fq.home, later)
    assert (ended["status"], ended["result"]) == ("skipped", "skipped")
    assert f"after #{first}, which ended" in ended["reason"]
    assert fq.status(either) == "done"  # afterany only needs an end


@pytest.mark.parametrize("how", ["drop", "cancel"])
def test_a_dependency_ended_while_the_worker_starts_is_seen(fq: Focusq, how: str) -> None:
    """The end lands between the worker taking its lease and reading the queue."""
    first = fq.add("a", "at:23:59", "--", "true")
    later = fq.add("b", f"after:{first}", "--", "true")
    gate = fq.home / "recover.gate"
    os.mkfifo(gate)
    worker = subprocess.Popen(
        [sys.executable, "-m", "focusq", "worker", "--foreground"],
        cwd=fq.workdir,
        env={**fq.env, "FOCUSQ_TEST_PAUSE_BEFORE_RECOVERY": str(gate)},
        stderr=subprocess.DEVNULL,
    )
    fq.workers_extra = [worker]  # type: ignore[attr-defined]
    try:
        poll(lambda: db_rows(fq.home, "SELECT pid FROM lease"), what="the lease")
        assert fq(how, str(first)).returncode == 0
        with open(gate, "w") as release:  # let recovery go on
            release.write("go\n")
        assert fq.wait(later).returncode == 1
        assert fq.status(later) == "skipped"
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)


def test_a_zombie_worker_is_dead(fq: Focusq) -> None:
    """A worker that exited but was never reaped holds no lease."""
    import socket
    import sqlite3

    from focusq.engine.procs import boot_id, process_start

    fq.add("make the database")
    zombie = subprocess.Popen(["true"])  # never waited for until the end: a zombie meanwhile
    try:
        poll(lambda: _state(zombie.pid) == "Z", what="the zombie")
        with sqlite3.connect(fq.home / "focusq.db") as con:
            con.execute(
                "INSERT INTO lease (name, pid, host, boot_id, proc_start, started_at, heartbeat)"
                " VALUES ('worker', ?, ?, ?, ?, 0, 1e12)",
                (zombie.pid, socket.gethostname(), boot_id(), process_start(zombie.pid)),
            )
        started = fq("worker")
        assert started.returncode == 0
        assert "already runs" not in started.stdout, started.stdout
        poll(
            lambda: db_rows(fq.home, "SELECT pid FROM lease WHERE pid <> ?", zombie.pid),
            what="a new worker's lease",
        )
    finally:
        zombie.wait()
        for (pid,) in db_rows(fq.home, "SELECT pid FROM lease"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as file:
        return file.read().rsplit(")", 1)[1].split()[0]


# -- every job starts clean, every exit code is kept -----------------------------------------


def test_jobs_start_with_default_signals_and_none_blocked(fq: Focusq) -> None:
    fq.start_worker()
    show = fq.add("signals", "--", "sh", "-c", "grep -E '^Sig(Ign|Blk)' /proc/self/status")
    pipe = fq.add("pipe", "timeout:20", "--shell", "--", "yes | head -1")
    assert fq.wait(show, pipe).returncode == 0
    log = fq("log", str(show)).stdout
    masks = dict(line.split(":\t") for line in log.splitlines() if line.startswith("Sig"))
    # glibc keeps two real-time signals for itself (32, 33); no program can handle them.
    usable = sum(1 << (s - 1) for s in signal.valid_signals() if s < 65)
    assert int(masks["SigIgn"], 16) & usable == 0, log
    assert int(masks["SigBlk"], 16) == 0, log
    assert task(fq.home, pipe)["result"] == "ok"  # SIGPIPE ends yes at once


def test_exit_127_from_a_job_that_ran_is_a_failure_with_retries(fq: Focusq) -> None:
    fq.start_worker()
    job = fq.add("one two seven", "retry:1", "--", "sh", "-c", "exit 127")
    assert fq.wait(job).returncode == 1
    row = task(fq.home, job)
    assert (row["status"], row["result"], row["exit_code"]) == ("failed", "failed", 127)
    assert [r["exit_code"] for r in runs(fq.home, job)] == [127, 127]


def test_a_nul_byte_is_refused_at_add_and_harms_no_other_job(fq: Focusq, tmp_path: Path) -> None:
    batch = tmp_path / "nul.toml"
    batch.write_text('[[task]]\ntitle = "bad"\ncommand = ["printf", "a\\u0000b"]\n')
    refused = fq("batch", str(batch))
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "NUL byte" in refused.stderr
    # Refused before the database is opened: no task, and no file made for none.
    assert db_rows(fq.home, "SELECT count(*) FROM tasks") in ([], [(0,)])
    # One written before the check existed still harms nothing else.
    import sqlite3

    bad = fq.add("bad", "--", "printf", "x")
    with sqlite3.connect(fq.home / "focusq.db") as con:
        con.execute("UPDATE tasks SET command = ? WHERE id = ?", ('["printf", "a\\u0000b"]', bad))
    beside = fq.add("beside", "--", "sh", "-c", "sleep 0.5; exit 3")
    fq.start_worker()
    fq.wait(bad, beside)
    assert (fq.status(bad), task(fq.home, bad)["result"]) == ("failed", "spawn_error")
    row = task(fq.home, beside)
    assert (row["result"], row["exit_code"]) == ("failed", 3)


def test_a_command_with_a_newline_keeps_the_header_to_three_lines(fq: Focusq) -> None:
    fq.start_worker()
    job = fq.add("two lines", "--shell", "--", "echo one\necho two")
    assert fq.wait(job).returncode == 0
    lines = fq("log", str(job)).stdout.splitlines()
    assert [line.startswith("# ") for line in lines[:4]] == [True, True, True, False]
    assert lines[0] == "# focusq: echo one\\necho two"
    assert lines[3:] == ["one", "two"]


# -- the environment a job sees ---------------------------------------------------------------


def _env_of(fq: Focusq, job: int) -> dict[str, str]:
    lines = fq("log", str(job)).stdout.splitlines()[3:]
    return dict(line.split("=", 1) for line in lines if "=" in line)


def test_a_job_runs_with_the_environment_of_the_shell_that_added_it(
    fq: Focusq, tmp_path: Path
) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "only-here").write_text("#!/bin/sh\necho found\n")
    (tools / "only-here").chmod(0o755)
    fq.start_worker(SECRET_TOKEN="the worker's")
    path = f"{tools}:{os.environ['PATH']}"
    shown = fq("add", "env", "--env", "EXTRA=1", "--", "env", FROM_SHELL="a b", PATH=path)
    tool = fq("add", "tool", "--", "only-here", FROM_SHELL="a b", PATH=path)
    job, uses_tool = int(shown.stdout), int(tool.stdout)
    assert fq.wait(job, uses_tool).returncode == 0
    seen = _env_of(fq, job)
    assert seen["FROM_SHELL"] == "a b" and seen["EXTRA"] == "1"
    assert "SECRET_TOKEN" not in seen
    assert seen["FOCUSQ_TASK_ID"] == str(job) and seen["FOCUSQ_ATTEMPT"] == "1"
    [run] = runs(fq.home, job)
    database_id = db_rows(fq.home, "SELECT value FROM meta WHERE key = 'database_id'")[0][0]
    assert seen["FOCUSQ_RUN"] == f"{database_id}:{run['id']}"
    assert "found" in fq("log", str(uses_tool)).stdout
    # Stored once for both tasks; shown only by show --env, never in JSON.
    assert db_rows(fq.home, "SELECT count(*) FROM environments") == [(1,)]
    assert "FROM_SHELL=a b" in fq("show", str(job), "--env").stdout
    for listing in (fq("ls", "--all", "--json"), fq("show", str(job), "--json")):
        assert "FROM_SHELL" not in listing.stdout and "the worker" not in listing.stdout


def test_edit_sets_and_unsets_variables_of_a_queued_job(fq: Focusq) -> None:
    job = int(fq("add", "later", "at:23:59", "--", "env", GONE="x", KEPT="y").stdout)
    edited = fq("edit", str(job), "--env", "NEW=1", "--unset-env", "GONE", "pri:H")
    assert edited.returncode == 0, edited.stderr
    shown = fq("show", str(job), "--env").stdout
    assert "NEW=1  (--env)" in shown and "KEPT=y" in shown and "GONE=" not in shown
    assert fq.show(job)["title"] == "later" and fq.show(job)["priority"] == "H"
    moved = fq("edit", str(job), "--cwd", "/var")  # the folder alone, read as an option
    assert moved.returncode == 0, moved.stderr
    assert (fq.show(job)["title"], fq.show(job)["cwd"]) == ("later", "/var")
    writing = fq("add", "write").stdout.strip()
    refused = fq("edit", writing, "--cwd", "/var")
    assert refused.returncode == 2 and "creative" in refused.stderr


@pytest.mark.parametrize("command", [["wait"], ["status", "--short"], ["ls"], ["ls", "--json"]])
def test_a_command_that_reads_the_queue_revives_a_dead_worker(
    fq: Focusq, command: list[str]
) -> None:
    worker = fq.start_worker()
    worker.kill()  # a crash: the lease stays behind
    worker.wait()
    job = fq.add("left waiting", "--", "true")
    args = [*command, str(job), "--timeout", "20"] if command == ["wait"] else command
    assert fq(*args, FOCUSQ_WORKER__AUTOSTART="true").returncode == 0
    assert fq.wait(job, timeout=20).returncode == 0
    holders = db_rows(fq.home, "SELECT pid FROM lease")
    assert holders and holders[0][0] != worker.pid
    for (pid,) in holders:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def test_an_edit_that_returned_orders_the_next_start(fq: Focusq) -> None:
    """The running job ends within milliseconds of the edit: before the worker's watcher
    could tell it of the change."""
    go = fq.workdir / "go"
    fq.start_worker(FOCUSQ_ENGINE__MAX_PARALLEL="1")
    first = fq.add("blocker", "--shell", "--", f"while [ ! -e {go} ]; do sleep 0.005; done")
    poll(lambda: fq.status(first) == "running", what="the blocker to run")
    older = fq.add("older", "--", "true")
    newer = fq.add("newer", "--", "true")
    assert fq("edit", str(newer), "pri:H").returncode == 0
    go.touch()
    assert fq.wait(older, newer).returncode == 0
    started = {r: runs(fq.home, r)[0]["started_at"] for r in (older, newer)}
    assert started[newer] < started[older]


def test_a_job_of_its_own_command_edited_while_queued_still_starts(fq: Focusq) -> None:
    """No other job shares its command: each edit makes the worker take it again, and its
    start must find the queue's books straight (it crashed the worker once)."""
    go = fq.workdir / "go"
    worker = fq.start_worker(FOCUSQ_ENGINE__MAX_PARALLEL="1")
    first = fq.add("blocker", "--shell", "--", f"while [ ! -e {go} ]; do sleep 0.005; done")
    poll(lambda: fq.status(first) == "running", what="the blocker to run")
    alone = fq.add("alone", "--", "echo", "only me")
    for priority in ("H", "L", "M"):  # each edit, all but surely, read on its own
        assert fq("edit", str(alone), f"pri:{priority}").returncode == 0
    go.touch()
    assert fq.wait(first, alone).returncode == 0
    assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""


def test_a_cancel_while_a_failed_job_leaves_its_group_is_not_followed_by_a_retry(
    fq: Focusq,
) -> None:
    """The job's own process has failed; a child of it that ignores SIGTERM keeps its group
    alive (the job shows as running) until the grace period ends. A cancel then is a
    cancel: the job ends cancelled, with no second run."""
    exited = fq.workdir / "exited"
    fq.start_worker(FOCUSQ_ENGINE__KILL_GRACE="4")
    job = fq.add(
        "lingers",
        "retry:2",
        "--shell",
        "--",
        f"(trap '' TERM; exec sleep 30) & touch {exited}; exit 1",
    )
    poll(exited.exists, what="the job's own process to exit")
    poll(lambda: fq.status(job) == "running" and runs(fq.home, job)[0]["pid"], what="its run")
    assert fq("cancel", str(job)).returncode == 0
    assert fq.wait(job).returncode == 1
    ended = task(fq.home, job)
    assert (ended["status"], ended["result"]) == ("cancelled", "cancelled")
    assert len(runs(fq.home, job)) == 1


def test_a_cancel_outlives_the_worker_that_sent_it(fq: Focusq) -> None:
    """The job takes its time to end after SIGTERM, and its worker dies meanwhile: the next
    worker still knows it was cancelled, and does not retry it."""
    termed = fq.workdir / "termed"
    worker = fq.start_worker(FOCUSQ_ENGINE__KILL_GRACE="10")
    job = fq.add(
        "slow to stop",
        "retry:2",
        "--shell",
        "--",
        f"trap 'touch {termed}; sleep 0.3; exit 1' TERM; sleep 30 & wait",
    )
    poll(lambda: runs(fq.home, job) and runs(fq.home, job)[0]["pid"], what="its pid")
    assert fq("cancel", str(job)).returncode == 0
    poll(termed.exists, what="the job to get SIGTERM")
    worker.kill()
    worker.wait()
    fq.start_worker()
    assert fq.wait(job).returncode == 1
    assert (task(fq.home, job)["status"], len(runs(fq.home, job))) == ("cancelled", 1)


def _fail_fast_group(fq: Focusq, *, one_at_a_time: bool = True) -> None:
    """``group:ff`` is fail-fast (and runs one job at a time, unless told otherwise)."""
    fq.home.mkdir(parents=True, exist_ok=True)
    cap = "max_parallel = 1\n" if one_at_a_time else ""
    (fq.home / "config.toml").write_text(f'[groups.ff]\npolicy = "fail-fast"\n{cap}')


def test_a_fail_fast_member_after_the_failed_one_is_skipped_not_cancelled(fq: Focusq) -> None:
    """Its own dependency failed: it says so, as a job outside the group would; the rest of
    the group is cancelled."""
    _fail_fast_group(fq)
    failing = fq.add("a", "group:ff", "--", "false")
    after = fq.add("b", "group:ff", f"after:{failing}", "--", "true")
    other = fq.add("c", "group:ff", "--", "true")
    fq.start_worker()
    fq.wait(failing, after, other)
    row = task(fq.home, after)
    assert (row["status"], row["reason"]) == ("skipped", f"after #{failing}, which ended failed")
    assert task(fq.home, other)["status"] == "cancelled"


def test_a_job_that_cannot_start_fails_its_fail_fast_group(fq: Focusq) -> None:
    _fail_fast_group(fq)
    first = fq.add("a", "group:ff", "--", "/nonexistent/command")
    second = fq.add("b", "group:ff", "--", "true")
    fq.start_worker()
    assert fq.wait(first, second).returncode == 1
    assert task(fq.home, first)["result"] == "spawn_error"
    assert (task(fq.home, second)["status"], runs(fq.home, second)) == ("cancelled", [])


def test_a_failure_while_no_worker_ran_fails_its_fail_fast_group(fq: Focusq) -> None:
    _fail_fast_group(fq)
    go = fq.workdir / "go"
    first = fq.add(
        "a", "group:ff", "--shell", "--", f"while [ ! -e {go} ]; do sleep 0.01; done; exit 1"
    )
    second = fq.add("b", "group:ff", "--", "true")
    worker = fq.start_worker()
    poll(lambda: runs(fq.home, first) and runs(fq.home, first)[0]["pid"], what="its pid")
    worker.kill()
    worker.wait()
    go.touch()
    poll(lambda: list((fq.home / "logs").glob(f"{first}-1.exit")), what="its exit file")
    fq.start_worker()
    assert fq.wait(first, second).returncode == 1
    assert (task(fq.home, second)["status"], runs(fq.home, second)) == ("cancelled", [])


def test_a_fail_fast_group_member_ending_in_the_same_tick_is_not_retried(fq: Focusq) -> None:
    """Both fail while the worker is stopped, so it settles them in one tick: the first
    one's failure cancels the group, and the other (it has retries) is not run again."""
    _fail_fast_group(fq, one_at_a_time=False)
    go = fq.workdir / "go"
    wait_then_fail = f"while [ ! -e {go} ]; do sleep 0.01; done; exit 1"
    first = fq.add("a", "group:ff", "--shell", "--", wait_then_fail)
    second = fq.add("b", "group:ff", "retry:2", "--shell", "--", wait_then_fail)
    worker = fq.start_worker()
    pids = [
        poll(lambda t=t: runs(fq.home, t) and runs(fq.home, t)[0]["pid"], what="its pid")
        for t in (first, second)
    ]
    worker.send_signal(signal.SIGSTOP)
    try:
        go.touch()
        poll(lambda: not any(alive(p) for p in pids), what="both to end")
    finally:
        worker.send_signal(signal.SIGCONT)
    assert fq.wait(first, second).returncode == 1
    assert (task(fq.home, second)["status"], len(runs(fq.home, second))) == ("cancelled", 1)


# -- never twice at once, never a lost exit code ---------------------------------------------


def _supervisor_of(worker_pid: int) -> int:
    pid = supervisor_of(worker_pid)
    assert pid is not None, "no supervisor"
    return pid


def test_a_job_started_just_before_a_crash_is_found_by_its_tag(fq: Focusq) -> None:
    """Worker and supervisor die after the job started and before its pid was saved."""
    marks = fq.workdir / "marks"
    gate = fq.workdir / "spawned.gate"
    os.mkfifo(gate)
    worker = fq.start_worker(FOCUSQ_TEST_PAUSE_AFTER_SPAWN=str(gate))
    script = f"echo start >> {marks}; sleep 1; echo end >> {marks}"
    job = fq.add("once", "retry:1", "lock:deploy", "--shell", "--", script)
    poll(lambda: marks.exists(), what="the job to start")
    supervisor = _supervisor_of(worker.pid)
    assert runs(fq.home, job)[0]["pid"] is None  # the window: running, pid unsaved
    os.kill(worker.pid, signal.SIGKILL)
    os.kill(supervisor, signal.SIGKILL)
    worker.wait()
    beside = fq.add("beside", "lock:deploy", "--shell", "--", f"echo beside >> {marks}")
    fq.start_worker()
    assert fq.wait(job, beside).returncode == 0
    # Adopted, never run again beside itself, and the lock's next holder waited for it.
    lines = marks.read_text().split()
    assert lines[:2] == ["start", "end"], lines
    assert all(b == "end" for a, b in itertools.pairwise(lines) if a == "start"), lines
    first = runs(fq.home, job)[0]
    assert first["pid"] is not None  # the recovered run keeps the pid it had
    # No one could reap it (its parent and its worker were gone): that is said, not guessed.
    assert first["result"] == "interrupted"
    said = db_rows(fq.home, "SELECT payload FROM events WHERE task_id = ? AND kind = 'status'", job)
    assert any("exit code unknown" in payload for (payload,) in said), said


def test_a_job_that_exited_as_the_next_worker_recovers_keeps_its_exit_code(fq: Focusq) -> None:
    """The job has exited; its orphaned supervisor has not yet written its exit file when
    the next worker looks: the job is a zombie then, and must not be called lost."""
    go = fq.workdir / "go"
    held = fq.workdir / "exit-file.gate"
    os.mkfifo(held)
    worker = fq.start_worker(FOCUSQ_TEST_PAUSE_BEFORE_EXIT_FILE=str(held))
    job = fq.add("ends", "--shell", "--", f"while [ ! -e {go} ]; do sleep 0.01; done; exit 5")
    pid = poll(lambda: runs(fq.home, job) and runs(fq.home, job)[0]["pid"], what="its pid")
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    go.touch()
    poll(lambda: _state(pid) == "Z", what="the job exited, its exit file not yet written")
    second = fq.start_worker()
    poll(lambda: supervisor_of(second.pid), what="the new worker past its recovery")
    assert runs(fq.home, job)[0]["result"] is None  # not judged lost while unreaped
    with open(held, "w") as release:
        release.write("go\n")
    assert fq.wait(job).returncode == 1
    [only_run] = runs(fq.home, job)
    assert (only_run["result"], only_run["exit_code"]) == ("failed", 5)


def _state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def test_a_cancel_asked_while_no_worker_ran_is_kept(fq: Focusq) -> None:
    """The job failed on its own meanwhile: it is cancelled, not retried."""
    go = fq.workdir / "go"
    job = fq.add("retry:2", "--shell", "--", f"while [ ! -e {go} ]; do sleep 0.01; done; exit 1")
    worker = fq.start_worker()
    [run] = poll(lambda: [r for r in runs(fq.home, job) if r["pid"]], what="its pid")
    worker.kill()
    worker.wait()
    assert fq("cancel", str(job)).returncode == 0
    go.touch()
    exit_file = Path(run["log_path"].removesuffix(".log") + ".exit")
    poll(exit_file.exists, what="the job's end written down by its supervisor")
    fq.start_worker()
    assert fq.wait(job).returncode == 1
    assert task(fq.home, job)["status"] == "cancelled"
    assert len(runs(fq.home, job)) == 1  # no retry after a cancel


def test_the_supervisor_alone_dies_and_exit_codes_are_kept(fq: Focusq) -> None:
    worker = fq.start_worker()
    go = fq.workdir / "go"
    wait_for_go = f"while [ ! -e {go} ]; do sleep 0.01; done"
    failing = fq.add("fails", "--shell", "--", f"{wait_for_go}; exit 3")
    passing = fq.add("passes", "--shell", "--", wait_for_go)
    poll(lambda: all(runs(fq.home, t) and runs(fq.home, t)[0]["pid"] for t in (failing, passing)))
    os.kill(_supervisor_of(worker.pid), signal.SIGKILL)
    go.touch()
    assert fq.wait(failing, passing).returncode == 1
    assert (task(fq.home, failing)["result"], task(fq.home, failing)["exit_code"]) == ("failed", 3)
    assert (task(fq.home, passing)["result"], task(fq.home, passing)["exit_code"]) == ("ok", 0)
    assert worker.poll() is None
    # A job after that starts through a new supervisor.
    again = fq.add("again", "--", "true")
    assert fq.wait(again).returncode == 0


def test_evidence_files_go_once_the_database_holds_them(fq: Focusq) -> None:
    worker = fq.start_worker()
    job = fq.add("outlives", "--", "sleep", "0.5")
    poll(lambda: runs(fq.home, job) and runs(fq.home, job)[0]["pid"], what="its pid")
    worker.kill()
    worker.wait()
    logs = fq.home / "logs"
    poll(lambda: list(logs.glob(f"{job}-1.exit")), what="the orphaned supervisor's exit file")
    fq.start_worker()
    assert fq.wait(job).returncode == 0
    assert task(fq.home, job)["result"] == "ok"
    poll(
        lambda: not list(logs.glob("*.pid")) and not list(logs.glob("*.exit")),
        what="the evidence to be deleted",
    )


def test_a_process_that_escaped_the_group_is_stopped_with_its_job(fq: Focusq) -> None:
    fq.start_worker()
    pidfile = fq.workdir / "escaped.pid"
    job = fq.add("escapes", "--shell", "--", f"setsid sleep 300 & echo $! > {pidfile}")
    assert fq.wait(job).returncode == 0
    escaped = int(pidfile.read_text())
    poll(lambda: not alive(escaped), what="the escaped process to be stopped")


# -- a damaged database -----------------------------------------------------------------------


def test_a_damaged_database_is_written_to_by_no_one(fq: Focusq) -> None:
    import shutil
    import sqlite3

    for n in range(5):
        fq.add(f"task {n}")
    database = fq.home / "focusq.db"
    with sqlite3.connect(database) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
        root = con.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'focus_by_start'"
        ).fetchone()[0]
    shutil.copy(database, fq.workdir / "backup.db")
    with open(database, "r+b") as file:  # an index `add` never reads: add alone would go on
        file.seek((root - 1) * page_size)
        file.write(b"\x00" * 8)
    checked = fq("worker", "--foreground")
    assert checked.returncode == 2
    assert checked.stderr.count("\n") == 1, checked.stderr
    assert "is damaged" in checked.stderr and "REINDEX" in checked.stderr
    refused = fq("add", "one more")
    assert refused.returncode == 2 and "writes nothing to it" in refused.stderr
    assert refused.stderr.count("\n") == 1
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as con:
        assert con.execute("SELECT count(*) FROM tasks").fetchone() == (5,)
    assert fq("ls").returncode == 0  # reading still works
    # The user puts a good copy in its place: writes are allowed, and a worker clears the mark.
    os.replace(fq.workdir / "backup.db", database)
    assert fq("add", "after the repair").returncode == 0
    worker = fq.start_worker()
    assert not (fq.home / "focusq.db.damaged").exists()
    worker.terminate()


def test_cancel_sends_the_signal_asked_for_first(fq: Focusq) -> None:
    fq.start_worker()
    got = fq.workdir / "got"
    ready = fq.workdir / "ready"
    script = f"trap 'echo INT > {got}; exit 9' INT; touch {ready}; while :; do sleep 0.01; done"
    job = fq.add("traps", "--shell", "--", script)
    poll(lambda: ready.exists(), what="the trap to be set")
    cancelled = fq("cancel", str(job), "--signal", "INT")
    assert cancelled.returncode == 0 and "cancelling #" in cancelled.stdout
    fq.wait(job)
    assert got.read_text() == "INT\n"
    assert task(fq.home, job)["result"] == "cancelled"


# -- following and waiting --------------------------------------------------------------------


def test_log_follow_waits_for_the_start_and_exits_like_the_job(fq: Focusq) -> None:
    job = fq.add("later", "retry:1", "--shell", "--", "echo try $FOCUSQ_ATTEMPT; exit 3")
    follower = subprocess.Popen(
        [sys.executable, "-m", "focusq", "log", "-f", str(job)],
        cwd=fq.workdir,
        env=fq.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    poll(lambda: _watching(follower.pid), what="the follower to wait for the start")
    fq.start_worker()
    out, err = follower.communicate(timeout=30)
    assert follower.returncode == 1  # failed, as the job did
    assert err.startswith(f"focusq: waiting for #{job} to start (queued)\n")
    assert err.endswith(f"focusq: #{job} later: failed (exit 3)\n")
    assert "try 1" in out and "try 2" in out  # every attempt followed
    ok = fq.add("fine", "--", "sh", "-c", "seq 1 100")
    assert fq.wait(ok).returncode == 0
    followed = fq("log", "-f", str(ok))
    assert followed.returncode == 0 and followed.stderr == f"focusq: #{ok} fine: ok\n"
    assert fq("log", str(ok), "--lines", "2").stdout == "99\n100\n"
    every = fq("log", str(job), "--all-attempts").stdout
    assert every.count("# focusq: ") == 2


def test_wait_takes_all_or_a_group_and_refuses_creative_tasks(fq: Focusq) -> None:
    gate = fq.workdir / "gate"
    held_back = f"while [ ! -e {gate} ]; do sleep 0.01; done"
    a = fq.add("a", "group:g", "--shell", "--", f"{held_back}; true")
    b = fq.add("b", "group:g", "--shell", "--", f"{held_back}; false")
    c = fq.add("c", "--shell", "--", held_back)
    fq.start_worker()
    waiting = subprocess.Popen(
        [sys.executable, "-m", "focusq", "wait", "--group", "g", "--timeout", "20"],
        cwd=fq.workdir,
        env=fq.env,
        stderr=subprocess.PIPE,
        text=True,
    )
    poll(lambda: fq.status(b) == "running", what="the group to run")
    poll(lambda: _watching(waiting.pid), what="wait to pick its jobs and watch")
    gate.touch()
    _, err = waiting.communicate(timeout=40)
    assert waiting.returncode == 1
    assert err == f"#{b} b: failed (exit 1)\n"
    assert fq("wait", "--all", "--timeout", "20").returncode == 0
    assert fq.status(a) == fq.status(c) == "done"
    writing = int(fq("add", "write").stdout)
    refused = fq("wait", str(writing))
    assert refused.returncode == 2 and "is creative" in refused.stderr


def _watching(pid: int) -> bool:
    """Whether ``pid`` holds an inotify descriptor (it chose what to wait for, and waits)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        with contextlib.suppress(OSError):
            if "inotify" in os.readlink(f"/proc/{pid}/fd/{fd}"):
                return True
    return False


def test_add_held_and_add_follow(fq: Focusq) -> None:
    held = fq.add("later", "--held", "--", "true")
    assert fq.status(held) == "held"
    gated = fq.add("deploy", "gate:approve", "--held", "--", "true")
    assert fq("release", str(gated)).returncode == 0
    assert fq.status(gated) == "waiting"  # held was no way around its gate
    fq.start_worker()
    followed = fq("add", "--follow", "count", "--shell", "--", "echo one; echo two; exit 4")
    assert followed.returncode == 1
    lines = followed.stdout.splitlines()
    assert lines[0].isdigit() and lines[-2:] == ["one", "two"]
    assert followed.stderr.endswith(": failed (exit 4)\n")
    assert fq.status(held) == "held"


def test_retry_runs_a_changed_command(fq: Focusq, tmp_path: Path) -> None:
    fq.start_worker()
    job = fq.add("build", "--", "sh", "-c", "exit 1")
    assert fq.wait(job).returncode == 1
    again = fq("retry", str(job), "--cwd", str(tmp_path), "--", "sh", "-c", "pwd")
    assert again.returncode == 0, again.stderr
    assert fq.wait(job).returncode == 0
    assert str(tmp_path) in fq("log", str(job)).stdout
    editor = tmp_path / "editor"
    editor.write_text("#!/bin/sh\nprintf 'echo edited\\n' > \"$1\"\n")
    editor.chmod(0o755)
    assert fq("retry", str(job), "--edit", EDITOR=str(editor)).returncode == 0
    assert fq.wait(job).returncode == 0
    assert "edited" in fq("log", str(job)).stdout
    assert fq.show(job)["command"] == ["echo", "edited"]
    refused = fq("retry", str(job), str(job + 1), "--", "true")
    assert refused.returncode == 2 and "one job id" in refused.stderr


def test_ls_and_show_say_why_a_job_waits(fq: Focusq) -> None:
    gate = fq.workdir / "gate"
    fq.start_worker(FOCUSQ_ENGINE__MAX_PARALLEL="2")
    holder = fq.add(
        "deploy", "lock:prod", "--shell", "--", f"while [ ! -e {gate} ]; do sleep 0.01; done"
    )
    poll(lambda: fq.status(holder) == "running", what="the lock holder to run")
    blocked = fq.add("deploy again", "lock:prod", "--", "true")
    after = fq.add("report", f"after:{blocked}", "--", "true")
    held = fq.add("later", "--held", "--", "true")
    gated = fq.add("ship", "gate:approve", "--", "true")
    shown = {r["id"]: r["waiting_for"] for r in json.loads(fq("ls", "--json").stdout)}
    assert shown[blocked] == f"lock prod held by #{holder}"
    assert shown[after] == f"after #{blocked}"
    assert (shown[held], shown[gated], shown[holder]) == ("held", "gate: approve", None)
    assert fq.show(after)["waiting_for"] == f"after #{blocked}"
    assert f"waiting   lock prod held by #{holder}" in fq("show", str(blocked)).stdout
    table = fq("ls", COLUMNS="200").stdout
    assert f"queued     (lock prod held by #{holder}) deploy again" in table
    assert f"queued     (after #{blocked}) report" in table
    assert "waiting    (gate: approve) ship" in table
    gate.touch()
    assert fq.wait(blocked, after).returncode == 0


# -- when a job ends --------------------------------------------------------------------------


def test_the_end_hook_runs_once_per_run_and_never_holds_the_worker(fq: Focusq) -> None:
    seen = fq.workdir / "seen"
    hung = fq.workdir / "hung.pid"
    config = fq.home / "config.toml"
    fq.home.mkdir(parents=True, exist_ok=True)
    fields = "$FOCUSQ_TASK_ID|$FOCUSQ_RESULT|$FOCUSQ_EXIT_CODE|$FOCUSQ_TITLE|$FOCUSQ_LOG"
    record = f'echo "{fields}" >> {seen}'
    config.write_text(
        "[hooks]\n"
        f"on_end = '{record}'\n"
        "timeout = 0.5\n"
        "[groups.slow]\n"
        f"on_end = 'echo $$ > {hung}; exec sleep 60'\n"
    )
    fq.start_worker()
    failing = fq.add("a [b]title[/b]", "retry:1", "--", "sh", "-c", "exit 3")
    assert fq.wait(failing).returncode == 1
    poll(lambda: seen.exists() and seen.read_text().count("\n") == 2, what="two hook runs")
    lines = [line.split("|") for line in seen.read_text().splitlines()]
    assert [line[:4] for line in lines] == [[str(failing), "failed", "3", "a [b]title[/b]"]] * 2
    assert lines[0][4].endswith(f"{failing}-1.log") and lines[1][4].endswith(f"{failing}-2.log")
    slow = fq.add("slow", "group:slow", "--", "true")
    assert fq.wait(slow).returncode == 0
    poll(lambda: hung.exists() and hung.read_text().strip(), what="the slow hook to start")
    pid = int(hung.read_text())
    poll(lambda: not alive(pid), what="the hook to be killed at its timeout")
    after = fq.add("after", "--", "true")
    assert fq.wait(after).returncode == 0  # the worker went on meanwhile


# -- groups from the shell, a config changed while the worker runs ----------------------------


def test_group_pause_and_resume_and_a_cap_set_at_once(fq: Focusq) -> None:
    gate = fq.workdir / "gate"
    held_back = f"while [ ! -e {gate} ]; do sleep 0.01; done"
    first = fq.add("one", "group:pull", "--shell", "--", held_back)
    fq.start_worker()
    poll(lambda: fq.status(first) == "running", what="the first to run")
    paused = fq("group", "pause", "pull")
    assert paused.returncode == 0 and "1 job(s) pausing" in paused.stdout
    poll(lambda: fq.status(first) == "paused", what="its running job to pause")
    second = fq.add("two", "group:pull", "--", "true")
    assert "group pull paused" in fq.show(second)["waiting_for"]
    listed = json.loads(fq("group", "--json").stdout)
    assert listed == [
        {
            "name": "pull",
            "parallel": None,
            "policy": "fail-safe",
            "paused": True,
            "running": 1,
            "queued": 1,
            "waiting": 0,
        }
    ]
    assert fq("group", "set", "pull", "--parallel", "1").returncode == 0
    assert fq("group", "resume", "pull").returncode == 0
    poll(lambda: fq.status(first) == "running", what="its job to resume")
    assert fq.show(second)["waiting_for"] == "group pull full (1/1)"  # the cap set at once
    gate.touch()
    assert fq.wait(first, second).returncode == 0


def test_a_changed_config_applies_without_a_restart(fq: Focusq) -> None:
    gate = fq.workdir / "gate"
    held_back = f"while [ ! -e {gate} ]; do sleep 0.01; done"
    config = fq.home / "config.toml"
    fq.home.mkdir(parents=True, exist_ok=True)
    config.write_text("[engine]\nmax_parallel = 1\n")
    first = fq.add("one", "--shell", "--", held_back)
    second = fq.add("two", "--shell", "--", held_back)
    fq.start_worker()
    poll(lambda: fq.status(first) == "running", what="the first to run")
    assert fq.status(second) == "queued"
    config.write_text("[engine]\nmax_parallel = [")  # broken: logged, the old one kept
    config.write_text("[engine]\nmax_parallel = 2\n")
    poll(lambda: fq.status(second) == "running", what="the new cap to start the second")
    gate.touch()
    assert fq.wait(first, second).returncode == 0


# -- tidy history without losing it ----------------------------------------------------------


def test_clean_archives_finished_work_and_the_review_is_unchanged(fq: Focusq) -> None:
    fq.start_worker()
    ok = fq.add("build", "--", "true")
    bad = fq.add("test", "--", "false")
    writing = int(fq("add", "write").stdout)
    assert fq("done", str(writing)).returncode == 0
    fq.wait(ok, bad)
    still = int(fq("add", "open one").stdout)
    # One day for both reviews: without --date the day turns at 04:00, maybe between them.
    day = datetime.fromisoformat(fq.show(writing)["ended_at"]).date().isoformat()
    before = json.loads(fq("review", "--json", "--date", day).stdout)
    assert writing in [t["id"] for t in before["done"]]
    logs = [Path(r["log_path"]) for t in (ok, bad) for r in runs(fq.home, t)]
    assert all(p.exists() for p in logs)
    cleaned = fq("clean", FOCUSQ_LOGS__KEEP_DAYS="0")
    assert cleaned.returncode == 0 and "archived 3 finished task(s)" in cleaned.stdout
    assert [r["id"] for r in json.loads(fq("ls", "--all", "--json").stdout)] == [still]
    archived = {r["id"] for r in json.loads(fq("ls", "--archived", "--json").stdout)}
    assert archived == {ok, bad, writing}
    assert json.loads(fq("review", "--json", "--date", day).stdout) == before  # all kept
    assert not any(p.exists() for p in logs)  # logs.keep_days = 0
    assert fq("clean", "--older-than", "soon").returncode == 2
    # A retried archived job is open again: back in every list, out of the archive.
    assert fq("retry", str(bad), "--", "true").returncode == 0
    assert fq.wait(bad).returncode == 0
    listed = {r["id"] for r in json.loads(fq("ls", "--all", "--json").stdout)}
    assert listed == {still, bad}
    archived = {r["id"] for r in json.loads(fq("ls", "--archived", "--json").stdout)}
    assert archived == {ok, writing}
