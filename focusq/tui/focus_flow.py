"""The creative side between two boards: switch prompts and batches of interruptions.

When the focused task waits on a job, :class:`FocusFlow` offers the best ready task, and
the way back when the job ends; when the policy says held interruptions are due, it
delivers them as one batch. The main screen hands it each board it reads; the flow
writes through the screen, so every change is notified and refreshes the board.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from textual.screen import ModalScreen

from focusq.focus.policy import Candidate, Held, pick_switch, to_deliver
from focusq.store.ops import focus, inbox, jobs, tasks
from focusq.tui.board import Board, elapsed
from focusq.tui.screens.batch import BatchScreen
from focusq.tui.screens.confirm import ConfirmScreen
from focusq.tui.screens.quickadd import parse_line

if TYPE_CHECKING:
    from focusq.tui.app import FocusqApp
    from focusq.tui.screens.main import MainScreen


class FocusFlow:
    """Switch prompts and batch delivery for one main screen."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self._prompted: set[tuple[int, int]] = set()
        """(focused task, job it waits on) pairs already offered a switch."""
        self._delivering = asyncio.Lock()
        """One delivery at a time, so a batch is decided on what the last one left."""
        self._switched_from: tuple[int, int] | None = None
        """(task switched away from, job it waited on): offer the way back when the job ends."""

    @property
    def fq(self) -> FocusqApp:
        return self.screen.fq

    async def board_changed(self, board: Board) -> None:
        """Deliver what is due (in a worker of its own) and offer a switch if one fits."""
        if board.held:
            # A newer board must not cancel a batch half shown (marked delivered, not yet
            # on screen): delivery runs in its own worker, not the board's.
            self.screen.run_worker(self._deliver_held(board), group="deliver")
        await self.offer_switch(board)

    async def _deliver_held(self, board: Board) -> None:
        async with self._delivering:
            await self.deliver(board)

    # -- switch on block --------------------------------------------------------------------

    async def offer_switch(self, board: Board) -> None:
        """When the focused task waits on a job, offer the best ready task; offer the way back."""
        app = self.fq
        if any(isinstance(screen, ModalScreen) for screen in app.screen_stack):
            return
        session = board.focus
        back = self._switched_from
        if back is not None:
            origin, blocker = back
            still = await app.store.run(focus.blockers(origin))
            if all(b["id"] != blocker for b in still):
                self._switched_from = None
                if session is None or session["task_id"] != origin:
                    question = f"#{blocker} has ended: switch back to #{origin}?"
                    app.push_screen(
                        ConfirmScreen(question),
                        lambda yes: self._switch(session, origin, blocker, yes, back=True),
                    )
                return
        if session is None:
            return
        waits = await app.store.run(focus.blockers(session["task_id"]))
        if not waits or (session["task_id"], waits[0]["id"]) in self._prompted:
            return
        job = waits[0]
        self._prompted.add((session["task_id"], job["id"]))
        best = pick_switch(_candidates(board, session["task_id"]), _minutes_left(board))
        if best is None:
            return
        about = ""
        if job["started_at"] and job["estimate"]:
            left = job["estimate"] - (board.now - job["started_at"])
            about = f" (about {elapsed(max(left, 0))} left)"
        title = next(t["title"] for t in board.tasks if t["id"] == best.id)
        question = (
            f"#{session['task_id']} waits on #{job['id']} {job['title']}{about}: "
            f"switch to #{best.id} {title}?"
        )
        app.push_screen(
            ConfirmScreen(question),
            lambda yes: self._switch(session, best.id, job["id"], yes),
        )

    async def _switch(
        self,
        session: dict[str, Any] | None,
        to_id: int,
        blocker: int,
        yes: bool | None,
        back: bool = False,
    ) -> None:
        from_id = session["task_id"] if session else to_id
        now = self.fq.clock()
        await self.fq.store.run(
            focus.record_switch(from_id, to_id, blocker, now, accepted=bool(yes), back=back)
        )
        if not yes:
            return
        minutes = self.fq.settings.focus.default_minutes
        op = focus.start_focus(to_id, now, minutes, switch=True)
        await self.screen.write(op, f"focus on #{to_id}")
        if not back and session is not None:
            self._switched_from = (session["task_id"], blocker)

    # -- batches ----------------------------------------------------------------------------

    async def deliver(self, board: Board) -> None:
        """Show the held interruptions the policy says are due, as one batch."""
        app = self.fq
        if any(isinstance(screen, BatchScreen) for screen in app.screen_stack):
            return
        items = board.inbox
        segment = board.block
        decision = to_deliver(
            [Held(i["id"], i["at"], bool(i["urgent"])) for i in items],
            now=board.now,
            mode=segment.mode if segment else "free",
            segment_start=segment.start.timestamp() if segment else 0.0,
            focusing=board.focus is not None,
            last_delivery=await app.store.run(inbox.last_delivery()),
            batch_minutes=app.settings.interrupts.batch_minutes,
            focus_ended=await app.store.run(focus.last_focus_end()),
        )
        if not decision.ids:
            return
        taken = set(await app.store.run(inbox.deliver(decision.ids, board.now, decision.reason)))
        batch = [i for i in items if i["id"] in taken]
        if not batch:
            return  # another delivery took them first
        if decision.reason == "at once":
            # Sync or free time: no need to stop anyone; one quiet note for all of them.
            lines = [i["text"] for i in batch[:4]] + (
                [f"+{len(batch) - 4} more"] * (len(batch) > 4)
            )
            app.notify("\n".join(lines), title="focusq", timeout=6, markup=False)
            return
        if app.settings.interrupts.bell:
            app.bell()
        app.notify_desktop(f"focusq: {len(batch)} for you", "\n".join(i["text"] for i in batch))
        app.push_screen(BatchScreen(batch, decision.reason), self._after_batch)

    async def _after_batch(self, choice: tuple[str, dict[str, Any]] | None) -> None:
        if choice is None:
            return
        action, item = choice
        if action == "open" and item["task_id"] is not None:
            self.screen.select_task(item["task_id"])
        elif action == "task":
            draft = parse_line(item["text"])
            await self.screen.write(tasks.add_task(draft, self.fq.clock()), f"added: {draft.title}")
        elif action in ("retry", "approve") and item["task_id"] is not None:
            await self.screen.write(
                jobs.request(item["task_id"], action, self.fq.clock()),
                f"{action} #{item['task_id']}",
            )
            self.fq.wanted_worker = True


def _candidates(board: Board, focused: int) -> list[Candidate]:
    """The creative tasks ready to take over the focus slot from ``focused``."""
    return [
        Candidate(
            t["id"],
            {"H": 2, "M": 1, "L": 0}[t["priority"]],
            (t["estimate"] or 0) / 60 or None,
            t["created_at"],
        )
        for t in board.tasks
        if t["kind"] == "creative"
        and t["status"] == "queued"
        and t["id"] != focused
        and not t["after"]
        and not t["afterany"]
    ]


def _minutes_left(board: Board) -> float | None:
    """Minutes to the next block boundary, if there is one."""
    if board.next_block is None:
        return None
    return (board.next_block[0].timestamp() - board.now) / 60
