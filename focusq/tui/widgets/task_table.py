"""The task list: open tasks in the order they will be taken."""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual.color import Color, ColorParseError
from textual.widgets import DataTable

from focusq.tui.text import literal

KIND_LABELS = {"mechanical": "job", "creative": "you"}
"""The Kind column: a job runs by itself; the rest is yours to do (as ``focusq ls`` says)."""

_STATUS_STYLE = {
    "running": ("bold", ""),
    "paused": ("italic", ""),
    "failed": ("bold", "text-error"),
    "waiting": ("italic", ""),
    "held": ("italic", ""),
}
"""A status's text style and the theme variable of its colour ("": the table's own)."""

_EXTRA = "text-secondary"
"""The theme variable coloring a title's tags and project."""


def _cells(task: dict[str, Any], colours: dict[str, str]) -> tuple[Text, ...]:
    """The row of ``task``, coloured from the theme's ``colours`` (its variables)."""

    def style(text_style: str, variable: str) -> Style:
        try:
            colour = Color.parse(colours[variable]).rich_color if variable else None
        except (KeyError, ColorParseError):
            colour = None
        return Style.parse(text_style) + Style(color=colour)

    title = literal(task["title"])
    extra = [f" +{tag}" for tag in task["tags"]]
    if task["project"]:
        extra.append(f" project:{task['project']}")
    for words in extra:
        part = literal(words)
        part.stylize(style("", _EXTRA))
        title.append_text(part)
    status = Text()
    status.append(task["status"], style(*_STATUS_STYLE.get(task["status"], ("", ""))))
    return (
        Text(str(task["id"])),
        Text(KIND_LABELS[task["kind"]]),
        Text(task["priority"]),
        status,
        title,
    )


class TaskTable(DataTable[Any]):
    """One row per task; the row key is the task id."""

    def on_mount(self) -> None:
        self._tasks: list[dict[str, Any]] = []
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._recolour())
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
        self._tasks = tasks
        selected = self.selected_id
        colours = self.app.theme_variables
        wanted = {str(task["id"]): _cells(task, colours) for task in tasks}
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

    def _recolour(self) -> None:
        # A theme's colours are baked into the cells: a new theme draws them again.
        self.show_tasks(self._tasks)

    @property
    def selected_id(self) -> int | None:
        """The id of the task under the cursor."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return int(key) if key is not None else None
