"""A batch of interruptions, delivered together: work through it in place, back to work.

The batch shows the state of things now (:func:`focusq.focus.batch.fold`): what needs a
decision first, routine items folded into one line each. Acting on a row (retry, approve,
make a task, dismiss, open) does it at once and marks the row; the screen stays until
``escape``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import PurePath
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from focusq.focus.batch import Line
from focusq.tui.text import literal

Act = Callable[[str, Line], Awaitable[str | None]]
"""Does ``action`` to a line; returns how to mark the row, or ``None`` if nothing was done."""

CssPaths = str | PurePath | list[str | PurePath] | None
"""What ``CSS_PATH`` may be (as Textual declares it), so a subclass may add a file."""

MARKS = {"retry": "retried", "approve": "approved", "dismiss": "dismissed"}
"""How a row is marked after an action (``task`` says which task it made)."""


class BatchScreen(ModalScreen[None]):
    """The lines of one batch; each key acts on the row under the cursor, in place."""

    CSS_PATH: ClassVar[CssPaths] = "batch.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "act('retry')", "Retry", id="batch.retry", tooltip="Retry the failed job"),
        Binding("A", "act('approve')", "Approve", id="batch.approve", tooltip="Approve the job"),
        Binding(
            "t", "act('task')", "Make task", id="batch.task", tooltip="Make a task of the note"
        ),
        Binding("x", "act('dismiss')", "Dismiss", id="batch.dismiss", tooltip="Dismiss the row"),
        Binding("enter", "act('open')", "Open", id="batch.open", tooltip="Go to the row's task"),
        Binding("j", "cursor(1)", "Down", id="batch.down", tooltip="Next row", show=False),
        Binding("k", "cursor(-1)", "Up", id="batch.up", tooltip="Previous row", show=False),
        Binding("escape,d", "close", "Done", id="batch.close", tooltip="Back to work"),
    ]
    """| key | action |
    | --- | --- |
    | r | retry the row's failed job |
    | A | approve the row's job |
    | t | make a task of the note |
    | x | dismiss the row (saved) |
    | enter | go to the row's task (its log, for a job) |
    | j / k, arrows | move |
    | escape, d | done with the batch |
    """

    def __init__(self, lines: Sequence[Line], reason: str, act: Act) -> None:
        super().__init__()
        self.lines = list(lines)
        self.reason = reason
        self.act = act
        self.marks: dict[int, str] = {}
        """Row index -> what was done to it."""
        self.shown = asyncio.Event()
        """Set once the screen has been drawn: only then is the batch delivered."""

    # -- what is shown ----------------------------------------------------------------------

    def undecided(self) -> int:
        """How many rows ask for a decision and have had none yet."""
        return sum(line.decision and i not in self.marks for i, line in enumerate(self.lines))

    def heading(self) -> str:
        """The title line: what is left to decide, and why the batch came."""
        left = self.undecided()
        done = len(self.marks)
        parts = [f"{left} to decide" if left else "nothing to decide"]
        if done:
            parts.append(f"{done} done")
        return f"Interruptions: {' · '.join(parts)} ({self.reason})"

    def state_of(self, index: int) -> str:
        """The state column (the inbox shows one; a batch is all delivered)."""
        return ""

    def compose(self) -> ComposeResult:
        with Vertical(id="batch"):
            yield Static(Text(self.heading()), id="batch-title")
            table: DataTable[Text] = DataTable(cursor_type="row", id="batch-items")
            table.add_column("time", key="time")
            table.add_column("", key="flag")
            table.add_column("what", key="what")
            table.add_column("", key="mark")
            for index in range(len(self.lines)):
                table.add_row(*self._cells(index), key=str(index))
            yield table
        yield Footer()

    def on_mount(self) -> None:
        self.call_after_refresh(self._drawn)

    def _drawn(self) -> None:
        # A screen whose compose failed still mounts, empty, while the app ends: not shown.
        if self.query("#batch-items"):
            self.shown.set()

    def _cells(self, index: int) -> tuple[Text, Text, Text, Text]:
        line = self.lines[index]
        when = datetime.fromtimestamp(line.at).strftime("%H:%M")
        flag = "!" if line.urgent else ("?" if line.decision else "")
        state = self.state_of(index)
        mark = self.marks.get(index, "")
        what = literal(line.text, style="dim" if mark else "")
        # Once a row is acted on, what was done says more than the state it was in.
        return Text(when), Text(flag), what, Text(mark or state)

    def _redraw(self, index: int) -> None:
        table = self.query_one(DataTable)
        for key, cell in zip(("time", "flag", "what", "mark"), self._cells(index), strict=True):
            table.update_cell(str(index), key, cell, update_width=True)
        self.query_one("#batch-title", Static).update(Text(self.heading()))
        self.refresh_bindings()

    # -- acting -----------------------------------------------------------------------------

    def _index(self) -> int | None:
        table = self.query_one(DataTable)
        return table.cursor_row if table.row_count else None

    def _still(self, index: int) -> tuple[str, ...]:
        """What may still be done to a row: nothing more once dismissed; one decision each."""
        mark = self.marks.get(index)
        actions = self.lines[index].actions
        if mark == MARKS["dismiss"]:
            return ()
        if mark is not None:
            return tuple(a for a in actions if a in ("open", "dismiss"))
        return actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action != "act" or not self.is_mounted:
            return True
        index = self._index()
        if index is None or parameters[0] not in self._still(index):
            return None  # shown greyed out: not for this row
        return True

    @on(DataTable.RowHighlighted)
    def _moved(self, _: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    @on(DataTable.RowSelected)
    async def _selected(self, _: DataTable.RowSelected) -> None:
        # The table takes enter for itself: a selected row is the open binding.
        await self.action_act("open")

    async def action_act(self, action: str) -> None:
        """Do ``action`` to the row under the cursor; the row is marked, the screen stays."""
        index = self._index()
        if index is None or action not in self._still(index):
            return
        mark = await self.act(action, self.lines[index])
        if mark is None or action == "open":
            return
        self.marks[index] = mark
        self._redraw(index)

    def keep(self, ids: set[int]) -> None:
        """Keep only the rows with items in ``ids`` (another delivery took the others first)."""
        kept = [line for line in self.lines if set(line.ids) & ids]
        if len(kept) == len(self.lines):
            return
        if not kept:
            self.dismiss(None)
            return
        self.lines, self.marks = kept, {}
        table = self.query_one(DataTable)
        table.clear()
        for index in range(len(self.lines)):
            table.add_row(*self._cells(index), key=str(index))
        self.query_one("#batch-title", Static).update(Text(self.heading()))

    def action_cursor(self, step: int) -> None:
        """Move the cursor."""
        table = self.query_one(DataTable)
        table.move_cursor(row=table.cursor_row + step)

    def action_close(self) -> None:
        """Back to work."""
        self.dismiss(None)
