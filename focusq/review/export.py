"""The review as text: the terminal report, the Markdown export, the timeline as SVG, JSON.

Pure functions of a :class:`~focusq.review.figures.Review`; the same cell geometry draws the
timeline in the terminal (``focusq review`` and the TUI widget) and nothing here reads a
clock: times are shown in local time, from the review's own timestamps.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from html import escape
from typing import Any

from focusq.review.figures import (
    CARRIED_FLAG,
    DoneTask,
    Failure,
    Review,
    Timeline,
    Unfinished,
)
from focusq.review.planned import text_lines as planned_text
from focusq.review.planned import total_words
from focusq.review.recurring import missed_words
from focusq.review.timeline import UNTRACKED, hour_ticks, label_width, lanes, span_kind
from focusq.review.timeline import lane_cells as lane_cells
from focusq.review.timeline import text_timeline as text_timeline

ANSWER_WORDS = {"carry": "carried to tomorrow", "backlog": "sent to the backlog", "drop": "dropped"}


# -- small pieces ---------------------------------------------------------------------------


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 session``, ``3 sessions``."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def duration(seconds: float) -> str:
    """``2h 05m``, ``25m``, ``40s``: minutes unless it was under one."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"


def clock(at: float) -> str:
    """``14:05`` in local time."""
    return f"{datetime.fromtimestamp(at):%H:%M}"


def ran_on(executor: str | None, host: str | None) -> str:
    """``on build-farm (vm3)``: where a run ran, when not on this machine (else ``""``)."""
    if executor is None:
        return ""
    return f"on {executor} ({host})" if host else f"on {executor}"


def gain(review: Review) -> str:
    """The parallel gain as ``2.4x``, or a dash on a day without jobs."""
    value = review.jobs.parallel_gain
    return "–" if value is None else f"{value:.1f}x"


def day_title(review: Review) -> str:
    """``Tue 24 Nov 2026``."""
    return f"{date.fromisoformat(review.day):%a %d %b %Y}"


def closed_line(review: Review) -> str:
    """Whether the day was closed, and when."""
    if review.closed_at is None:
        return "Open: answer what is left, then close the day."
    return (
        f"Closed at {clock(review.closed_at)} on {datetime.fromtimestamp(review.closed_at):%d %b}."
    )


def summary(review: Review) -> list[tuple[str, str]]:
    """The headline figures, as (label, value) lines, for every rendering."""
    f, i, s, j = review.focus, review.interruptions, review.switches, review.jobs
    modes = f.by_mode
    creative = sum(t.kind == "creative" for t in review.done)
    jobs_done = len(review.done) - creative
    return [
        (
            "Done",
            f"{plural(len(review.done), 'task')}: {creative} creative, {plural(jobs_done, 'job')}",
        ),
        (
            "Focus",
            f"{duration(f.seconds)} in {plural(f.sessions, 'session')}; "
            f"longest unbroken {duration(f.longest_seconds)}",
        ),
        (
            "Focus by block",
            f"async {duration(modes.get('async', 0))} · sync {duration(modes.get('sync', 0))}"
            f" · free time {duration(modes.get('free', 0))}",
        ),
        *([("Untracked", untracked_words(review))] if f.async_seconds else []),
        *([("Recurring", missed_words(review.recurring))] if review.recurring else []),
        (
            "Interruptions",
            f"{i.captured} captured ({i.urgent} urgent); "
            f"{i.delivered} held and delivered in {plural(i.batches, 'batch', 'batches')}, "
            f"{i.broke_through} broke through, {i.at_once} shown at once",
        ),
        (
            "Switch prompts",
            f"{s.offered} offered: {s.accepted} accepted, {s.declined} declined; "
            f"{plural(s.task_switches, 'task switch', 'task switches')}",
        ),
        (
            "Jobs",
            f"{plural(j.runs, 'run')}: {j.ok} ok, {j.failed} failed, {j.timed_out} timed out, "
            f"{j.cancelled} cancelled, {j.interrupted} interrupted"
            + (f", {j.running} running" if j.running else "")
            + f"; {plural(j.retried, 'retry', 'retries')}",
        ),
        (
            "Job time",
            f"{duration(j.job_seconds)} of jobs in {duration(j.wall_seconds)} of wall time: "
            f"parallel gain {gain(review)} "
            f"(one after another: {duration(j.job_seconds)})",
        ),
    ]


def untracked_words(review: Review) -> str:
    """The async time so far that was neither focus nor a pause or break, in how many
    gaps, against the rest of that time."""
    f = review.focus
    gaps = len(review.timeline.untracked)
    where = f" in {plural(gaps, 'gap')}" if gaps else ""
    return (
        f"{duration(f.untracked_seconds)} of {duration(f.async_seconds)} async time{where} "
        f"(focus {duration(f.by_mode.get('async', 0))}, "
        f"pauses and breaks {duration(f.rest_seconds)})"
    )


# -- JSON -----------------------------------------------------------------------------------

JSON_TIMES = frozenset({"start", "end", "at", "closed_at"})
"""Fields that are moments: ISO 8601 with the local offset in JSON, as every ``--json``."""

_JSON_NAMES = {"seconds": "focus_s", "by_mode": "by_mode_s"}
"""Durations whose name does not end in ``_seconds``; the rest lose that for ``_s``."""

_PLANS: dict[type, tuple[tuple[str, str, bool], ...]] = {}


def to_json(review: Review) -> dict[str, Any]:
    """Plain data for ``focusq review --json``: every field of the review, with moments as
    ISO 8601 in local time with its offset and durations as seconds named ``*_s``."""
    plain = _plain(review)
    assert isinstance(plain, dict)
    return plain


def iso_time(at: float | None) -> str | None:
    """``2026-11-24T14:05:00+01:00``: the moment in local time, with its offset."""
    if at is None:
        return None
    return datetime.fromtimestamp(at).astimezone().isoformat(timespec="seconds")


def _json_name(name: str) -> str:
    if name in _JSON_NAMES:
        return _JSON_NAMES[name]
    return name.removesuffix("_seconds") + "_s" if name.endswith("_seconds") else name


def to_plain(value: Any) -> Any:
    """A figure as plain data, named as in ``focusq review --json``."""
    return _plain(value)


def _plain(value: Any) -> Any:
    """Dataclasses as dicts, all the way down (``dataclasses.asdict`` without its deep copies,
    which cost a day with thousands of rows tens of milliseconds)."""
    kind = type(value)
    if kind in (str, int, float, bool) or value is None:
        return value
    if kind is list or kind is tuple:
        return [_plain(v) for v in value]
    if kind is dict:
        return {k: _plain(v) for k, v in value.items()}
    plan = _PLANS.get(kind)
    if plan is None:
        plan = _PLANS[kind] = tuple(
            (f.name, _json_name(f.name), f.name in JSON_TIMES) for f in dataclasses.fields(value)
        )
    return {
        out: iso_time(getattr(value, name)) if moment else _plain(getattr(value, name))
        for name, out, moment in plan
    }


# -- the terminal report --------------------------------------------------------------------


def to_text(review: Review, width: int = 100) -> str:
    """What ``focusq review`` prints."""
    out = [f"Review of {day_title(review)}", closed_line(review), ""]
    pad = max(len(label) for label, _ in summary(review))
    out += [f"{label:<{pad}}  {value}" for label, value in summary(review)]
    out.append(f"{'Interrupted by':<{pad}}  {interrupted_by(review)}")
    if review.done:
        out += ["", "Done"]
        out += [f"  #{t.id:<5} {t.title}  ({_done_time(t)})" for t in review.done]
    out += planned_text(review.planned)
    if review.jobs.failures:
        out += ["", "Failures"]
        for f in review.jobs.failures:
            out.append(f"  #{f.task_id:<5} {f.title}: {_failure_words(f)}")
            out += [f"         | {line}" for line in f.tail.splitlines()[-3:]]
            out += [f"         note: {n.text}" for n in f.notes]
    out += ["", "Timeline (█ focus or ok job, x failed, · untracked, s sync / a async block)"]
    out += ["  " + row for row in text_timeline(review.timeline, width - 2)]
    out += ["", f"Unfinished ({len(review.unfinished)})"]
    for u in review.unfinished:
        answer = f"  -> {ANSWER_WORDS[u.answer]}" if u.answer else ""
        out.append(f"  #{u.id:<5} {u.status:<8} {u.title}{answer}{carried_flag(u)}")
        out += [f"         note: {n.text}" for n in u.notes[-1:]]
    if not review.unfinished:
        out.append("  nothing: a clean slate")
    if review.older_failures:
        out.append(f"  {_older(review.older_failures)}")
    return "\n".join(out) + "\n"


def interrupted_by(review: Review) -> str:
    """Who interrupted: other people, yourself, or the jobs."""
    i = review.interruptions
    return (
        f"others {i.from_others} · yourself {i.self_made} (quick-adds during focus, "
        f"switches you chose) · jobs {i.from_jobs}"
    )


def carried_flag(task: Unfinished) -> str:
    """``  (carried 3 times: backlog?)`` for a task carried :data:`CARRIED_FLAG` times."""
    if task.carried < CARRIED_FLAG:
        return ""
    return f"  (carried {task.carried} times: backlog?)"


def _older(count: int) -> str:
    return f"{count:,} older failure{'s' * (count != 1)}: focusq clean archives them"


def _done_time(task: DoneTask) -> str:
    if task.kind == "creative":
        return f"{duration(task.focus_seconds)} focus"
    runs = f", {task.runs} runs" if task.runs > 1 else ""
    where = f" {ran_on(task.executor, task.host)}" if task.executor else ""
    return f"{duration(task.run_seconds)} run{runs}{where}"


def _failure_words(failure: Failure) -> str:
    exit_code = f" (exit {failure.exit_code})" if failure.exit_code not in (None, 0) else ""
    where = f" {ran_on(failure.executor, failure.host)}" if failure.executor else ""
    return (
        f"attempt {failure.attempt} {failure.result.replace('_', ' ')}{exit_code} "
        f"at {clock(failure.at)}{where}; now {failure.status}"
    )


# -- Markdown and SVG -----------------------------------------------------------------------


def to_markdown(review: Review) -> str:
    """The review as a Markdown document, with the timeline as an inline SVG."""
    f = review.focus
    out = [f"# Review of {day_title(review)}", "", closed_line(review), ""]
    out += [f"- **{label}**: {value}" for label, value in summary(review)]
    out += ["", f"## Done ({len(review.done)})", ""]
    if review.done:
        out += ["| # | Task | Kind | Finished | Time |", "| ---: | --- | --- | --- | --- |"]
        out += [
            f"| {t.id} | {_cell(t.title)} | {t.kind} | {clock(t.at)} | {_done_time(t)} |"
            for t in review.done
        ]
    else:
        out.append("Nothing was finished.")
    p = review.planned
    if p.planned_seconds:
        out += ["", "## Planned against actual", ""]
        out += ["| # | Task | Estimate | Took | Ratio |", "| ---: | --- | ---: | ---: | ---: |"]
        out += [
            f"| {t.id} | {_cell(t.title)} | "
            f"{duration(t.estimate_seconds) if t.estimate_seconds else '–'} | "
            f"{duration(t.actual_seconds)} | {f'{t.ratio:.1f}x' if t.ratio else '–'} |"
            for t in p.tasks
        ]
        out += ["", f"Total: {total_words(p)}."]
    out += ["", "## Focus", ""]
    if f.blocks:
        out += [
            "| Block | Planned | Focused | Used | Untracked |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for b in f.blocks:
            name = f"{b.mode} {clock(b.start)}-{clock(b.end)}" + (
                f" ({b.label})" if b.label else ""
            )
            used = f"{b.focus_seconds / b.planned_seconds:.0%}" if b.planned_seconds else "–"
            untracked = duration(b.untracked_seconds) if b.mode == "async" else "–"
            out.append(
                f"| {_cell(name)} | {duration(b.planned_seconds)} | "
                f"{duration(b.focus_seconds)} | {used} | {untracked} |"
            )
        out.append("")
    if f.tasks:
        out += ["| # | Task | Focus | Sessions |", "| ---: | --- | ---: | ---: |"]
        out += [
            f"| {t.id} | {_cell(t.title)} | {duration(t.seconds)} | {t.sessions} |" for t in f.tasks
        ]
    else:
        out.append("No focus sessions.")
    i = review.interruptions
    out += ["", "## Interruptions", ""]
    sources = ", ".join(f"{k} {v}" for k, v in i.by_source.items()) or "none"
    out.append(f"Interrupted by {interrupted_by(review)}.")
    out.append("")
    out.append(
        f"Captured {i.captured} (by source: {sources}; {i.urgent} urgent). "
        f"Held and delivered in {plural(i.batches, 'batch', 'batches')}: {i.delivered}; "
        f"urgent, broke through: {i.broke_through}; shown at once (sync or free time): "
        f"{i.at_once}."
    )
    j = review.jobs
    out += ["", "## Jobs", ""]
    out.append(
        f"{plural(j.runs, 'run')} took {duration(j.job_seconds)} between them and covered "
        f"{duration(j.wall_seconds)} of the day: a parallel gain of {gain(review)}."
    )
    out += ["", f"### Failures ({len(j.failures)})", ""]
    if j.failures:
        for fail in j.failures:
            out += [f"#### #{fail.task_id} {_cell(fail.title)}", "", _failure_words(fail) + "."]
            if fail.tail:
                fence = "`" * max(3, _longest_run(fail.tail, "`") + 1)
                out += ["", f"{fence}text", fail.tail.rstrip("\n"), fence]
            out += [
                f"> Note ({datetime.fromtimestamp(n.at):%d %b}, attempt {n.attempt}): "
                f"{_cell(n.text)}"
                for n in fail.notes
            ]
            out.append("")
    else:
        out += ["No failures.", ""]
    out += ["## Timeline", "", timeline_svg(review.timeline), ""]
    out += [f"## Unfinished ({len(review.unfinished)})", ""]
    if review.unfinished:
        out += [
            "| # | Task | Kind | Status | Answer | Last note |",
            "| ---: | --- | --- | --- | --- | --- |",
        ]
        out += [
            f"| {u.id} | {_cell(u.title)} | {u.kind} | {u.status} | "
            f"{ANSWER_WORDS.get(u.answer or '', 'not yet answered')} | "
            f"{_last_note_cell(u)} |"
            for u in review.unfinished
        ]
    else:
        out.append("Nothing is left.")
    if review.older_failures:
        out += ["", f"{_older(review.older_failures)}."]
    return "\n".join(out) + "\n"


def _last_note_cell(task: Unfinished) -> str:
    """The last note on a task, and the flag of one carried too often."""
    note = _cell(task.notes[-1].text) if task.notes else ""
    return " ".join(part for part in (note, carried_flag(task).strip()) if part)


def _cell(text: str) -> str:
    """Text as it may appear in a table cell or heading: no HTML, no column breaks."""
    return escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def _longest_run(text: str, char: str) -> int:
    longest = current = 0
    for c in text:
        current = current + 1 if c == char else 0
        longest = max(longest, current)
    return longest


SVG_COLOURS = {
    "sync": "#f4e3c1",
    "async": "#dde8f7",
    "focus": "#6d4fc2",
    "ok": "#3a9a5b",
    "failed": "#c8423b",
    "running": "#3b7dd8",
    "other": "#9a9a9a",
    UNTRACKED: "#e0a030",
}


def timeline_svg(timeline: Timeline, width: int = 960) -> str:
    """The timeline as a self-contained SVG: blocks shaded, one row per lane, hour ticks."""
    rows = lanes(timeline)
    # Wider names (another executor's lanes) get about 7 px a character.
    label, lane_h, top = 70 + 7 * (label_width(timeline) - 8), 22, 22
    legend_y = top + lane_h * len(rows) + 18
    height = legend_y + 10
    plot = width - label - 10
    span = timeline.end - timeline.start

    def x(at: float) -> float:
        return round(label + (at - timeline.start) / span * plot, 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for block in timeline.blocks:
        lo, hi = x(max(block.start, timeline.start)), x(min(block.end, timeline.end))
        parts.append(
            f'<rect x="{lo}" y="{top}" width="{round(hi - lo, 1)}" '
            f'height="{lane_h * len(rows)}" fill="{SVG_COLOURS.get(block.mode, "#eeeeee")}">'
            f"<title>{escape(block.mode + (' ' + block.label if block.label else ''))}</title>"
            "</rect>"
        )
    for cell, hour in hour_ticks(timeline, plot):
        tick = round(label + cell, 1)
        parts.append(
            f'<line x1="{tick}" y1="{top - 4}" x2="{tick}" y2="{top + lane_h * len(rows)}" '
            'stroke="#cccccc" stroke-width="0.5"/>'
        )
        parts.append(f'<text x="{tick}" y="{top - 8}" text-anchor="middle">{hour}</text>')
    for row, (name, spans) in enumerate(rows):
        y = top + row * lane_h
        parts.append(f'<text x="4" y="{y + 15}">{escape(name)}</text>')
        for s in spans:
            lo, hi = x(s.start), x(s.end)
            colour = SVG_COLOURS[span_kind(s)]
            what = "focus" if s.result == "focus" else (s.result or "running")
            about = f"#{s.task_id} {escape(s.title)}: " if s.result != UNTRACKED else ""
            where = f" {escape(ran_on(s.executor, s.host))}" if s.executor else ""
            # An untracked gap is a thin bar: time lost, not work done.
            top_y, bar_h = (y + 9, lane_h - 18) if s.result == UNTRACKED else (y + 4, lane_h - 8)
            parts.append(
                f'<rect x="{lo}" y="{top_y}" width="{max(round(hi - lo, 1), 0.5)}" '
                f'height="{bar_h}" fill="{colour}"><title>{about}'
                f"{what} {clock(s.start)}-{clock(s.end)}{where}</title></rect>"
            )
    x_at = label
    for name in ("focus", "ok", "failed", "running", UNTRACKED, "sync", "async"):
        words = f"{name} block" if name in ("sync", "async") else name
        parts.append(
            f'<rect x="{x_at}" y="{legend_y - 9}" width="10" height="10" '
            f'fill="{SVG_COLOURS[name]}"/><text x="{x_at + 14}" y="{legend_y}">{words}</text>'
        )
        x_at += 24 + 7 * len(words)
    parts.append("</svg>")
    return "\n".join(parts)
