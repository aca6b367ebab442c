"""Pick one task from a short list (the job a task waits on)."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from focusq.tui.text import literal


class PickScreen(ModalScreen[int | None]):
    """Dismisses with the picked task's id (enter), or ``None`` (escape)."""

    CSS_PATH = "batch.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Close", id="pick.close", tooltip="Pick nothing"),
        Binding("j", "cursor(1)", "Down", id="pick.down", tooltip="Next row", show=False),
        Binding("k", "cursor(-1)", "Up", id="pick.up", tooltip="Previous row", show=False),
    ]
    """| key | action |
    | --- | --- |
    | enter | pick |
    | j / k, arrows | move |
    | escape | close |
    """

    def __init__(self, question: str, tasks: list[dict[str, Any]]) -> None:
        super().__init__()
        self.question = question
        self.tasks = tasks

    def compose(self) -> ComposeResult:
        with Vertical(id="batch"):
            yield Static(literal(self.question), id="batch-title")
            table: DataTable[Text] = DataTable(cursor_type="row", id="batch-items")
            table.add_columns("id", "status", "title")
            for task in self.tasks:
                cells = (str(task["id"]), task["status"], task["title"])
                table.add_row(*map(literal, cells), key=str(task["id"]))
            yield table

    @on(DataTable.RowSelected)
    def _picked(self, event: DataTable.RowSelected) -> None:
        self.dismiss(int(str(event.row_key.value)))

    def action_cursor(self, step: int) -> None:
        """Move the cursor."""
        table = self.query_one(DataTable)
        table.move_cursor(row=table.cursor_row + step)

    def action_cancel(self) -> None:
        """Pick nothing."""
        self.dismiss(None)
