"""The task list: open tasks in the order they will be taken."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from focusq.tui.text import literal

_KIND = {"mechanical": "job", "creative": "make"}


def _cells(task: dict[str, Any]) -> tuple[Text, ...]:
    title = literal(task["title"])
    for tag in task["tags"]:
        title.append_text(literal(f" +{tag}", "dim"))
    if task["project"]:
        title.append_text(literal(f" project:{task['project']}", "dim"))
    return (
        Text(str(task["id"])),
        Text(_KIND[task["kind"]]),
        Text(task["priority"]),
        Text(task["status"], style=_STATUS_STYLE.get(task["status"], "")),
        title,
    )


_STATUS_STYLE = {
    "running": "bold",
    "paused": "italic",
    "failed": "bold red",
    "waiting": "italic",
    "held": "dim",
}


class TaskTable(DataTable[Any]):
    """One row per task; the row key is the task id."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = False
        self.add_column("ID", key="id")
        self.add_column("Kind", key="kind")
        self.add_column("P", key="priority")
        self.add_column("Status", key="status")
        self.add_column("Title", key="title")

    def show_tasks(self, tasks: list[dict[str, Any]]) -> None:
        """Bring the rows in line with ``tasks``, touching only what changed.

        A fresh table of a thousand rows costs a full re-measure of every cell; changing
        the few rows a database change touched keeps live updates quick.
        """
        selected = self.selected_id
        wanted = {str(task["id"]): _cells(task) for task in tasks}
        order = {key: index for index, key in enumerate(wanted)}
        for row_key in list(self.rows):
            if row_key.value not in wanted:
                self.remove_row(row_key)
        for key, cells in wanted.items():
            if key not in self.rows:
                self.add_row(*cells, key=key)
                continue
            for column, cell in zip(self.columns, cells, strict=True):
                if self.get_cell(key, column) != cell:
                    # "queued" becoming "running" widens the column rather than losing a letter
                    self.update_cell(key, column, cell, update_width=True)
        current = [row.key.value for row in self.ordered_rows]
        if current != list(wanted):
            self.sort("id", key=lambda cell: order[str(cell)])
        if selected is not None and str(selected) in wanted:
            self.move_cursor(row=self.get_row_index(str(selected)))

    @property
    def selected_id(self) -> int | None:
        """The id of the task under the cursor."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return int(key) if key is not None else None
