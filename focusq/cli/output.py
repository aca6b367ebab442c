"""How commands print: JSON records, labels, durations, the width of the terminal."""

from __future__ import annotations

import json
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the quick path milliseconds; annotations are strings
    from collections.abc import Sequence
    from typing import Any


_PICTURES: dict[int, str] = {code: chr(0x2400 + code) for code in range(0x20) if code != 0x09}
_PICTURES[0x7F] = "\u2421"  # ␡
# C1 controls (0x9b starts a sequence on some terminals) and the bidi overrides and
# isolates, which reorder the rest of a line, have no pictures: they are spelled out.
_PICTURES.update({code: f"\\x{code:02x}" for code in range(0x80, 0xA0)})
_BIDI = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
_PICTURES.update({code: f"\\u{code:04x}" for code in _BIDI})
_ONE_LINE = str.maketrans(_PICTURES)
_LINES = str.maketrans({**_PICTURES, 0x0A: "\n", 0x0D: "\r"})


def stdout_to_devnull() -> None:
    """Point standard output at ``/dev/null``: the reader went away, or has had all there
    is (a pipe's reader gets its end now). Nothing when it is not a file (a test's
    StringIO). The caller flushes first if it may."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def visible(text: str, *, lines: bool = False) -> str:
    """``text`` safe to write to a terminal: control characters shown, never obeyed.

    An escape is ``␛`` (the Unicode control pictures stand for C0 controls); a C1
    control or a bidi override is spelled out (``\\x9b``, ``\\u202e``). Tabs stay.
    One line (a title, a table row) shows a newline as ``␊``; with ``lines`` (a log,
    a note) newlines and carriage returns stay, so progress bars still draw.
    """
    return text.translate(_LINES if lines else _ONE_LINE)


class VisibleWriter:
    """Writes bytes (UTF-8, as a job wrote them) to ``out`` with :func:`visible` applied."""

    def __init__(self, out: Any) -> None:
        import codecs

        self.out = out
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def write(self, data: bytes) -> int:
        self.out.write(visible(self._decoder.decode(data), lines=True).encode("utf-8"))
        return len(data)

    def flush(self) -> None:
        self.out.flush()


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))


DURATIONS = ("estimate", "timeout")
"""Record fields that are durations: in JSON they are seconds named ``*_s``."""


def json_record(record: dict[str, Any]) -> dict[str, Any]:
    """Timestamps as ISO 8601 with the local offset; everything else as stored."""
    from datetime import datetime

    out = dict(record)
    for key in DURATIONS:  # seconds, named so: estimate_s, timeout_s
        if key in out:
            out[f"{key}_s"] = out.pop(key)
    for key in (
        "created_at",
        "updated_at",
        "started_at",
        "ended_at",
        "at",
        "delivered_at",
        "dismissed_at",
        "archived_at",
    ):
        if out.get(key) is not None:
            out[key] = datetime.fromtimestamp(out[key]).astimezone().isoformat(timespec="seconds")
    return out


def json_run(run: dict[str, Any]) -> dict[str, Any]:
    out = json_record(run)
    out.pop("id", None)
    return out


def duration_text(seconds: float) -> str:
    from focusq.durations import format_duration

    return format_duration(max(0.0, seconds))


def focus_line(session: dict[str, Any], now: float) -> str:
    paused = now - session["paused_at"] if session["paused_at"] else 0.0
    spent = now - session["started_at"] - session["paused_seconds"] - paused
    state = " (paused)" if session["paused_at"] else ""
    return (
        f"#{session['task_id']} {visible(session['title'])}: {duration_text(spent)} of "
        f"{session['planned_minutes']}m{state}"
    )


def task_label(record: dict[str, Any]) -> str:
    """``#12 title``, the title's escapes shown, never obeyed."""
    return f"#{record['id']} {visible(record['title'])}"


def terminal_width() -> int:
    """Columns to fit: ``$COLUMNS``, else the terminal's; unlimited when not a terminal."""
    try:
        return (
            int(os.environ.get("COLUMNS", 0)) or os.get_terminal_size(sys.stdout.fileno()).columns
        )
    except (OSError, ValueError):
        return 1 << 20  # not a terminal: nothing is cut


def task_detail(r: dict[str, Any], runs: Sequence[dict[str, Any]] = ()) -> str:
    """Every field of one task worth reading, one per line, then its runs.

    Control characters in what the user or a job wrote are shown, never obeyed.
    """
    import shlex

    from focusq.durations import format_duration
    from focusq.quickadd import command_text

    rows: list[tuple[str, str]] = [
        ("id", str(r["id"])),
        ("title", r["title"]),
        ("kind", r["kind"]),
        ("status", r["status"] + (f" ({r['reason']})" if r["reason"] else "")),
        ("priority", r["priority"]),
    ]
    if r.get("waiting_for"):
        rows.insert(4, ("waiting", r["waiting_for"]))
    if r["tags"]:
        rows.append(("tags", " ".join(f"+{t}" for t in r["tags"])))
    if r["project"]:
        rows.append(("project", r["project"]))
    if r["command"] is not None:
        rows.append(("command", command_text(r["command"])))
        rows.append(("cwd", r["cwd"] or ""))
    if r["env"]:
        rows.append(("env", " ".join(f"{k}={shlex.quote(v)}" for k, v in r["env"].items())))
    for key in ("after", "afterany"):
        if r[key]:
            rows.append((key, ", ".join(f"#{i}" for i in r[key])))
    if r["locks"]:
        rows.append(("locks", ", ".join(r["locks"])))
    for key in ("estimate", "timeout"):
        if r[key]:
            rows.append((key, format_duration(r[key])))
    if r["retries"]:
        rows.append(("retries", str(r["retries"])))
    for key in ("group", "gate"):
        if r[key]:
            rows.append((key, r[key]))
    if r["at"] and r["status"] in ("queued", "waiting", "held"):
        rows.append(("not before", _time(r["at"])))
    if r["attempts"]:
        rows.append(("attempts", str(r["attempts"])))
    if r["result"]:
        code = f" (exit {r['exit_code']})" if r["exit_code"] is not None else ""
        rows.append(("result", r["result"] + code))
    for key in ("created_at", "started_at", "ended_at"):
        if r[key]:
            rows.append((key.removesuffix("_at"), _time(r[key])))
    width = max(len(k) for k, _ in rows)
    out = [f"{k:<{width}}  {visible(v)}" for k, v in rows]
    if r["note"]:
        out.append("note")
        out.extend(f"  {visible(line)}" for line in r["note"].splitlines())
    if runs:
        out.append("runs")
        for run in runs:
            took = format_duration(run["ended_at"] - run["started_at"]) if run["ended_at"] else ""
            result = run["result"] or "running"
            if run["exit_code"] is not None:
                result += f" (exit {run['exit_code']})"
            out.append(f"  #{run['attempt']}  {_time(run['started_at'])}  {took:>6}  {result}")
            if run.get("executor"):  # it ran on another machine
                host = f" on {visible(run['host'])}" if run.get("host") else ""
                out.append(f"      ran by {visible(run['executor'])}{host}")
            out.append(f"      log {visible(run['log_path'])}")
        last = runs[-1].get("tail")
        if last:
            out.append("last lines")
            # A progress bar drawn with carriage returns shows its last frame.
            lines = last.rstrip("\n").split("\n")
            out.extend(f"  {visible(line.rsplit(chr(13), 1)[-1])}" for line in lines)
    return "\n".join(out) + "\n"


def _time(epoch: float) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M")


def with_waiting_for(store: Any, config: Any, records: list[dict[str, Any]]) -> None:
    """Add ``waiting_for`` to each record: why an open job has not started (the words the
    TUI uses), ``None`` for anything else."""
    from focusq.store.ops import listing

    asking = [
        r
        for r in records
        if r["kind"] == "mechanical" and r["status"] in ("queued", "waiting", "held")
    ]
    on = store.run(listing.placed([r["id"] for r in asking])) if asking else {}
    asking = [{**r, "executor": on.get(r["id"])} for r in asking]  # where on:NAME put it
    reasons = _reasons(store, config, asking)
    for record in records:
        record["waiting_for"] = reasons.get(record["id"])


def waiting_reasons(store: Any, config: Any) -> dict[int, str]:
    """Why each open job that has not started waits, by id (the TUI's words; none for a job
    nothing holds back), from a light read of those jobs only."""
    from focusq.store.ops import listing

    return _reasons(store, config, store.run(listing.waiting_jobs()))


def _reasons(store: Any, config: Any, waiting: list[dict[str, Any]]) -> dict[int, str]:
    """Why each of ``waiting`` (jobs not started) waits, by id; a job nothing holds back has
    no entry."""
    if not waiting:
        return {}
    import time

    from focusq.engine.limits import Limits
    from focusq.engine.waiting import running_of, waiting_for
    from focusq.store.ops import groups, jobs

    others = store.run(jobs.blocking([d for r in waiting for d in (*r["after"], *r["afterany"])]))
    limits = Limits.of(config, store.run(groups.group_states()), store.path)
    now = time.time()
    running = running_of(others)
    reasons = {r["id"]: waiting_for(r, others, limits, now, running) for r in waiting}
    return {task_id: why for task_id, why in reasons.items() if why}


class Waits:
    """Why jobs wait, for a listing of any length (``ls`` and ``ls --json``).

    A listing asks :meth:`held_back` once: what keeps jobs back lock by lock and group by
    group, which SQLite then says of every row. It says what ``waiting_for`` says (the tests
    hold them to it), without importing the engine's scheduler.
    """

    def __init__(
        self,
        config: Any,
        others: dict[int, dict[str, Any]],
        group_states: dict[str, dict[str, Any]],
        now: float,
        database: str | None = None,
    ) -> None:
        from focusq.engine.limits import Limits

        self._limits = Limits.of(config, group_states, database)
        self._running = [o for o in others.values() if o["status"] in ("running", "paused")]
        self._now = now

    def held_back(
        self, timed: Sequence[tuple[int, float, int, str | None]]
    ) -> tuple[dict[str, str], dict[str, str], str, dict[int, str], dict[str, str], dict[str, str]]:
        """What holds queued jobs back, each said once, as ``waiting_for`` words it: why
        each full lock keeps its jobs back; why the jobs of each group that differs from the
        rest wait ("": they need not); why any other job waits (""); why each of the
        ``timed`` jobs (``(id, at, attempts, result)``, their ``at`` ahead) waits, by id;
        and, for jobs placed on an executor of their own (``on:NAME``), why each group
        itself keeps them back (paused, full) and why each executor does.

        A job says the first that holds: an open dependency (SQLite knows), its ``at``, its
        first full lock, its group, then where it runs, as ``waiting_for`` asks them.
        """
        limits, running, now = self._limits, self._running, self._now
        locks: dict[str, str] = {}
        for holder in running:
            for key in holder["locks"]:
                if key not in locks and (full := limits.lock_said(key, running)):
                    locks[key] = full

        group_own = {
            group: limits.group_said(group, running)
            for group in sorted(
                {*limits.paused_groups, *limits.group_caps, *limits.group_executors}
            )
            if group
        }
        by_executor = {
            name: limits.executor_said(name, running) for name in ("local", *limits.executor_caps)
        }

        def placed_by(group: str | None) -> str:  # a job with no on:NAME runs where its group says
            return limits.executor_said(limits.executor_for(None, group), running)

        other = placed_by(None)
        groups = {group: own or placed_by(group) for group, own in group_own.items()}
        by_id: dict[int, str] = {}
        at_said: dict[tuple[float, str | None], str] = {}
        for task_id, at, attempts, result in timed:
            retry = result if attempts and result else None
            said = at_said.get((at, retry))
            if said is None:
                if retry:
                    from focusq.durations import format_duration

                    said = f"{retry}, retry in {format_duration(at - now)}"
                else:
                    from datetime import datetime

                    said = "at " + datetime.fromtimestamp(at).strftime("%H:%M")
                at_said[(at, retry)] = said
            by_id[task_id] = said
        differ = {g: why for g, why in groups.items() if why != other}
        said_own = {group: why for group, why in group_own.items() if why}
        return locks, differ, other, by_id, said_own, by_executor
