"""The top line: the day, the focus slot, and how many jobs run, queue and wait."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from focusq.tui.board import Board, clock


class StatusBar(Static):
    """Shows a :class:`Board`'s counts; the main screen hands it each new board."""

    board: reactive[Board | None] = reactive(None)
    """The latest board (``None`` until the first load)."""
    now: reactive[float] = reactive(0.0)
    """The clock, a tick a second: the minute shown changes with it."""

    def render(self) -> Text:
        board = self.board
        if board is None:
            return Text("focusq", style="bold")
        counts = board.counts
        text = Text.assemble(
            ("focusq", "bold"),
            "  ",
            clock(self.now or board.now),
            "  │  ",
            ("no focus", "italic"),
            "  │  ",
            (f"{counts['running']} running", "bold" if counts["running"] else ""),
            f" · {counts['queued']} queued · {counts['waiting']} waiting",
        )
        return text
