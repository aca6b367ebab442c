"""The selected task in full: its record, its runs and its last log lines."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.widgets import Static

from focusq.cli.output import task_detail
from focusq.errors import FocusqError
from focusq.store.ops import jobs, tasks
from focusq.tui.text import literal

if TYPE_CHECKING:
    from focusq.tui.app import FocusqApp

EMPTY = "Nothing here yet.\n\nPress [b]a[/b] to add a task."


class DetailPane(Static):
    """The detail pane beside the task list. Its reads are its own work: they end with it,
    so a read still under way when the app closes never fills a pane that is gone."""

    @work(exclusive=True, group="detail")
    async def show_task(self, task_id: int | None) -> None:
        """Fill the pane with task ``task_id`` (``None``: the list is empty)."""
        if task_id is None:
            self.update(EMPTY)
            return
        app: FocusqApp = self.app  # type: ignore[assignment]
        try:
            record = await app.store.run(tasks.get_task(task_id))
            runs = await app.store.run(jobs.runs_of(task_id))
        except FocusqError:
            return
        self.update(literal(task_detail(record, runs), lines=True))
