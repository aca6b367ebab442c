"""Every key binding, where it works and what it does."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from focusq.tui.text import literal


class HelpScreen(ModalScreen[None]):
    """Lists the bindings of the app and of the screen below, with their ids for ``[keymap]``."""

    CSS_PATH = "help.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", id="help.close", tooltip="Close help"),
    ]
    """| key | action |
    | --- | --- |
    | escape, ?, q | close |
    """

    def __init__(self, bindings: list[tuple[str, str, str, str]]) -> None:
        super().__init__()
        self.rows = bindings

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static("Keys", id="help-title")
            table: DataTable[Text] = DataTable(cursor_type="none", zebra_stripes=True)
            table.add_columns("key", "action", "what it does", "keymap id")
            for row in self.rows:
                # Keys come from the user's keymap: "[" is a key, not markup.
                table.add_row(*map(literal, row))
            yield table
            yield Static(literal('Remap any key in config.toml: [keymap] "task.cancel" = "ctrl+x"'))

    def action_close(self) -> None:
        """Back to the day."""
        self.dismiss()
