"""The top line: the day, the focus slot, and how many jobs run, queue and wait."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from focusq.cli.output import visible
from focusq.tui.board import Board, clock, elapsed


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
        now = self.now or board.now
        counts = board.counts
        text = Text.assemble(("focusq", "bold"), "  ", clock(now), "  │  ")
        if board.block is not None and board.next_block is not None:
            at, following = board.next_block
            label = f" {board.block.label}" if board.block.label else ""
            text.append(visible(f"{board.block.mode}{label}"), style="bold")
            text.append(f" → {following.mode} {at:%H:%M}  │  ")
        focus = board.focus
        if focus is None:
            text.append("no focus", style="italic")
        else:
            paused = now - focus["paused_at"] if focus["paused_at"] else 0.0
            spent = now - focus["started_at"] - focus["paused_seconds"] - paused
            text.append(f"● #{focus['task_id']} {visible(focus['title'])[:30]}", style="bold")
            text.append(f" {elapsed(spent)}/{focus['planned_minutes']}m")
            if focus["paused_at"]:
                text.append(" paused", style="italic")
        text.append("  │  ")
        text.append(f"{counts['running']} running", style="bold" if counts["running"] else "")
        text.append(f" · {counts['queued']} queued · {counts['waiting']} waiting")
        if board.held:
            text.append(f"  │  {board.held} held", style="italic")
        return text
