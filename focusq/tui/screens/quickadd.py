"""Quick-add (and edit) in one input, previewing the parsed task as you type."""

from __future__ import annotations

import os
import shlex
import time
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from focusq import quickadd
from focusq.durations import format_duration
from focusq.errors import UserError
from focusq.quickadd import TaskDraft, command_text
from focusq.tui.text import literal
from focusq.tui.widgets.text_input import TextInput


def parse_line(line: str, *, editing: bool = False) -> TaskDraft:
    """A quick-add line as typed (``-- cmd`` splits off the command, quoted like a shell)."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise UserError(f"unbalanced quotes: {exc}") from None
    command = None
    if "--" in words:
        cut = words.index("--")
        words, command = words[:cut], words[cut + 1 :]
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


class QuickAddScreen(ModalScreen[TaskDraft | None]):
    """Dismisses with the parsed draft, or ``None`` on ``escape``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Close", id="quickadd.close", tooltip="Close without adding"),
    ]
    """| key | action |
    | --- | --- |
    | enter | add (or save the edit) |
    | escape | close |
    """

    CSS_PATH = "quickadd.tcss"

    def __init__(self, title: str = "Quick add", value: str = "", editing: bool = False) -> None:
        super().__init__()
        self.heading = title
        self.value = value
        self.editing = editing

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
            draft = parse_line(line, editing=self.editing)
        except UserError as exc:
            preview.update(literal(str(exc)))
            preview.set_class(True, "error")
        else:
            preview.update(describe(draft))
            preview.set_class(False, "error")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            draft = parse_line(event.value, editing=self.editing)
        except UserError:
            return  # the error is on screen already
        self.dismiss(draft)

    def action_cancel(self) -> None:
        """Close without adding."""
        self.dismiss(None)
