"""Quick-add (and edit) in one input, previewing the parsed task as you type."""

from __future__ import annotations

import os
import re
import shlex
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from focusq import quickadd
from focusq.durations import format_duration
from focusq.engine.placement import executor_of, place
from focusq.errors import FocusqError, UserError
from focusq.quickadd import TaskDraft, command_text
from focusq.review.planned import Ratio, planned, ratios, suggestion
from focusq.store.ops import focus, review, tasks
from focusq.tui.text import literal
from focusq.tui.widgets.text_input import TextInput

if TYPE_CHECKING:
    from focusq.tui.app import FocusqApp

SUGGEST_DAYS = 28
"""Quick-add suggests an estimate from the tasks finished in this many days."""


_COMMAND = re.compile(r"(?:^|\s)--(?:\s|$)")
"""Where a quick-add line's command begins: ``--`` as a word of its own."""


def parse_line(line: str, *, editing: bool = False) -> TaskDraft:
    """A quick-add line as typed: its words as ``focusq add "LINE"`` takes them (an
    apostrophe is an apostrophe), and after ``--`` a command, quoted like a shell's."""
    found = _COMMAND.search(line)
    head, tail = (line[: found.start()], line[found.end() :]) if found else (line, None)
    command = None
    if tail is not None:
        try:
            command = shlex.split(tail)
        except ValueError as exc:
            raise UserError(f"unbalanced quotes in the command: {exc}") from None
    words = [head] if head.strip() else []
    draft = quickadd.parse(words, command, now=time.time(), editing=editing)
    if draft.command is not None:
        draft.cwd = os.getcwd()
        if not editing:  # the job runs with this process's environment, as from a shell
            draft.environ = dict(os.environ)
    return draft


def describe(draft: TaskDraft) -> Text:
    """One line saying what the draft will become (what was typed shows as typed)."""
    out = Text(draft.kind or "unchanged", style="bold")
    if draft.title:
        out.append_text(literal(f'  "{draft.title}"'))
    if draft.command is not None:
        out.append("  runs ")
        out.append_text(literal(command_text(draft.command), "italic"))
        out.append_text(literal(f" in {Path(draft.cwd or '.').name}/"))
    parts = [f"+{t}" for t in draft.tags] + [f"-{t}" for t in draft.untags]
    for label, value in (
        ("project", draft.project),
        ("pri", draft.priority),
        ("group", draft.group),
        ("gate", draft.gate),
    ):
        if value:
            parts.append(f"{label}:{value}")
    if draft.estimate:
        parts.append(f"est {format_duration(draft.estimate)}")
    if draft.timeout:
        parts.append(f"timeout {format_duration(draft.timeout)}")
    if draft.after:
        parts.append("after " + ",".join(f"#{i}" for i in draft.after))
    if draft.locks:
        parts.append("lock " + ",".join(draft.locks))
    if draft.retries:
        parts.append(f"retry {draft.retries}")
    if parts:
        out.append_text(literal("  " + "  ".join(parts)))
    return out


def suggestion_line(week: list[Ratio], draft: TaskDraft) -> str:
    """What past work says of the draft's estimate (``""`` when its tags and project have
    no finished, estimated work to go by)."""
    found = suggestion(week, draft.tags, draft.project, draft.estimate)
    if found is None:
        return ""
    ratio, scaled = found
    if scaled is not None:
        return (
            f"{ratio.name} takes {ratio.ratio:.1f}x your estimates: "
            f"est:{format_duration(round(scaled / 60) * 60)} is likelier"
        )
    average = round(ratio.actual_seconds / ratio.tasks / 60) * 60
    return f"{ratio.name} took {format_duration(average)} a task: est:{format_duration(average)}?"


class QuickAddScreen(ModalScreen[TaskDraft | None]):
    """Dismisses with the parsed draft, or ``None`` on ``escape`` (and after ``ctrl+f``,
    which adds the task and focuses on it itself)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Close", id="quickadd.close", tooltip="Close without adding"),
        Binding(
            "ctrl+f",
            "add_and_focus",
            "Add and focus",
            id="quickadd.focus",
            tooltip="Add the task and put it in the focus slot",
        ),
    ]
    """| key | action |
    | --- | --- |
    | enter | add (or save the edit) |
    | ctrl+f | add and focus on it (ends the session in focus) |
    | escape | close |
    """

    CSS_PATH = "quickadd.tcss"

    def __init__(self, title: str = "Quick add", value: str = "", editing: bool = False) -> None:
        super().__init__()
        self.heading = title
        self.value = value
        self.editing = editing
        self.ratios: list[Ratio] = []
        """Estimate ratios per tag and project over :data:`SUGGEST_DAYS` days."""

    @property
    def fq(self) -> FocusqApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Vertical(id="quickadd"):
            yield Static(literal(self.heading), id="quickadd-title")
            yield TextInput(
                value=self.value,
                placeholder="write the launch post +blog pri:H est:90m   or   build -- make",
                id="quickadd-input",
            )
            yield Static("", id="quickadd-preview")
            yield Static(
                "+tag project:X pri:H|M|L est:30m after:ID lock:KEY timeout:10m retry:N "
                "group:X gate:approve at:HH:MM  -- command",
                id="quickadd-help",
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._preview(self.value)
        if not self.editing:
            self._load_ratios()

    @work(exclusive=True, group="quickadd-ratios")
    async def _load_ratios(self) -> None:
        """Read how past estimates compared with the time taken, then preview again."""
        now = self.fq.clock()
        history = await self.fq.store.run(review.done_history(now - SUGGEST_DAYS * 86400, now))
        self.ratios = ratios(planned(history, now).tasks)
        if self.ratios:
            self._preview(self.query_one(Input).value)

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._preview(event.value)

    def _preview(self, line: str) -> None:
        preview = self.query_one("#quickadd-preview", Static)
        if not line.strip():
            preview.update("")
            preview.set_class(False, "error")
            return
        try:
            draft = self._parse(line)
        except UserError as exc:
            preview.update(literal(str(exc)))
            preview.set_class(True, "error")
        else:
            shown = describe(draft)
            hint = suggestion_line(self.ratios, draft) if not self.editing else ""
            if hint:
                shown.append("\n")
                shown.append_text(literal(hint, "italic"))
            preview.update(shown)
            preview.set_class(False, "error")

    def _parse(self, line: str) -> TaskDraft:
        """The line as a draft, placed as ``focusq add`` places it: its executor checked
        and, for a new job, its implicit worktree lock added."""
        draft = parse_line(line, editing=self.editing)
        if not self.editing:
            place(draft, self.fq.settings)
        elif draft.executor or draft.resources or draft.hosts:
            executor_of(draft, self.fq.settings)
        return draft

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            draft = self._parse(event.value)
        except UserError:
            return  # the error is on screen already
        self.dismiss(draft)

    async def action_add_and_focus(self) -> None:
        """Add the task and put it in the focus slot (ending the session there, if any)."""
        if self.editing:
            return
        preview = self.query_one("#quickadd-preview", Static)
        try:
            draft = self._parse(self.query_one(Input).value)
        except UserError:
            return  # the error is on screen already
        if draft.command is not None:
            preview.update("a job does not take the focus slot: add it with enter")
            preview.set_class(True, "error")
            return
        app, now = self.fq, self.fq.clock()
        minutes = app.settings.focus.default_minutes
        try:
            task_id: Any = await app.store.run(tasks.add_task(draft, now))
            await app.store.run(focus.start_focus(task_id, now, minutes, switch=True))
        except FocusqError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.notify(f"focus on #{task_id} {draft.title}", markup=False)
        self.dismiss(None)

    def action_cancel(self) -> None:
        """Close without adding."""
        self.dismiss(None)
