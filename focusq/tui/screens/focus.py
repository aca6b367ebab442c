"""The focus view: the one task, its notes, the time spent and left; the jobs kept quiet."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

from focusq.tui.board import Board, elapsed
from focusq.tui.text import literal

if TYPE_CHECKING:
    from focusq.tui.app import FocusqApp


def focus_text(board: Board, now: float) -> Text:
    """What the focus view shows for ``board`` at ``now``."""
    focus = board.focus
    if focus is None:
        return Text("Nothing is in focus. Press escape, pick a creative task and press f.")
    paused = now - focus["paused_at"] if focus["paused_at"] else 0.0
    spent = now - focus["started_at"] - focus["paused_seconds"] - paused
    planned = focus["planned_minutes"] * 60
    out = Text()
    out.append_text(literal(f"#{focus['task_id']}  {focus['title']}", "bold"))
    out.append("\n\n")
    note = next((t["note"] for t in board.tasks if t["id"] == focus["task_id"]), "")
    if note:
        out.append_text(literal(note + "\n\n", "italic", lines=True))
    out.append(f"{elapsed(spent)} of {focus['planned_minutes']}m")
    if focus["paused_at"]:
        out.append("  paused", style="bold")
    elif spent >= planned:
        out.append("  planned time reached", style="bold")
    if board.block is not None and board.next_block is not None:
        at, following = board.next_block
        left = at.timestamp() - now
        label = f" {board.block.label}" if board.block.label else ""
        out.append("\n")
        out.append_text(
            literal(f"{board.block.mode}{label}: {elapsed(left)} left, then {following.mode}")
        )
    counts = board.counts
    out.append(
        f"\n\njobs: {counts['running']} running · {counts['queued']} queued"
        + (f" · {board.held} in the inbox for later" if board.held else ""),
        style="dim",
    )
    return out


class FocusScreen(Screen[None]):
    """Shown while focusing; the day's details wait behind ``escape``."""

    CSS_PATH = "focus.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "The day", id="focusview.back", tooltip="Back to the day"),
        Binding("space", "pause", "Pause", id="focusview.pause", tooltip="Pause or resume"),
        Binding("e", "extend", "Extend", id="focusview.extend", tooltip="Plan more time"),
        Binding("F", "stop", "End", id="focusview.stop", tooltip="End the session"),
        Binding("i", "capture", "Capture", id="focusview.capture", tooltip="Capture for later"),
    ]
    """| key | action |
    | --- | --- |
    | escape | back to the day |
    | space | pause / resume |
    | e | extend the planned time: +10, +25 or +50 min |
    | F | end the session |
    | i | capture an interruption |
    """

    def __init__(self, board: Board) -> None:
        super().__init__()
        self.board = board
        self._asked: int | None = None
        """The planned length the user was last asked about (ask once per extension)."""

    @property
    def fq(self) -> FocusqApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Vertical(id="focus-view"):
            yield Static(focus_text(self.board, self.fq.clock()), id="focus-text")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)

    def show(self, board: Board) -> None:
        """A new board from the main screen."""
        self.board = board
        self._tick()

    def _tick(self) -> None:
        now = self.fq.clock()
        self.query_one("#focus-text", Static).update(focus_text(self.board, now))
        focus = self.board.focus
        if focus is None or focus["paused_at"] or self._asked == focus["planned_minutes"]:
            return
        spent = now - focus["started_at"] - focus["paused_seconds"]
        if spent >= focus["planned_minutes"] * 60 and self.app.screen is self:
            self._asked = focus["planned_minutes"]
            self.app.push_screen(PlannedTimeScreen(focus["title"]), self._planned_answer)

    async def _planned_answer(self, answer: str | None) -> None:
        if answer == "extend":
            await self._main().extend_focus()
        elif answer == "break":
            minutes = self.fq.settings.focus.break_minutes
            await self._main().end_focus_for_break(minutes)
            self.dismiss()
        elif answer == "end":
            await self.action_stop()

    def _main(self) -> Any:
        from focusq.tui.screens.main import MainScreen

        return next(s for s in self.app.screen_stack if isinstance(s, MainScreen))

    def action_back(self) -> None:
        """Back to the day (the session goes on)."""
        self.dismiss()

    async def action_pause(self) -> None:
        """Pause or resume the session."""
        focus = self.board.focus
        if focus is not None:
            await self._main().pause_focus(resume=bool(focus["paused_at"]))

    def action_extend(self) -> None:
        """Plan more time on top of this session: +10, +25 or +50 minutes."""
        if self.board.focus is None:
            return
        self.app.push_screen(ExtendScreen(), self._extend_by)

    async def _extend_by(self, minutes: int | None) -> None:
        if minutes:
            await self._main().extend_focus(minutes)

    async def action_stop(self) -> None:
        """End the session and go back to the day."""
        await self._main().action_stop_focus()
        self.dismiss()

    def action_capture(self) -> None:
        """Capture an interruption."""
        self._main().action_capture()


class PlannedTimeScreen(ModalScreen[str | None]):
    """The planned time is up: extend, take a break, or end."""

    CSS_PATH = "focus.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "answer('extend')", "Extend", id="planned.extend", tooltip="Plan more time"),
        Binding("b", "answer('break')", "Break", id="planned.break", tooltip="Take a break"),
        Binding("s", "answer('end')", "End", id="planned.end", tooltip="End the session"),
        Binding("escape", "answer(None)", "Later", id="planned.later", tooltip="Keep going"),
    ]
    """| key | action |
    | --- | --- |
    | e | extend |
    | b | break |
    | s | end |
    | escape | keep going |
    """

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="planned"):
            yield Static(literal(f"Planned time for {self.title_text} is up."))
            yield Static("e: extend    b: break    s: end    escape: keep going", classes="hint")

    def action_answer(self, answer: str | None) -> None:
        """Close with the choice."""
        self.dismiss(answer)


EXTENSIONS = (10, 25, 50)
"""The minutes ``e`` in the focus view offers, on keys 1, 2 and 3."""


class ExtendScreen(ModalScreen[int | None]):
    """How much longer: dismisses with the minutes picked, or ``None``."""

    CSS_PATH = "focus.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "pick(10)", "+10 min", id="extend.10", tooltip="Ten minutes more"),
        Binding("2", "pick(25)", "+25 min", id="extend.25", tooltip="Twenty-five minutes more"),
        Binding("3", "pick(50)", "+50 min", id="extend.50", tooltip="Fifty minutes more"),
        Binding("escape", "pick(0)", "Cancel", id="extend.cancel", tooltip="No more time"),
    ]
    """| key | action |
    | --- | --- |
    | 1 | +10 min |
    | 2 | +25 min |
    | 3 | +50 min |
    | escape | no change |
    """

    def compose(self) -> ComposeResult:
        keys = "    ".join(f"{n}: +{m} min" for n, m in enumerate(EXTENSIONS, 1))
        with Vertical(id="extend"):
            yield Static("Plan more time for this session:")
            yield Static(f"{keys}    escape: none", classes="hint")

    def action_pick(self, minutes: int) -> None:
        """Close with the minutes picked (0: none)."""
        self.dismiss(minutes or None)
