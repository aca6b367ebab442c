"""A batch of interruptions, delivered together: read them, act on them, back to work."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static


class BatchScreen(ModalScreen[tuple[str, dict[str, Any]] | None]):
    """Dismisses with ``(action, item)``: ``enter`` opens, ``t`` makes a task; else ``None``."""

    CSS_PATH = "batch.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "act('open')", "Open", id="batch.open", tooltip="Go to the item's task"),
        Binding(
            "t", "act('task')", "Make task", id="batch.task", tooltip="Turn the note into a task"
        ),
        Binding("r", "act('retry')", "Retry", id="batch.retry", tooltip="Retry the item's job"),
        Binding("A", "act('approve')", "Approve", id="batch.approve", tooltip="Approve the job"),
        Binding("x", "dismiss_item", "Dismiss", id="batch.dismiss", tooltip="Dismiss this item"),
        Binding("escape,d", "close", "Done", id="batch.close", tooltip="Back to work"),
    ]
    """| key | action |
    | --- | --- |
    | enter | go to the item's task |
    | t | make a task of the item |
    | r | retry the item's job |
    | A | approve the item's job |
    | x | dismiss the item |
    | escape, d | done with the batch |
    """

    def __init__(self, items: list[dict[str, Any]], reason: str) -> None:
        super().__init__()
        self.items = items
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(id="batch"):
            count = len(self.items)
            yield Static(
                f"{count} interruption{'s' if count != 1 else ''} ({self.reason})", id="batch-title"
            )
            table: DataTable[str] = DataTable(cursor_type="row", id="batch-items")
            table.add_columns("time", "", "what")
            for item in self.items:
                when = datetime.fromtimestamp(item["at"]).strftime("%H:%M")
                table.add_row(
                    when, "!" if item["urgent"] else "", item["text"], key=str(item["id"])
                )
            yield table

    def _current(self) -> dict[str, Any] | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return self.items[table.cursor_row]

    @on(DataTable.RowSelected)
    def _selected(self, _: DataTable.RowSelected) -> None:
        # The table takes enter for itself: a selected row is the open binding.
        self.action_act("open")

    def action_act(self, action: str) -> None:
        """Leave the batch to act on the item under the cursor."""
        item = self._current()
        if item is not None:
            self.dismiss((action, item))

    def action_dismiss_item(self) -> None:
        """Drop the item under the cursor from the batch."""
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        index = table.cursor_row
        table.remove_row(str(self.items[index]["id"]))
        del self.items[index]
        if not self.items:
            self.dismiss(None)

    def action_close(self) -> None:
        """Back to work."""
        self.dismiss(None)
