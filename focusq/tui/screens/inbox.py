"""Today's inbox, at any time: what is held and what was delivered, with the batch's keys."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.widgets import DataTable, Static

from focusq.focus.batch import Line
from focusq.tui.messages import DatabaseChanged
from focusq.tui.screens.batch import MARKS, Act, BatchScreen, CssPaths

Reload = Callable[[], Awaitable[tuple[list[Line], list[str]]]]
"""Reads the inbox's lines and their states again."""


SHOWN = {"held": "for later"}
"""A state as the inbox shows it: ``held`` is a task's state (``--json`` keeps the name)."""


class InboxScreen(BatchScreen):
    """Every line of today's interruptions, each with its state (held, due, delivered).

    Held items stay held: looking at them here does not deliver them, but a dismissal,
    a retry or an approval made here is what their batch shows later (or leaves out).
    It reads the inbox again when the database changes (a capture from a shell, a job
    that failed); what came due while it was open is delivered once it closes.
    """

    CSS_PATH: ClassVar[CssPaths] = ["batch.tcss", "inbox.tcss"]

    def __init__(
        self,
        lines: Sequence[Line],
        states: Sequence[str],
        dismissed: int,
        act: Act,
        reload: Reload | None = None,
    ) -> None:
        super().__init__(lines, "today", act)
        self.states = list(states)
        self.dismissed = dismissed
        self.reload = reload
        self._mark_dismissed()

    def _mark_dismissed(self) -> None:
        for index, state in enumerate(self.states):
            if state == "dismissed":
                self.marks.setdefault(index, MARKS["dismiss"])

    def heading(self) -> str:
        held = sum(s in ("held", "due") for s in self.states)
        left = self.undecided()
        parts = [f"{left} to decide" if left else "nothing to decide", f"{held} for later"]
        if self.dismissed or self.marks:
            parts.append(f"{self.dismissed + len(self.marks)} dealt with")
        return f"Today's inbox: {' · '.join(parts)}"

    def state_of(self, index: int) -> str:
        state = self.states[index] if index < len(self.states) else ""
        return SHOWN.get(state, state)

    def keep(self, ids: set[int]) -> None:
        """The inbox is not a delivery: it keeps every row."""

    @on(DatabaseChanged)
    def _database_changed(self) -> None:
        self.read_again()

    @work(exclusive=True, group="inbox-reload")
    async def read_again(self) -> None:
        """Show the inbox as it is now; rows acted on here keep their marks."""
        if self.reload is None:
            return
        lines, states = await self.reload()
        table = self.query_one(DataTable)
        at = self._index()
        current = tuple(self.lines[at].ids) if at is not None and at < len(self.lines) else None
        marked = {tuple(self.lines[i].ids): mark for i, mark in self.marks.items()}
        self.lines, self.states = lines, states
        self.marks = {
            i: marked[tuple(line.ids)] for i, line in enumerate(lines) if tuple(line.ids) in marked
        }
        self._mark_dismissed()
        table.clear()
        for index in range(len(self.lines)):
            table.add_row(*self._cells(index), key=str(index))
        ids = [tuple(line.ids) for line in self.lines]
        if current in ids:
            table.move_cursor(row=ids.index(current))
        elif at is not None and self.lines:
            table.move_cursor(row=min(at, len(self.lines) - 1))
        self._redraw_title()

    def _redraw_title(self) -> None:
        self.query_one("#batch-title", Static).update(Text(self.heading()))
        self.refresh_bindings()
