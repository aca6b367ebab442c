"""One line of text without leaving the work: an interruption to capture, a note."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from focusq.tui.text import literal
from focusq.tui.widgets.text_input import TextInput


class CaptureScreen(ModalScreen[str | None]):
    """Dismisses with the text typed (a leading ``!`` marks it urgent), or ``None``."""

    CSS_PATH = "capture.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Close", id="capture.close", tooltip="Close without capturing"),
    ]
    """| key | action |
    | --- | --- |
    | enter | capture |
    | escape | close |
    """

    def __init__(
        self,
        title: str = "Capture for the next batch  (start with ! for urgent)",
        placeholder: str = "Sam asked about the invoice",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="capture"):
            yield Static(literal(self.title_text), id="capture-title")
            yield TextInput(placeholder=self.placeholder, id="capture-input")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        """Close without capturing."""
        self.dismiss(None)
