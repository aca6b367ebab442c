"""The job slots: one line per slot with the running job, its progress and last log line.

A job on another executor says where after its title: ``@build-farm vm3`` (the executor,
then the host once the run reported it).
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from focusq.cli.output import visible
from focusq.tui.board import Board, Slot, elapsed
from focusq.tui.text import cut, literal

BAR = 12

WHERE_NAME = 10
"""Characters of an executor's name a slot shows (a longer one is cut with ``…``)."""
WHERE_HOST = 14
"""Characters of a host's name a slot shows."""

WAITING_LISTED = 6
"""Held-back jobs named on the waiting line; the rest are counted ("+N more")."""


class JobSlotsPanel(Static):
    """Running jobs in their slots, then the jobs that wait and why.

    Titles and log lines go into ``Text`` (never markup), their control characters shown.
    """

    board: reactive[Board | None] = reactive(None, layout=True)
    """The latest board (its slot and waiting lines change the panel's height)."""
    now: reactive[float] = reactive(0.0)
    """The clock, ticking once a second while a job runs (for elapsed time and progress)."""

    def render(self) -> Text:
        board = self.board
        if board is None:
            return Text("loading…")
        now = self.now or board.now
        out = Text()
        for index in range(max(board.slot_count, len(board.slots))):
            if index:
                out.append("\n")
            if index >= len(board.slots):
                out.append(f"{index + 1} ", style="dim")
                out.append("idle", style="dim italic")
                continue
            slot = board.slots[index]
            paused = slot.status == "paused"
            # A paused job's clock stops when it was paused (its dot too).
            moment = min(now, slot.paused_at) if paused and slot.paused_at else now
            spent = moment - slot.started_at
            # Room for the title: the width less the slot number, id, elapsed time, the bar
            # (and the paused label).
            room = max(16, self.size.width - 44 - (10 if paused else 0))
            out.append(f"{index + 1} ", style="dim")
            out.append(f"#{slot.task_id} ", style="bold")
            title = visible(slot.title)
            where = _where(slot)
            if where:  # on another executor: the title gives up room for where
                fits = max(8, room - len(where) - 1)
                title = cut(title, fits)
                out.append(title)
                out.append_text(literal(f" {where}", "dim"))
                out.append(" " * max(0, min(room, 40) - len(title) - len(where) - 1))
            else:
                title = cut(title, room)
                out.append(f"{title:<{min(room, 40)}}")
            out.append(f"  {elapsed(spent):>6}  ")
            bar = _bar(spent, slot.estimate, moment + slot.task_id)
            if paused:
                if not slot.estimate:
                    bar = Text(bar.plain[:BAR], style="dim")  # room for the label
                bar.append("  ")
                bar.append(" paused ", style="bold reverse")
            out.append_text(bar)
            if slot.last_line:
                line = visible(slot.last_line)[: max(10, self.size.width - 6)]
                out.append(f"\n    {line}", style="dim")
        shown = board.waiting[:WAITING_LISTED]
        more = max(board.waiting_count, len(board.waiting)) - len(shown)
        if shown or more:
            out.append("\nwaiting: ", style="bold")
            out.append(
                "  ".join(f"#{w.task_id} {visible(w.title)[:24]} ({visible(w.why)})" for w in shown)
            )
            if more:
                out.append(f"{'  ' if shown else ''}+{more} more", style="dim")
        return out


def _where(slot: Slot) -> str:
    """``@NAME HOST`` for a job on another executor (``@NAME`` before its host is known),
    ``""`` on this machine."""
    if slot.executor is None:
        return ""
    where = f"@{cut(slot.executor, WHERE_NAME)}"
    return f"{where} {cut(slot.host, WHERE_HOST)}" if slot.host else where


def _bar(spent: float, estimate: float | None, now: float) -> Text:
    """A progress bar against the estimate; a travelling dot when there is no history."""
    if not estimate:
        cells = ["┄"] * BAR
        cells[int(now) % BAR] = "●"
        return Text("".join(cells) + " no estimate", style="dim")
    done = min(1.0, spent / estimate)
    filled = round(done * BAR)
    bar = Text("█" * filled, style="bold")
    bar.append("░" * (BAR - filled), style="dim")
    bar.append(f" {done:4.0%}" if spent <= estimate else f" +{elapsed(spent - estimate)}")
    return bar
