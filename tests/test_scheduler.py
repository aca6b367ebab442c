"""The scheduler: unit tests per rule, then properties over a discrete-event simulation.

``focusq.engine.scheduler`` is pure (no I/O, no clock), so everything here is in-memory
and deterministic; the simulation drives ``plan()`` the way the worker does.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from focusq.engine.scheduler import (
    ENDED,
    Job,
    Limits,
    Plan,
    critical_paths,
    estimate,
    plan,
)

NOW = 1000.0


def run_plan(
    queued: Sequence[Job],
    running: Sequence[Job] = (),
    status: Mapping[int, str] | None = None,
    limits: Limits | None = None,
    now: float = NOW,
    last_start: Mapping[str, float] | None = None,
) -> Plan:
    return plan(queued, running, status or {}, limits or Limits(), now, last_start)


# --- dependencies -----------------------------------------------------------------------


def test_after_satisfied_by_done() -> None:
    result = run_plan([Job(2, after=(1,))], status={1: "done"})
    assert result == Plan(start=(2,), skip=(), wake_at=None)


@pytest.mark.parametrize("state", [None, "queued", "running"])
def test_after_waits_while_predecessor_unfinished(state: str | None) -> None:
    status = {} if state is None else {1: state}
    result = run_plan([Job(2, after=(1,))], status=status)
    assert result == Plan(start=(), skip=(), wake_at=None)


@pytest.mark.parametrize("state", sorted(ENDED - {"done"}))
def test_after_predecessor_ended_badly_skips_with_reason(state: str) -> None:
    result = run_plan([Job(4, after=(3,)), Job(5)], status={3: state})
    assert result.start == (5,)
    assert len(result.skip) == 1
    job_id, reason = result.skip[0]
    assert job_id == 4
    assert "after #3" in reason
    assert reason == f"after #3, which ended {state}"
    assert result.wake_at is None


def test_after_needs_every_predecessor_done() -> None:
    job = Job(3, after=(1, 2))
    assert run_plan([job], status={1: "done", 2: "running"}).start == ()
    assert run_plan([job], status={1: "done", 2: "done"}).start == (3,)
    failed = run_plan([job], status={1: "done", 2: "failed"})
    assert failed.start == ()
    assert failed.skip == ((3, "after #2, which ended failed"),)


@pytest.mark.parametrize("state", sorted(ENDED))
def test_afterany_satisfied_by_any_end(state: str) -> None:
    result = run_plan([Job(2, afterany=(1,))], status={1: state})
    assert result == Plan(start=(2,), skip=(), wake_at=None)


@pytest.mark.parametrize("state", [None, "queued", "running"])
def test_afterany_waits_while_predecessor_unfinished(state: str | None) -> None:
    status = {} if state is None else {1: state}
    result = run_plan([Job(2, afterany=(1,))], status=status)
    assert result == Plan(start=(), skip=(), wake_at=None)


def test_after_and_afterany_combined() -> None:
    job = Job(3, after=(1,), afterany=(2,))
    assert run_plan([job], status={1: "done", 2: "running"}).start == ()
    assert run_plan([job], status={1: "done", 2: "failed"}).start == (3,)
    # A failed `after` predecessor skips even while the `afterany` one still runs.
    assert run_plan([job], status={1: "failed", 2: "running"}).skip == (
        (3, "after #1, which ended failed"),
    )


# --- not_before (at:) -------------------------------------------------------------------


def test_not_before_in_future_waits_and_sets_wake_at() -> None:
    result = run_plan([Job(1, not_before=NOW + 30), Job(2, not_before=NOW + 10)])
    assert result == Plan(start=(), skip=(), wake_at=NOW + 10)


def test_not_before_reached_or_past_starts() -> None:
    result = run_plan([Job(1, not_before=NOW), Job(2, not_before=NOW - 5)])
    assert sorted(result.start) == [1, 2]
    assert result.wake_at is None


def test_not_before_only_counts_once_dependencies_are_met() -> None:
    result = run_plan([Job(2, after=(1,), not_before=NOW + 10)], status={1: "running"})
    assert result == Plan(start=(), skip=(), wake_at=None)
    result = run_plan([Job(2, after=(1,), not_before=NOW + 10)], status={1: "done"})
    assert result == Plan(start=(), skip=(), wake_at=NOW + 10)


# --- locks ------------------------------------------------------------------------------


def test_lock_one_holder_by_default() -> None:
    result = run_plan([Job(1, locks=("db",)), Job(2, locks=("db",)), Job(3, locks=("web",))])
    assert sorted(result.start) == [1, 3]


def test_lock_cap_by_fnmatch_pattern_allows_two() -> None:
    limits = Limits(max_parallel=5, lock_caps={"deploy:*": 2})
    queued = [Job(i, locks=("deploy:prod",)) for i in (1, 2, 3)]
    assert sorted(run_plan(queued, limits=limits).start) == [1, 2]
    # A key that matches no pattern still allows one.
    other = [Job(i, locks=("build",)) for i in (1, 2)]
    assert run_plan(other, limits=limits).start == (1,)


def test_lock_cap_first_matching_pattern_wins() -> None:
    limits = Limits(lock_caps={"deploy:prod": 1, "deploy:*": 3})
    assert limits.lock_cap("deploy:prod") == 1
    assert limits.lock_cap("deploy:staging") == 3
    assert limits.lock_cap("deployx") == 1
    assert Limits().lock_cap("anything") == 1


def test_running_jobs_hold_their_locks() -> None:
    running = [Job(9, locks=("db",))]
    assert run_plan([Job(1, locks=("db",))], running=running).start == ()
    limits = Limits(lock_caps={"deploy:*": 2})
    running = [Job(8, locks=("deploy:a",)), Job(9, locks=("deploy:a",))]
    assert run_plan([Job(1, locks=("deploy:a",))], running=running, limits=limits).start == ()
    running = [Job(9, locks=("deploy:a",))]
    assert run_plan([Job(1, locks=("deploy:a",))], running=running, limits=limits).start == (1,)


def test_job_needs_every_lock_free() -> None:
    running = [Job(9, locks=("b",))]
    result = run_plan([Job(1, locks=("a", "b")), Job(2, locks=("a",))], running=running)
    assert result.start == (2,)


# --- global cap -------------------------------------------------------------------------


def test_global_cap_counts_running_jobs() -> None:
    queued = [Job(i) for i in (1, 2, 3, 4)]
    limits = Limits(max_parallel=3)
    assert len(run_plan(queued, limits=limits).start) == 3
    assert len(run_plan(queued, running=[Job(9)], limits=limits).start) == 2
    full = [Job(7), Job(8), Job(9)]
    assert run_plan(queued, running=full, limits=limits).start == ()
    over = [Job(6), Job(7), Job(8), Job(9)]
    assert run_plan(queued, running=over, limits=limits).start == ()


# --- groups -----------------------------------------------------------------------------


def test_group_cap() -> None:
    limits = Limits(max_parallel=5, group_caps={"g": 2})
    queued = [Job(1, group="g"), Job(2, group="g"), Job(3, group="g"), Job(4, group="h")]
    assert sorted(run_plan(queued, limits=limits).start) == [1, 2, 4]
    running = [Job(9, group="g")]
    assert sorted(run_plan(queued, running=running, limits=limits).start) == [1, 4]


def test_group_stagger_blocks_until_last_start_plus_stagger() -> None:
    limits = Limits(group_stagger={"g": 30.0})
    result = run_plan([Job(1, group="g")], limits=limits, last_start={"g": NOW - 10})
    assert result == Plan(start=(), skip=(), wake_at=NOW + 20)
    result = run_plan([Job(1, group="g")], limits=limits, last_start={"g": NOW - 30})
    assert result == Plan(start=(1,), skip=(), wake_at=None)
    # Another group is not held back.
    result = run_plan([Job(2, group="h")], limits=limits, last_start={"g": NOW - 10})
    assert result.start == (2,)


def test_group_stagger_within_one_plan() -> None:
    limits = Limits(group_stagger={"g": 5.0})
    result = run_plan([Job(1, group="g"), Job(2, group="g")], limits=limits)
    assert result == Plan(start=(1,), skip=(), wake_at=NOW + 5)


def test_wake_at_is_the_earliest_of_at_and_stagger() -> None:
    limits = Limits(group_stagger={"g": 30.0})
    queued = [Job(1, group="g"), Job(2, not_before=NOW + 12)]
    result = run_plan(queued, limits=limits, last_start={"g": NOW - 10})
    assert result == Plan(start=(), skip=(), wake_at=NOW + 12)
    queued = [Job(1, group="g"), Job(2, not_before=NOW + 25)]
    result = run_plan(queued, limits=limits, last_start={"g": NOW - 10})
    assert result == Plan(start=(), skip=(), wake_at=NOW + 20)


# --- ordering ---------------------------------------------------------------------------


def test_priority_first() -> None:
    queued = [Job(1, priority=0), Job(2, priority=1), Job(3, priority=2)]
    assert run_plan(queued, limits=Limits(max_parallel=1)).start == (3,)
    assert run_plan(queued, limits=Limits(max_parallel=2)).start == (3, 2)


def test_priority_beats_critical_path() -> None:
    queued = [Job(1, estimate=1000), Job(2, after=(1,), estimate=1000), Job(3, priority=2)]
    assert run_plan(queued, limits=Limits(max_parallel=1)).start == (3,)


def test_longer_own_estimate_first_without_chains() -> None:
    queued = [Job(1, estimate=10), Job(2, estimate=50), Job(3, estimate=30)]
    assert run_plan(queued, limits=Limits(max_parallel=2)).start == (2, 3)


def test_critical_path_beats_larger_own_estimate() -> None:
    queued = [
        Job(1, estimate=10),  # short, but a 100-second chain waits on it: path 110
        Job(2, after=(1,), estimate=100),
        Job(3, estimate=50),  # standalone, bigger than job 1 alone
    ]
    assert critical_paths(queued)[1] == 110
    assert run_plan(queued, limits=Limits(max_parallel=1)).start == (1,)
    assert run_plan(queued, limits=Limits(max_parallel=2)).start == (1, 3)


def test_critical_path_through_afterany() -> None:
    queued = [Job(1, estimate=10), Job(2, afterany=(1,), estimate=100), Job(3, estimate=50)]
    assert run_plan(queued, limits=Limits(max_parallel=1)).start == (1,)


def test_older_first_on_ties() -> None:
    queued = [Job(1, created_at=30.0), Job(2, created_at=10.0), Job(3, created_at=20.0)]
    assert run_plan(queued, limits=Limits(max_parallel=1)).start == (2,)
    assert run_plan(queued, limits=Limits(max_parallel=2)).start == (2, 3)


def test_lower_id_on_full_ties() -> None:
    queued = [Job(7), Job(3), Job(5)]
    assert run_plan(queued, limits=Limits(max_parallel=2)).start == (3, 5)


def test_ordering_with_chains_uses_age_then_id() -> None:
    queued = [
        Job(5, created_at=2.0, estimate=20),
        Job(4, created_at=1.0, estimate=20),
        Job(3, estimate=20),
        Job(9, after=(100,)),  # only there to switch on chain mode
    ]
    assert run_plan(queued, limits=Limits(max_parallel=2)).start == (3, 4)


def test_lock_conflict_priority_with_free_slots_when_oversubscribed() -> None:
    # More ready jobs than slots: sorted, so the high-priority job wins the lock.
    queued = [Job(1, priority=0, locks=("a",)), Job(2, priority=2, locks=("a",)), Job(3), Job(4)]
    assert run_plan(queued, limits=Limits(max_parallel=2)).start == (2, 3)


# Regression: plan() once sorted the ready jobs only when there were more of them than free
# slots, so when a lock or a group cap let only one of them start, queue order decided.
@pytest.mark.parametrize(
    ("queued", "limits", "expected"),
    [
        (
            [Job(1, priority=0, locks=("a",)), Job(2, priority=2, locks=("a",))],
            Limits(max_parallel=3),
            (2,),
        ),
        (
            [Job(1, priority=0, group="g"), Job(2, priority=2, group="g")],
            Limits(max_parallel=3, group_caps={"g": 1}),
            (2,),
        ),
        (
            [Job(1, created_at=9.0, locks=("a",)), Job(2, created_at=1.0, locks=("a",))],
            Limits(max_parallel=3),
            (2,),
        ),
        (
            [
                Job(1, estimate=50, locks=("a",)),
                Job(2, estimate=10, locks=("a",)),
                Job(3, after=(2,), estimate=100),
            ],
            Limits(max_parallel=3),
            (2,),
        ),
    ],
    ids=["lock-priority", "group-cap-priority", "lock-age", "lock-critical-path"],
)
def test_order_decides_conflicts_even_with_spare_slots(
    queued: list[Job], limits: Limits, expected: tuple[int, ...]
) -> None:
    assert run_plan(queued, limits=limits).start == expected


# --- estimate() and critical_paths() ----------------------------------------------------


@pytest.mark.parametrize(
    ("history", "declared", "default", "expected"),
    [
        ([30.0, 10.0, 20.0], None, 60.0, 20.0),
        ([1.0, 2.0, 3.0, 4.0], None, 60.0, 2.5),
        ([1.0, 2.0, 100.0], None, 60.0, 2.0),  # the median, not the mean
        ([7.0], 99.0, 60.0, 7.0),  # history wins over the declared estimate
        ([], 45.0, 60.0, 45.0),
        ([], 0.0, 60.0, 0.0),  # a declared zero is still declared
        ([], None, 60.0, 60.0),
    ],
)
def test_estimate(
    history: list[float], declared: float | None, default: float, expected: float
) -> None:
    result = estimate(history, declared, default)
    assert result == expected
    assert isinstance(result, float)


def test_estimate_accepts_an_iterator() -> None:
    assert estimate(iter([5.0, 1.0, 3.0]), None, 60.0) == 3.0


def test_critical_paths_small_dag() -> None:
    jobs = [
        Job(1, estimate=10),
        Job(2, after=(1,), estimate=20),
        Job(3, afterany=(1,), estimate=5),
        Job(4, after=(2, 3), estimate=7),
        Job(5, estimate=3),
        Job(6, after=(99,), estimate=4),  # a predecessor outside the queue adds nothing
    ]
    assert critical_paths(jobs) == {1: 37, 2: 27, 3: 12, 4: 7, 5: 3, 6: 4}


def test_critical_paths_without_edges_is_own_estimate() -> None:
    jobs = [Job(1, estimate=10), Job(2, estimate=20)]
    assert critical_paths(jobs) == {1: 10, 2: 20}
    assert critical_paths([]) == {}


def test_critical_paths_diamond_takes_longest_branch() -> None:
    jobs = [
        Job(1, estimate=1),
        Job(2, after=(1,), estimate=50),
        Job(3, after=(1,), estimate=5),
        Job(4, after=(2, 3), estimate=2),
    ]
    assert critical_paths(jobs) == {1: 53, 2: 52, 3: 7, 4: 2}


# --- determinism and purity -------------------------------------------------------------


def _busy_input() -> tuple[list[Job], list[Job], dict[int, str], Limits, dict[str, float]]:
    queued = [
        Job(1, priority=2, locks=("deploy:prod",), group="g"),
        Job(2, after=(10,), estimate=5),
        Job(3, afterany=(11,), locks=("a",)),
        Job(4, after=(11,)),
        Job(5, not_before=NOW + 50),
        Job(6, group="g", created_at=5.0),
        Job(7, locks=("deploy:prod",), estimate=300),
        Job(8, group="s"),
    ]
    running = [Job(20, locks=("deploy:prod",), group="g")]
    status = {10: "done", 11: "failed", 20: "running"}
    limits = Limits(
        max_parallel=4,
        lock_caps={"deploy:*": 2},
        group_caps={"g": 2},
        group_stagger={"s": 10.0},
    )
    last_start = {"g": NOW - 1, "s": NOW - 4}
    return queued, running, status, limits, last_start


def test_busy_input_exact_plan() -> None:
    # Order: 1 (priority 2), 7 (path 300), 3, 8, 6 (younger), 2 (path 5). 7 finds deploy:prod
    # full (20 and 1 hold it), 8 waits for its stagger (996 + 10), 6 finds g full (20 and 1).
    queued, running, status, limits, last_start = _busy_input()
    result = plan(queued, running, status, limits, NOW, last_start)
    assert result == Plan(
        start=(1, 3, 2), skip=((4, "after #11, which ended failed"),), wake_at=NOW + 6
    )


def test_plan_is_deterministic_and_pure() -> None:
    queued, running, status, limits, last_start = _busy_input()
    before = copy.deepcopy((queued, running, status, limits, last_start))
    first = plan(queued, running, status, limits, NOW, last_start)
    second = plan(queued, running, status, limits, NOW, last_start)
    assert first == second
    assert (queued, running, status, limits, last_start) == before
    assert last_start == {"g": NOW - 1, "s": NOW - 4}


def test_plan_does_not_record_starts_in_callers_last_start() -> None:
    last_start: dict[str, float] = {}
    limits = Limits(group_stagger={"g": 5.0})
    result = plan([Job(1, group="g")], [], {}, limits, NOW, last_start)
    assert result.start == (1,)
    assert last_start == {}


# --- simulation -------------------------------------------------------------------------

LOCK_POOL = ("a", "b", "deploy:prod")
GROUPS = (None, "g1", "g2")


@dataclass(frozen=True)
class Spec:
    """One generated job: what the scheduler sees, plus how the run will go."""

    job: Job
    duration: int
    fails: bool


@dataclass
class Outcome:
    starts: dict[int, float] = field(default_factory=dict)
    ends: dict[int, float] = field(default_factory=dict)
    skips: dict[int, tuple[float, str]] = field(default_factory=dict)
    status: dict[int, str] = field(default_factory=dict)
    """Final states; a job that never left the queue stays "queued"."""
    terminal_changes: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    stuck: bool = False


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Spec], Limits]:
    n = draw(st.integers(1, 25))
    specs: list[Spec] = []
    for i in range(1, n + 1):
        deps: list[int] = []
        if i > 1:
            deps = draw(st.lists(st.integers(1, i - 1), unique=True, max_size=3))
        kinds = [draw(st.booleans()) for _ in deps]
        after = tuple(d for d, hard in zip(deps, kinds, strict=True) if hard)
        afterany = tuple(d for d, hard in zip(deps, kinds, strict=True) if not hard)
        duration = draw(st.integers(1, 10))
        job = Job(
            i,
            priority=draw(st.integers(0, 2)),
            created_at=float(draw(st.integers(0, 5))),
            estimate=float(draw(st.one_of(st.just(duration), st.integers(1, 10)))),
            after=after,
            afterany=afterany,
            locks=tuple(draw(st.lists(st.sampled_from(LOCK_POOL), unique=True, max_size=2))),
            group=draw(st.sampled_from(GROUPS)),
            not_before=draw(st.one_of(st.none(), st.integers(0, 15).map(float))),
        )
        fails = draw(st.integers(0, 5)) == 0
        specs.append(Spec(job, duration, fails))
    limits = Limits(
        max_parallel=draw(st.integers(1, 4)),
        lock_caps=draw(st.sampled_from([{}, {"deploy:*": 2}, {"deploy:*": 2, "a": 3}])),
        group_caps=draw(
            st.dictionaries(st.sampled_from(["g1", "g2"]), st.integers(1, 2), max_size=2)
        ),
        group_stagger=draw(
            st.dictionaries(st.sampled_from(["g1", "g2"]), st.integers(0, 4).map(float), max_size=2)
        ),
    )
    return specs, limits


def _check_running(running: Sequence[Job], limits: Limits) -> None:
    assert len(running) <= limits.max_parallel
    holders: dict[str, int] = defaultdict(int)
    members: dict[str, int] = defaultdict(int)
    for job in running:
        for key in job.locks:
            holders[key] += 1
        if job.group:
            members[job.group] += 1
    for key, count in holders.items():
        assert count <= limits.lock_cap(key), (key, count)
    for group, count in members.items():
        cap = limits.group_caps.get(group)
        assert cap is None or count <= cap, (group, count)


def simulate(specs: Sequence[Spec], limits: Limits) -> Outcome:
    """Drive ``plan()`` event by event, checking the per-instant invariants as it goes."""
    by_id = {s.job.id: s for s in specs}
    out = Outcome(status={s.job.id: "queued" for s in specs})
    queued: dict[int, Job] = {s.job.id: s.job for s in specs}
    running: dict[int, float] = {}  # id -> end time
    last_start: dict[str, float] = {}
    now = 0.0

    def finish(job_id: int, state: str) -> None:
        out.status[job_id] = state
        out.terminal_changes[job_id] += 1

    for _ in range(10_000):
        # Plan at this instant until it only repeats itself (a skip can unlock more).
        wake_at: float | None = None
        for _ in range(len(specs) + 2):
            run_jobs = [by_id[i].job for i in running]
            result = plan(list(queued.values()), run_jobs, out.status, limits, now, last_start)
            assert result.wake_at is None or result.wake_at > now
            assert len(set(result.start)) == len(result.start)
            assert not set(result.start) & {i for i, _ in result.skip}
            for job_id, reason in result.skip:
                assert job_id in queued
                out.skips[job_id] = (now, reason)
                del queued[job_id]
                finish(job_id, "skipped")
            for job_id in result.start:
                job = queued.pop(job_id)
                out.starts[job_id] = now
                out.status[job_id] = "running"
                running[job_id] = now + by_id[job_id].duration
                if job.group:
                    last_start[job.group] = now
            _check_running([by_id[i].job for i in running], limits)
            wake_at = result.wake_at
            if not result.skip:
                # Maximality: with what just started, nothing more may start right now.
                if result.start:
                    run_jobs = [by_id[i].job for i in running]
                    again = plan(
                        list(queued.values()), run_jobs, out.status, limits, now, last_start
                    )
                    assert again.start == ()
                    assert again.skip == ()
                    wake_at = again.wake_at
                break
        else:
            raise AssertionError("plan() kept skipping at one instant")

        if not queued and not running:
            return out
        candidates: list[float] = list(running.values())
        if wake_at is not None:
            candidates.append(wake_at)
        if not candidates:
            out.stuck = True
            return out
        nxt = min(candidates)
        assert nxt > now
        now = nxt
        for job_id, end in sorted(running.items()):
            if end <= now:
                assert end == now
                del running[job_id]
                out.ends[job_id] = end
                finish(job_id, "failed" if by_id[job_id].fails else "done")
    raise AssertionError("simulation did not settle")


def expected_final(specs: Sequence[Spec]) -> dict[int, str]:
    """Done/failed as the run goes, and skipped for the transitive `after`-descendants."""
    final: dict[int, str] = {}
    for s in specs:  # ids ascend and edges point down, so predecessors come first
        if any(final[d] != "done" for d in s.job.after):
            final[s.job.id] = "skipped"
        else:
            final[s.job.id] = "failed" if s.fails else "done"
    return final


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenarios())
def test_simulation_properties(scenario: tuple[list[Spec], Limits]) -> None:
    specs, limits = scenario
    out = simulate(specs, limits)
    by_id = {s.job.id: s for s in specs}

    # Nothing lost or stuck: every job either started or was skipped, never both.
    assert not out.stuck
    assert set(out.starts) | set(out.skips) == set(by_id)
    assert not set(out.starts) & set(out.skips)
    # Exactly one terminal state each, and the expected one (transitive skips included).
    assert all(out.terminal_changes[i] == 1 for i in by_id)
    assert out.status == expected_final(specs)
    assert set(out.ends) == set(out.starts)

    def ended_at(job_id: int) -> float | None:
        if job_id in out.ends:
            return out.ends[job_id]
        return out.skips[job_id][0] if job_id in out.skips else None

    for job_id, start in out.starts.items():
        job = by_id[job_id].job
        assert out.ends[job_id] == start + by_id[job_id].duration
        for dep in job.after:
            assert dep in out.ends and out.ends[dep] <= start
            assert out.status[dep] == "done"
        for dep in job.afterany:
            end = ended_at(dep)
            assert end is not None and end <= start
        if job.not_before is not None:
            assert start >= job.not_before

    # A skip only ever follows an `after` predecessor that had already ended other than done.
    for job_id, (when, reason) in out.skips.items():
        job = by_id[job_id].job
        bad = [
            d
            for d in job.after
            if out.status[d] != "done" and (end := ended_at(d)) is not None and end <= when
        ]
        assert bad, (job_id, reason)
        assert any(reason == f"after #{d}, which ended {out.status[d]}" for d in bad), reason

    # Overlap checks over the whole timeline (per instant they ran inside the simulation).
    times = sorted(set(out.starts.values()))
    for t in times:
        live = [by_id[i].job for i, s in out.starts.items() if s <= t < out.ends[i]]
        _check_running(live, limits)

    # Stagger: consecutive starts within a group are at least the stagger apart.
    for group, stagger in limits.group_stagger.items():
        starts = sorted(s for i, s in out.starts.items() if by_id[i].job.group == group)
        for earlier, later in pairwise(starts):
            if stagger:
                assert later - earlier >= stagger


def test_simulation_handles_a_failure_chain() -> None:
    specs = [
        Spec(Job(1), duration=3, fails=True),
        Spec(Job(2, after=(1,)), duration=1, fails=False),
        Spec(Job(3, after=(2,)), duration=1, fails=False),
        Spec(Job(4, afterany=(2,)), duration=2, fails=False),
        Spec(Job(5, afterany=(1,), group="g"), duration=1, fails=False),
        Spec(Job(6, group="g"), duration=1, fails=False),
    ]
    limits = Limits(max_parallel=1, group_stagger={"g": 4.0})
    out = simulate(specs, limits)
    assert out.status == {1: "failed", 2: "skipped", 3: "skipped", 4: "done", 5: "done", 6: "done"}
    assert out.starts == {1: 0, 5: 3, 4: 4, 6: 7}
    assert out.skips[2] == (3, "after #1, which ended failed")
    assert out.skips[3] == (3, "after #2, which ended skipped")
