"""The top line: the day, the focus slot, and how many jobs run, queue and wait.

A narrow terminal gets the same line shortened by priority: the name and the date go
first, then the block's label and the focus title shrink, and so on (:data:`SHORTENINGS`).
The job counts are never cut: at worst their words are abbreviated.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from focusq.tui.board import Board, elapsed
from focusq.tui.text import literal

SHORTENINGS: tuple[tuple[str, int], ...] = (
    ("brand", 1),  # "focusq" goes first
    ("gap", 1),  # "  │  " becomes " │ "
    ("clock", 1),  # "Tue 24 Nov 17:30" becomes "17:30"
    ("block", 1),  # "async deep work → sync 13:00" becomes "async → sync 13:00"
    ("focus", 1),  # the focus title is cut to 20 columns
    ("block", 2),  # "async → 13:00"
    ("idle", 1),  # "no focus" goes
    ("counts", 1),  # "2 running · 1 queued · 3 waiting" becomes "2 run · 1 queued · 3 wait"
    ("focus", 2),  # the focus title is cut to 10 columns
    ("block", 3),  # "async"
    ("clock", 2),  # the time goes
    ("focus", 3),  # the focus title goes: "● #12 4m05s/50m"
    ("block", 4),  # the block goes
    ("inbox", 1),  # "3 in the inbox" becomes "inbox 3"
    ("focus", 4),  # "● #12 4m05s"
    ("focus", 5),  # the focus part goes
    ("inbox", 2),  # the inbox count goes
)
"""``(part, level)`` in the order the line is shortened until it fits; the counts stay."""

_TITLE_ROOM = {0: 30, 1: 20, 2: 10}
"""How many columns of the focus title each focus level keeps."""


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
        width = self.content_size.width or 1_000
        levels: dict[str, int] = {}
        line = self._line(board, levels)
        for part, level in SHORTENINGS:
            if line.cell_len <= width:
                break
            levels[part] = level
            line = self._line(board, levels)
        return line

    def _line(self, board: Board, levels: dict[str, int]) -> Text:
        """The line with each part at its level of shortening (0: in full)."""
        parts = [
            self._brand(levels.get("brand", 0)),
            self._clock(board, levels.get("clock", 0)),
            self._block(board, levels.get("block", 0)),
            self._focus(board, levels.get("focus", 0), levels.get("idle", 0)),
            self._counts(board, levels.get("counts", 0)),
            self._inbox(board, levels.get("inbox", 0)),
        ]
        gap = "  │  " if not levels.get("gap") else " │ "
        return Text(gap).join(part for part in parts if part is not None)

    @staticmethod
    def _brand(level: int) -> Text | None:
        return Text("focusq", style="bold") if level == 0 else None

    def _clock(self, board: Board, level: int) -> Text | None:
        now = time.localtime(self.now or board.now)
        if level >= 2:
            return None
        return Text(time.strftime("%a %d %b %H:%M" if level == 0 else "%H:%M", now))

    @staticmethod
    def _block(board: Board, level: int) -> Text | None:
        if board.block is None or board.next_block is None or level >= 4:
            return None
        at, following = board.next_block
        block = board.block
        # The block's label is the user's words: shown as written.
        text = literal(block.mode, "bold")
        if level == 0 and block.label:
            text.append_text(literal(f" {block.label}", "bold"))
        if level <= 1:
            text.append_text(literal(f" → {following.mode} {at:%H:%M}"))
        elif level == 2:
            text.append(f" → {at:%H:%M}")
        return text

    def _focus(self, board: Board, level: int, idle: int) -> Text | None:
        focus = board.focus
        if focus is None:
            return None if idle else Text("no focus", style="italic")
        if level >= 5:
            return None
        now = self.now or board.now
        paused = now - focus["paused_at"] if focus["paused_at"] else 0.0
        spent = now - focus["started_at"] - focus["paused_seconds"] - paused
        text = Text(f"● #{focus['task_id']}", style="bold")
        if level in _TITLE_ROOM:
            title = literal(focus["title"], "bold")
            title.truncate(_TITLE_ROOM[level], overflow="ellipsis")
            text.append(" ")
            text.append_text(title)
        text.append(f" {elapsed(spent)}")
        if level < 4:
            text.append(f"/{focus['planned_minutes']}m")
        if focus["paused_at"]:
            text.append(" paused", style="italic")
        return text

    @staticmethod
    def _counts(board: Board, level: int) -> Text:
        counts = board.counts
        words = ("running", "queued", "waiting") if level == 0 else ("run", "queued", "wait")
        text = Text(f"{counts['running']} {words[0]}", style="bold" if counts["running"] else "")
        text.append(f" · {counts['queued']} {words[1]} · {counts['waiting']} {words[2]}")
        return text

    @staticmethod
    def _inbox(board: Board, level: int) -> Text | None:
        # Interruptions kept for later: "held" is a task's state, so they are counted as
        # what waits in the inbox.
        if not board.held or level >= 2:
            return None
        words = f"{board.held} in the inbox" if level == 0 else f"inbox {board.held}"
        return Text(words, style="italic")
