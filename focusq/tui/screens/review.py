"""The end-of-day review: how the day went, and an answer for everything left."""

from __future__ import annotations

import contextlib
import os
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from focusq.errors import FocusqError
from focusq.focus.blocks import Block
from focusq.paths import PRIVATE_FILE
from focusq.review.day import DayLog, day_window, tomorrow_start
from focusq.review.export import (
    ANSWER_WORDS,
    carried_flag,
    clock,
    closed_line,
    day_title,
    duration,
    interrupted_by,
    ran_on,
    summary,
    to_markdown,
)
from focusq.review.figures import Failure, Review, figures
from focusq.review.planned import estimate_words, total_words
from focusq.store.ops import review
from focusq.tui.messages import DatabaseChanged
from focusq.tui.screens.capture import CaptureScreen
from focusq.tui.screens.confirm import ConfirmScreen
from focusq.tui.text import cut, literal
from focusq.tui.widgets.timeline import TimelineChart

if TYPE_CHECKING:
    from focusq.tui.app import FocusqApp

FAILURE_COLUMNS = ("#", "task", "attempt", "result", "at", "now")
"""The failures table's columns; ``ran on`` follows when a failed run ran on another
executor."""


TITLE_ROOM = 60
"""Characters of a title the unfinished table shows: a longer one is cut with ``…`` so its
answer stays in sight."""


class ReviewScreen(Screen[None]):
    """The figures of one day, its timeline, its failures and its unfinished work."""

    CSS_PATH = "review.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="review.back", tooltip="Back to the day"),
        Binding("c", "answer('carry')", "Tomorrow", id="review.carry", tooltip="Carry to tomorrow"),
        Binding(
            "b", "answer('backlog')", "Backlog", id="review.backlog", tooltip="Send to the backlog"
        ),
        Binding("x", "answer('drop')", "Drop", id="review.drop", tooltip="Drop it"),
        Binding("n", "note", "Note", id="review.note", tooltip="Write a note on the failure"),
        Binding("C", "close_day", "Close day", id="review.close", tooltip="Close the day"),
        Binding("e", "export", "Export", id="review.export", tooltip="Write it as Markdown"),
        Binding(
            "left_square_bracket",
            "day(-1)",
            "Prev day",
            id="review.prev",
            tooltip="The day before",
            show=False,
        ),
        Binding(
            "right_square_bracket",
            "day(1)",
            "Next day",
            id="review.next",
            tooltip="The day after",
            show=False,
        ),
    ]
    """| key | action |
    | --- | --- |
    | c | carry the selected unfinished task to tomorrow |
    | b | send it to the backlog |
    | x | drop it |
    | n | write a note on the selected failure |
    | C | close the day |
    | e | export the review as Markdown |
    | [ / ] | the day before / after |
    | tab | between failures and unfinished work |
    | escape | back to the day |
    """

    def __init__(self, day: date) -> None:
        super().__init__()
        self.day = day
        self.review: Review | None = None
        self.blocks: list[Block] = []
        """The day's blocks and meetings, as the figures were computed with."""

    @property
    def fq(self) -> FocusqApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(id="review-title")
        with VerticalScroll(id="review-body"):
            yield Static(id="review-summary")
            yield Static(id="review-done")
            yield TimelineChart(id="review-timeline")
            failures: DataTable[Text] = DataTable(id="review-failures", cursor_type="row")
            failures.add_columns(*FAILURE_COLUMNS)
            yield failures
            yield Static(id="review-failure-detail")
        # Outside the scrolling figures: what is being answered is always in view.
        unfinished: DataTable[Text] = DataTable(id="review-unfinished", cursor_type="row")
        unfinished.add_columns("#", "kind", "status", "task", "answer", "last note")
        yield unfinished
        yield Footer()

    async def on_mount(self) -> None:
        self.query_one("#review-timeline").border_title = "timeline"
        self.query_one("#review-failures").border_title = "failures · n: note"
        self.query_one(
            "#review-unfinished"
        ).border_title = "unfinished · c: tomorrow · b: backlog · x: drop"
        await self.load()
        self.query_one("#review-unfinished", DataTable).focus()

    async def load(self, select: int | None = None) -> None:
        """Read the day again and show it, the cursor on task ``select`` (or where it was)."""
        start, end = day_window(self.day)
        rows = await self._run(review.day_log(start, end, self.day.isoformat()))
        if rows is None:
            return
        self.blocks = await self.fq.blocks_on(self.day)
        self.review = figures(DayLog.of(self.day, rows, self.blocks, self.fq.clock()))
        self._show(self.review, select)

    async def _run(self, op: Any) -> Any:
        """Run a store operation; a refusal or a database problem is a message, not a crash."""
        try:
            return await self.fq.store.run(op)
        except FocusqError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return None

    @on(DatabaseChanged)
    async def _database_changed(self) -> None:
        await self.load()

    # -- showing ----------------------------------------------------------------------------

    def _show(self, review: Review, select: int | None = None) -> None:
        title = Text(f"Review of {day_title(review)}  ", style="bold")
        title.append(closed_line(review), style="italic" if review.closed_at is None else "bold")
        self.query_one("#review-title", Static).update(title)
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        for label, value in summary(review):
            grid.add_row(label, literal(value))
        grid.add_row("Interrupted by", literal(interrupted_by(review)))
        for n, block in enumerate(review.focus.blocks):
            used = block.focus_seconds / block.planned_seconds if block.planned_seconds else 0
            name = f"{block.mode} {clock(block.start)}-{clock(block.end)} {block.label}".strip()
            lost = block.untracked_seconds
            grid.add_row(
                "Blocks" if n == 0 else "",
                literal(
                    f"{name}: {duration(block.focus_seconds)} of {duration(block.planned_seconds)}"
                    f" focused ({used:.0%})" + (f", {duration(lost)} untracked" if lost else "")
                ),
            )
        self.query_one("#review-summary", Static).update(grid)
        done = Text()
        for task in review.done:
            spent = (
                f"{duration(task.focus_seconds)} focus"
                if task.kind == "creative"
                else f"{duration(task.run_seconds)} run"
            )
            done.append(f"✓ #{task.id} ", style="bold")
            done.append_text(literal(f"{task.title}  "))
            if task.executor:  # its last run was on another executor
                done.append(f"{spent} ", style="dim")
                done.append_text(literal(ran_on(task.executor, task.host), "dim"))
                done.append("\n")
            else:
                done.append(f"{spent}\n", style="dim")
        if review.planned.planned_seconds:
            done.append("planned against actual: ", style="bold")
            done.append_text(literal(total_words(review.planned)))
            done.append("\n")
            for estimated in review.planned.tasks:
                done.append(f"  #{estimated.id} ", style="dim")
                done.append_text(literal(f"{estimated.title}  {estimate_words(estimated)}\n"))
        self.query_one("#review-done", Static).update(done or Text("Nothing finished.", "dim"))
        self.query_one(TimelineChart).timeline = review.timeline
        self._fill_failures(review.jobs.failures)
        self._fill_unfinished(review, select)

    def _fill_failures(self, failures: list[Failure]) -> None:
        table = self.query_one("#review-failures", DataTable)
        row = table.cursor_row
        elsewhere = any(f.executor for f in failures)
        columns = (*FAILURE_COLUMNS, "ran on") if elsewhere else FAILURE_COLUMNS
        table.clear(columns=len(table.columns) != len(columns))
        if not table.columns:
            table.add_columns(*columns)
        for n, f in enumerate(failures):
            code = f" ({f.exit_code})" if f.exit_code not in (None, 0) else ""
            cells: tuple[str, ...] = (
                str(f.task_id),
                f.title,
                str(f.attempt),
                f.result + code,
                clock(f.at),
                f.status,
            )
            if elsewhere:
                cells += (ran_on(f.executor, f.host).removeprefix("on "),)
            table.add_row(*map(literal, cells), key=str(n))
        table.display = bool(failures)
        if failures:
            table.move_cursor(row=min(row, len(failures) - 1))
        self._show_failure()

    def _fill_unfinished(self, review: Review, select: int | None) -> None:
        table = self.query_one("#review-unfinished", DataTable)
        # Keep the cursor on the same task (rows may move when work is added meanwhile).
        row = table.cursor_row
        if select is None and 0 <= row < table.row_count:
            selected = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
            select = int(selected) if selected.isdigit() else None
        table.clear()
        for u in review.unfinished:
            kind = "you" if u.kind == "creative" else "job"
            answer = ANSWER_WORDS.get(u.answer or "", "")
            note = " ".join(
                part
                for part in (u.notes[-1].text if u.notes else "", carried_flag(u).strip())
                if part
            )
            cells = (str(u.id), kind, u.status, cut(u.title, TITLE_ROOM), answer, note)
            table.add_row(*map(literal, cells), key=str(u.id))
        ids = [u.id for u in review.unfinished]
        if ids:
            table.move_cursor(row=ids.index(select) if select in ids else min(row, len(ids) - 1))
        else:
            table.add_row(*map(Text, ("", "", "", "nothing left: a clean slate", "", "")))

    @on(DataTable.RowHighlighted, "#review-failures")
    def _show_failure(self) -> None:
        detail = self.query_one("#review-failure-detail", Static)
        failure = self._selected_failure()
        detail.display = failure is not None
        if failure is None:
            return
        out = Text()
        for line in failure.tail.splitlines()[-5:]:
            out.append_text(literal(f"│ {line}", "dim"))
            out.append("\n")
        for note in failure.notes:
            out.append(f"note, attempt {note.attempt}: ", style="bold")
            out.append_text(literal(note.text, lines=True))
            out.append("\n")
        detail.update(out or Text("no output", style="dim"))

    def _selected_failure(self) -> Failure | None:
        if self.review is None or not self.review.jobs.failures:
            return None
        table = self.query_one("#review-failures", DataTable)
        return self.review.jobs.failures[min(table.cursor_row, len(self.review.jobs.failures) - 1)]

    # -- answering --------------------------------------------------------------------------

    async def action_answer(self, action: str) -> None:
        """Carry the selected unfinished task to tomorrow, send it to the backlog, or drop it."""
        if self.review is None or not self.review.unfinished:
            return
        table = self.query_one("#review-unfinished", DataTable)
        work = self.review.unfinished
        index = min(table.cursor_row, len(work) - 1)
        tomorrow = tomorrow_start(self.day, self.blocks)
        op = review.decide(work[index].id, action, self.day.isoformat(), self.fq.clock(), tomorrow)
        if await self._run(op) is None:
            return
        # On to the next task (the order does not change with answers).
        await self.load(select=work[min(index + 1, len(work) - 1)].id)

    def action_note(self) -> None:
        """Write a note on the selected failure; it shows in later reviews of the task."""
        failure = self._selected_failure()
        if failure is None:
            self.notify("no failure to write about", severity="warning")
            return
        screen = CaptureScreen(
            f"A note on #{failure.task_id} {failure.title} (attempt {failure.attempt})",
            "what went wrong, what to try next",
        )
        self.app.push_screen(screen, lambda text: self._noted(failure, text))

    async def _noted(self, failure: Failure, text: str | None) -> None:
        if not text:
            return
        op = review.note_failure(failure.task_id, failure.attempt, text, self.fq.clock())
        await self._run(op)
        await self.load()

    async def action_close_day(self) -> None:
        """Close the day (asking first when some work has no answer yet)."""
        if self.review is None:
            return
        if self.review.closed_at is not None:
            self.notify("this day is already closed")
            return
        open_ones = sum(u.answer is None for u in self.review.unfinished)
        if open_ones:
            question = f"{open_ones} unfinished tasks have no answer. Close the day anyway?"
            self.app.push_screen(ConfirmScreen(question), self._close_answered)
            return
        await self._close()

    async def _close_answered(self, yes: bool | None) -> None:
        if yes:
            await self._close()

    async def _close(self) -> None:
        if await self._run(review.close_day(self.day.isoformat(), self.fq.clock())) is None:
            return
        await self.load()
        self.notify(f"{day_title(self.review)} closed" if self.review else "closed")

    def action_export(self) -> None:
        """Write the review as Markdown, timeline included, to the data folder."""
        if self.review is None:
            return
        folder = os.path.join(self.fq.paths.home, "reviews")
        path = os.path.join(folder, f"{self.review.day}.md")
        partial = f"{path}.part"
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(to_markdown(self.review))
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, path)  # a full disk leaves the last good export, not half
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            self.notify(f"could not write {path}: {exc.strerror}", severity="error", markup=False)
            return
        self.notify(f"written to {path}", markup=False)

    async def action_day(self, step: int) -> None:
        """Show the day before or after (up to today)."""
        day = self.day + timedelta(days=step)
        if day > date.fromtimestamp(self.fq.clock()):
            self.notify("that day has not happened yet")
            return
        self.day = day
        await self.load()

    def action_back(self) -> None:
        """Back to the day."""
        self.dismiss()
