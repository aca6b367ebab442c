"""Every key binding, where it works and what it does: one scrolling list, filtered as you type."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from focusq.tui.text import literal
from focusq.tui.widgets.text_input import TextInput

HelpRow = tuple[str, str, str, str]
"""``(keys, action, what it does, keymap id)``, as the help lists them."""


def matching(rows: list[HelpRow], query: str) -> list[HelpRow]:
    """The rows any of whose cells hold every word of ``query`` (case ignored)."""
    words = query.lower().split()
    return [row for row in rows if all(w in " ".join(row).lower() for w in words)]


class HelpScreen(ModalScreen[None]):
    """Lists the bindings of the app and of the screen below, with their ids for ``[keymap]``.

    The list is the only thing that scrolls, so every row can be reached at any size;
    what is typed goes to the filter, which narrows the rows.
    """

    CSS_PATH = "help.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="help.close", tooltip="Close help"),
        Binding(
            "question_mark",
            "close",
            "Close",
            id="help.close_again",
            tooltip="Close help (? is never typed into the filter)",
            priority=True,
        ),
        Binding("down", "scroll(1)", "Down", id="help.down", tooltip="Scroll down a row"),
        Binding("up", "scroll(-1)", "Up", id="help.up", tooltip="Scroll up a row"),
        Binding("pagedown", "page(1)", "Page down", id="help.page_down", tooltip="A page down"),
        Binding("pageup", "page(-1)", "Page up", id="help.page_up", tooltip="A page up"),
    ]
    """| key | action |
    | --- | --- |
    | any letter | filter the rows |
    | down / up, pagedown / pageup, mouse wheel | scroll |
    | escape, ? | close |
    """

    def __init__(self, bindings: list[HelpRow]) -> None:
        super().__init__()
        self.rows = bindings

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static(self._title(len(self.rows)), id="help-title")
            yield TextInput(placeholder="type to filter: key, action, id", id="help-filter")
            with VerticalScroll(id="help-rows", can_focus=False):
                yield Static(self._table(self.rows), id="help-table")
            yield Static(
                literal('Remap any key in config.toml: [keymap] "task.cancel" = "ctrl+x"'),
                id="help-hint",
            )

    def on_mount(self) -> None:
        self.query_one("#help-filter").focus()

    def _title(self, shown: int) -> Text:
        count = f"{len(self.rows)}" if shown == len(self.rows) else f"{shown} of {len(self.rows)}"
        title = Text.assemble(("Keys", "bold"), f" · {count}")
        title.append("   type to filter · ↑↓ PgUp PgDn scroll · esc closes", style="italic")
        return title

    def _table(self, rows: list[HelpRow]) -> Table | Text:
        if not rows:
            return Text("No key matches the filter.", style="italic")
        table = Table(box=None, expand=True, pad_edge=False, padding=(0, 1), show_edge=False)
        table.add_column("key", no_wrap=True)
        table.add_column("action", no_wrap=True)
        table.add_column("what it does", ratio=1)
        table.add_column("keymap id", no_wrap=True)
        for row in rows:
            # Keys come from the user's keymap: "[" is a key, not markup.
            table.add_row(*map(literal, row))
        return table

    @on(Input.Changed, "#help-filter")
    def _filter(self, event: Input.Changed) -> None:
        rows = matching(self.rows, event.value)
        self.query_one("#help-title", Static).update(self._title(len(rows)))
        self.query_one("#help-table", Static).update(self._table(rows))
        self.query_one("#help-rows", VerticalScroll).scroll_home(animate=False)

    def action_scroll(self, step: int) -> None:
        """Scroll the list by ``step`` rows."""
        rows = self.query_one("#help-rows", VerticalScroll)
        rows.scroll_to(y=rows.scroll_y + step, animate=False)

    def action_page(self, step: int) -> None:
        """Scroll the list by ``step`` pages."""
        rows = self.query_one("#help-rows", VerticalScroll)
        page = max(1, rows.scrollable_content_region.height - 1)
        rows.scroll_to(y=rows.scroll_y + step * page, animate=False)

    def action_close(self) -> None:
        """Back to the day."""
        self.dismiss()
