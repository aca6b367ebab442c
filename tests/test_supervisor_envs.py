"""A job's environment reaches the supervisor once per shell: later starts name it by id and
send only their own variables. Every job still runs with exactly its own environment,
across the supervisor forgetting them and across a new supervisor."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from focusq.engine import runner
from focusq.engine.procs import RUN_TAG


def shell_env(mark: str) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "MARK": mark, "SHARED": "same for all"}


async def run_jobs(
    tmp_path: Path, marks: list[str], *, kill_after: int | None = None
) -> tuple[list[str], list[bytes]]:
    """Start one job per mark through a real supervisor (killed after ``kill_after``
    starts, if given); return each job's log body and every request line sent."""
    loop = asyncio.get_running_loop()
    supervisor = runner.Supervisor(loop, str(tmp_path / "supervisor.lock"))
    sent: list[bytes] = []
    send = supervisor._send

    def recording(data: bytes) -> None:
        sent.extend(data.splitlines())
        send(data)

    supervisor._send = recording  # type: ignore[method-assign]
    supervisor.open()
    processes = []
    for n, mark in enumerate(marks, start=1):
        if kill_after is not None and n == kill_after + 1:
            assert supervisor.pid is not None
            os.kill(supervisor.pid, signal.SIGKILL)
            deadline = loop.time() + 30
            while supervisor.pid is not None:  # its reports end: it is seen gone and reaped
                assert loop.time() < deadline, "the supervisor's death went unseen"
                await asyncio.sleep(0.005)
        env = {**shell_env(mark), "FOCUSQ_TASK_ID": str(n), "FOCUSQ_ATTEMPT": "1"}
        env[RUN_TAG] = f"test:{n}"
        processes.append(
            supervisor.start(
                n,
                ["sh", "-c", 'echo "$MARK $FOCUSQ_TASK_ID $SHARED"'],
                cwd=str(tmp_path),
                env=env,
                log_path=str(tmp_path / f"{n}.log"),
                display="echo",
            )
        )
        for process in processes:  # one at a time: a kill never catches one mid-start
            await asyncio.wait_for(process.ended.wait(), timeout=30)
    supervisor.close(wait=True)
    bodies = [
        (tmp_path / f"{n}.log").read_text().splitlines()[runner.HEADER_LINES]
        for n in range(1, len(marks) + 1)
    ]
    return bodies, sent


def expected(marks: list[str]) -> list[str]:
    return [f"{mark} {n} same for all" for n, mark in enumerate(marks, start=1)]


def test_one_shell_environment_is_sent_once(tmp_path: Path) -> None:
    marks = ["a", "a", "a", "b", "a"]
    bodies, sent = asyncio.run(run_jobs(tmp_path, marks))
    assert bodies == expected(marks)
    assert sum(line.startswith(b'["env"') for line in sent) == 2  # a, then b
    starts = [line for line in sent if line.startswith(b'["start"')]
    assert len(starts) == 5 and not any(b"PATH" in line for line in starts)


def test_a_new_supervisor_is_sent_them_again(tmp_path: Path) -> None:
    marks = ["a", "a", "a", "a"]
    bodies, sent = asyncio.run(run_jobs(tmp_path, marks, kill_after=2))
    assert bodies == expected(marks)
    assert sum(line.startswith(b'["env"') for line in sent) == 2  # once per process


def test_many_shells_are_forgotten_and_sent_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "KEPT_ENVIRONMENTS", 2)
    marks = ["a", "b", "c", "a", "b", "c", "a"]
    bodies, sent = asyncio.run(run_jobs(tmp_path, marks))
    assert bodies == expected(marks)
    assert b'["forget-envs"]' in sent
