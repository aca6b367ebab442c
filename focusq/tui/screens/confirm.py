"""A yes/no question before something that cannot be undone."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from focusq.tui.text import literal


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with ``True`` for ``y``, ``False`` for ``n`` or ``escape``."""

    CSS_PATH = "confirm.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes", tooltip="Go ahead"),
        Binding(
            "n,escape", "answer(False)", "No", id="confirm.no", tooltip="Keep things as they are"
        ),
    ]
    """| key | action |
    | --- | --- |
    | y | yes |
    | n, escape | no |
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question
        """Shown as written: it may quote a task's title."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(literal(self.question))
            yield Static("y: yes    n: no", classes="hint")

    def action_answer(self, answer: bool) -> None:
        """Close with the answer."""
        self.dismiss(answer)
