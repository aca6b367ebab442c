"""A seeded chaos run: a random DAG of short jobs while the worker and its supervisor are
SIGKILLed at random moments and restarted. The engine's invariants must hold throughout.

Each job writes its own start and end (with the exit code it is about to return) to a
marks file, tagged with its run (``FOCUSQ_RUN``): so every check below compares what the
database says with what the processes really did.
"""

from __future__ import annotations

import json
import os
import random
import signal
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine_helpers import (
    Focusq,
    db_rows,
    focusq_session,
    poll,
    processes_of,
    supervisor_of,
)

pytestmark = pytest.mark.slow

JOBS = 90
KILLS = 12
CAP = 3
GROUP_CAP = 2
LOCKS = ("deploy", "site")
FINAL = ("done", "failed", "skipped", "cancelled", "dropped")


@pytest.fixture
def fq(tmp_path: Path, focusq_home: Path) -> Iterator[Focusq]:
    work = tmp_path / "work"
    work.mkdir()
    focusq_home.mkdir(parents=True, exist_ok=True)
    (focusq_home / "config.toml").write_text(f"[groups.g1]\nmax_parallel = {GROUP_CAP}\n")
    with focusq_session(focusq_home, work, FOCUSQ_ENGINE__MAX_PARALLEL=str(CAP)) as session:
        yield session


def _batch(rng: random.Random, marks: Path) -> tuple[str, dict[str, int]]:
    """A batch file of JOBS jobs with random edges, locks, groups and retries."""
    codes: dict[str, int] = {}
    lines = []
    for n in range(JOBS):
        name = f"j{n}"
        code = rng.choice((0, 0, 0, 0, 1, 3))
        codes[name] = code
        seconds = rng.choice((0.02, 0.05, 0.1, 0.2))
        script = (
            f'echo "S $FOCUSQ_RUN $(date +%s.%N)" >> {marks}; sleep {seconds}; '
            f'echo "E $FOCUSQ_RUN $(date +%s.%N) {code}" >> {marks}; exit {code}'
        )
        lines += ["[[task]]", f'name = "{name}"', f'title = "{name}"', f"command = '{script}'"]
        lines.append("shell = true")
        earlier = [f"j{m}" for m in rng.sample(range(n), k=min(n, rng.choice((0, 0, 1, 2))))]
        after = [e for e in earlier if rng.random() < 0.6]
        afterany = [e for e in earlier if e not in after]
        if after:
            lines.append(f"after = {after!r}".replace("'", '"'))
        if afterany:
            lines.append(f"afterany = {afterany!r}".replace("'", '"'))
        if rng.random() < 0.25:
            lines.append(f'locks = ["{rng.choice(LOCKS)}"]')
        if rng.random() < 0.3:
            lines.append('group = "g1"')
        if rng.random() < 0.3:
            lines.append("retry = 1")
        lines.append("")
    return "\n".join(lines), codes


@pytest.mark.parametrize("seed", [7, 19, 31])
def test_random_dag_under_random_kills(fq: Focusq, seed: int) -> None:
    rng = random.Random(seed)
    marks = fq.workdir / "marks"
    text, _ = _batch(rng, marks)
    (fq.workdir / "dag.toml").write_text(text)
    added = fq("batch", "dag.toml")
    assert added.returncode == 0, added.stderr
    ids = [int(line) for line in added.stdout.split()]

    def runs_so_far() -> int:
        return int(db_rows(fq.home, "SELECT count(*) FROM runs")[0][0])

    def all_final() -> bool:
        states = db_rows(fq.home, "SELECT status FROM tasks")
        return all(s in FINAL for (s,) in states)

    worker = fq.start_worker()
    for _ in range(KILLS):
        target = runs_so_far() + rng.randint(1, 6)
        poll(lambda t=target: runs_so_far() >= t or all_final(), what="more runs to start")
        if all_final():
            break
        victim = rng.choice(("worker", "supervisor", "both"))
        supervisor = supervisor_of(worker.pid)
        if victim in ("supervisor", "both") and supervisor is not None:
            os.kill(supervisor, signal.SIGKILL)
        if victim in ("worker", "both"):
            worker.kill()
            worker.wait()
            worker = fq.start_worker()
    assert fq.wait(*ids, timeout=60).returncode in (0, 1)

    # Every task reached a final state.
    states = dict(db_rows(fq.home, "SELECT id, status FROM tasks"))
    assert all(states[i] in FINAL for i in ids), states

    # What the processes did, by run tag.
    database_id = db_rows(fq.home, "SELECT value FROM meta WHERE key = 'database_id'")[0][0]
    starts: dict[int, list[float]] = defaultdict(list)
    ends: dict[int, tuple[float, int]] = {}
    for line in marks.read_text().splitlines():
        kind, tag, at, *code = line.split()
        db, run_id = tag.split(":")
        assert db == database_id
        if kind == "S":
            starts[int(run_id)].append(float(at))
        else:
            ends[int(run_id)] = (float(at), int(code[0]))
    assert all(len(s) == 1 for s in starts.values()), "a run started twice"
    spans = {r: (starts[r][0], ends[r][0]) for r in starts}
    assert set(spans) == set(ends), "every started job ran to its end"

    rows = db_rows(
        fq.home,
        "SELECT r.id, r.task_id, r.result, r.exit_code, t.locks, t.grp "
        "FROM runs r JOIN tasks t ON t.id = r.task_id",
    )
    run_ids = {r[0] for r in rows}
    assert set(spans) <= run_ids, "a process ran that the database never knew of"
    for run_id, _task_id, result, exit_code, _locks, _group in rows:
        if run_id in ends and result in ("ok", "failed"):
            # The result is the job's real exit code wherever it was seen to end.
            assert exit_code == ends[run_id][1], (run_id, result, exit_code, ends[run_id])
            assert (result == "ok") == (exit_code == 0)

    def overlapping(intervals: list[tuple[float, float]], limit: int) -> bool:
        edges = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
        level = 0
        for _, step in sorted(edges, key=lambda x: (x[0], x[1])):
            level += step
            if level > limit:
                return True
        return False

    by_task: dict[int, list[tuple[float, float]]] = defaultdict(list)
    by_lock: dict[str, list[tuple[float, float]]] = defaultdict(list)
    in_group: list[tuple[float, float]] = []
    for run_id, task_id, _result, _code, locks, group in rows:
        if run_id not in spans:
            continue
        by_task[task_id].append(spans[run_id])
        for key in json.loads(locks):
            by_lock[key].append(spans[run_id])
        if group == "g1":
            in_group.append(spans[run_id])
    assert not any(overlapping(v, 1) for v in by_task.values()), "a task ran twice at once"
    assert not any(overlapping(v, 1) for v in by_lock.values()), "a lock was held twice"
    assert not overlapping(in_group, GROUP_CAP), "the group's cap was exceeded"
    assert not overlapping(list(spans.values()), CAP), "the cap was exceeded"

    # Every `after` edge: a job started only after its dependency's successful run ended.
    for task_id, dep in db_rows(fq.home, "SELECT task_id, dep_id FROM deps WHERE kind = 'after'"):
        if by_task.get(task_id):
            ok_ends = [
                spans[r][1] for r, t, res, *_ in rows if t == dep and res == "ok" and r in spans
            ]
            assert ok_ends and min(s for s, _ in by_task[task_id]) >= max(ok_ends)

    # Nothing of this home is left running once the last worker stops.
    worker.terminate()
    worker.wait(timeout=20)
    poll(lambda: not processes_of(fq.home), what="every process of the home to end")
