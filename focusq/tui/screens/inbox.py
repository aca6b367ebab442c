"""Today's inbox, at any time: what is held and what was delivered, with the batch's keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from focusq.focus.batch import Line
from focusq.tui.screens.batch import Act, BatchScreen, CssPaths


class InboxScreen(BatchScreen):
    """Every line of today's interruptions, each with its state (held, due, delivered).

    Held items stay held: looking at them here does not deliver them, but a dismissal,
    a retry or an approval made here is what their batch shows later (or leaves out).
    """

    CSS_PATH: ClassVar[CssPaths] = ["batch.tcss", "inbox.tcss"]

    def __init__(
        self, lines: Sequence[Line], states: Sequence[str], dismissed: int, act: Act
    ) -> None:
        super().__init__(lines, "today", act)
        self.states = list(states)
        self.dismissed = dismissed

    def heading(self) -> str:
        held = sum(s in ("held", "due") for s in self.states)
        left = self.undecided()
        parts = [f"{left} to decide" if left else "nothing to decide", f"{held} held"]
        if self.dismissed or self.marks:
            parts.append(f"{self.dismissed + len(self.marks)} dealt with")
        return f"Today's inbox: {' · '.join(parts)}"

    def state_of(self, index: int) -> str:
        return self.states[index] if index < len(self.states) else ""

    def keep(self, ids: set[int]) -> None:
        """The inbox is not a delivery: it keeps every row."""
