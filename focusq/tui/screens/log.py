"""A job's log: from the end of the file, following while the job runs, searchable."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from focusq.tui.text import literal
from focusq.tui.widgets.log_view import LogView
from focusq.tui.widgets.text_input import TextInput


class LogScreen(Screen[None]):
    """The log of one run; ``/`` searches, ``n`` finds the next match, ``escape`` goes back."""

    CSS_PATH = "log.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="log.close", tooltip="Back to the day"),
        Binding("slash", "search", "Search", id="log.search", tooltip="Find text in the log"),
        Binding("n", "next_match", "Next", id="log.next", tooltip="Find the next match"),
        Binding("G,end", "end", "End", id="log.end", tooltip="Jump to the end and follow"),
    ]
    """| key | action |
    | --- | --- |
    | escape, q | back |
    | / | search |
    | n | next match |
    | G, end | jump to the end |
    """

    def __init__(self, title: str, path: str) -> None:
        super().__init__()
        self.title_text = title
        self.path = path
        self.needle = ""
        self.match = -1

    def compose(self) -> ComposeResult:
        yield Static(literal(f"{self.title_text}  ·  {Path(self.path).name}"), id="log-title")
        yield LogView(self.path, id="log-view")
        yield TextInput(placeholder="search the log", id="log-search")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#log-search").display = False
        self.follow()

    @work(exclusive=True, group="follow-log")
    async def follow(self) -> None:
        """Append what the job writes, woken by watchfiles on the log's folder."""
        from watchfiles import awatch

        name = Path(self.path).name
        async for _ in awatch(
            Path(self.path).parent,
            watch_filter=lambda _c, p: Path(p).name == name,
            recursive=False,
            debounce=100,
            step=50,
        ):
            self.query_one(LogView).load_new()

    def action_close(self) -> None:
        """Back to where the log was opened from."""
        self.dismiss()

    def action_search(self) -> None:
        """Show the search box."""
        box = self.query_one("#log-search", Input)
        box.display = True
        box.focus()

    @on(Input.Submitted, "#log-search")
    def _searched(self, event: Input.Submitted) -> None:
        self.needle = event.value
        self.match = -1
        event.input.display = False
        self.query_one(LogView).focus()
        self.action_next_match()

    def action_next_match(self) -> None:
        """Scroll to the next line holding the search text."""
        if not self.needle:
            return
        view = self.query_one(LogView)
        found = view.find(self.needle, self.match + 1)
        if found is None:
            found = view.find(self.needle, 0)
        if found is None:
            self.notify(f"'{self.needle}' is not in the log", severity="warning", markup=False)
            return
        self.match = found
        view.scroll_to(y=found, animate=False)
        self.notify(f"line {found + 1}", timeout=1.5)

    def action_end(self) -> None:
        """Back to the end, following new lines."""
        view = self.query_one(LogView)
        view.auto_scroll = True
        view.scroll_end(animate=False)
