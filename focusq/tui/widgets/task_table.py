"""The task list: open tasks in the order they will be taken."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

_KIND = {"mechanical": "job", "creative": "make"}
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
        """Replace the rows, keeping the cursor on the same task when it is still listed."""
        selected = self.selected_id
        self.clear()
        for task in tasks:
            title = Text(task["title"])
            for tag in task["tags"]:
                title.append(f" +{tag}", style="dim")
            if task["project"]:
                title.append(f" project:{task['project']}", style="dim")
            self.add_row(
                str(task["id"]),
                _KIND[task["kind"]],
                task["priority"],
                Text(task["status"], style=_STATUS_STYLE.get(task["status"], "")),
                title,
                key=str(task["id"]),
            )
        if selected is not None and str(selected) in self.rows:
            self.move_cursor(row=self.get_row_index(str(selected)))

    @property
    def selected_id(self) -> int | None:
        """The id of the task under the cursor."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return int(key) if key is not None else None
