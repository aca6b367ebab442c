"""The creative side between two boards: switch prompts and batches of interruptions.

When the focused task waits on a job, :class:`FocusFlow` offers the best ready task, and
the way back when the job ends; when the policy says held interruptions are due, it
delivers them as one batch. The main screen hands it each board it reads; the flow
writes through the screen, so every change is notified and refreshes the board. While
it runs, the TUI holds a lock under the data folder, so ``focusq interrupt --urgent``
knows someone will see the item.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual.screen import ModalScreen

from focusq.cli.day import TUI_LOCK
from focusq.engine.placement import place
from focusq.errors import UserError
from focusq.focus.batch import Line, fold, item_of
from focusq.focus.policy import (
    Candidate,
    Delivery,
    Held,
    gap_before_sync,
    pick_switch,
    task_that_fits,
    to_deliver,
)
from focusq.review.day import day_start
from focusq.states import PRIORITY_RANK
from focusq.store.ops import focus, inbox, jobs, tasks
from focusq.tui.board import Board, elapsed
from focusq.tui.screens.batch import MARKS, BatchScreen
from focusq.tui.screens.confirm import ConfirmScreen
from focusq.tui.screens.inbox import InboxScreen
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
        hold_presence(self.fq.paths.home)
        if board.held:
            # A newer board must not cancel a batch half shown (on screen, not yet marked
            # delivered): delivery runs in its own worker, not the board's.
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

    def better_fit(self, task: dict[str, Any]) -> tuple[str, int | None] | None:
        """When focusing on ``task`` now would run into a sync block: what to say, and the
        task that fits instead (``None`` if none is known to). ``None``: no gap, or
        ``task`` itself is known to fit."""
        app, board = self.fq, self.screen.board
        now = app.clock()
        gap = gap_before_sync(
            app.blocks, datetime.fromtimestamp(now), app.settings.focus.min_minutes
        )
        if gap is None or board is None:
            return None
        if task["estimate"] and task["estimate"] / 60 <= gap.minutes:
            return None
        best = task_that_fits(_candidates(board, task["id"]), gap.minutes)
        if best is None:
            return f"{gap.describe()}: a short task or a job may fit better", None
        other = next(t for t in board.tasks if t["id"] == best.id)
        question = (
            f"{gap.describe()}. #{other['id']} {other['title']} "
            f"({elapsed(other['estimate'])}) fits: focus on it instead of #{task['id']}?"
        )
        return question, best.id

    # -- batches ----------------------------------------------------------------------------

    def _decide(
        self, board: Board, last_delivery: float | None, focus_ended: float | None
    ) -> Delivery:
        segment = board.block
        return to_deliver(
            [Held(i["id"], i["at"], bool(i["urgent"])) for i in board.inbox],
            now=board.now,
            mode=segment.mode if segment else "free",
            segment_start=segment.start.timestamp() if segment else 0.0,
            focusing=board.focus is not None,
            last_delivery=last_delivery,
            batch_minutes=self.fq.settings.interrupts.batch_minutes,
            focus_ended=focus_ended,
        )

    async def deliver(self, board: Board) -> None:
        """Show the held interruptions the policy says are due, as one batch.

        They are marked delivered only once their screen (or note) is up: a batch that
        fails to show stays held and comes again.
        """
        app = self.fq
        if any(isinstance(screen, BatchScreen) for screen in app.screen_stack):
            return
        decision = self._decide(
            board,
            await app.store.run(inbox.last_delivery()),
            await app.store.run(focus.last_focus_end()),
        )
        if not decision.ids:
            return
        rows = await app.store.run(inbox.with_tasks(ids=decision.ids, held_only=True))
        if not rows:
            return  # another delivery took them first, or they were dismissed
        ids = [int(r["id"]) for r in rows]
        folded = fold([item_of(r) for r in rows])
        if decision.reason == "at once":
            # Sync or free time: no need to stop anyone; one quiet note for all of them.
            texts = [line.text for line in folded.lines]
            if texts:
                lines = texts[:4] + [f"+{len(texts) - 4} more"] * (len(texts) > 4)
                app.notify("\n".join(lines), title="focusq", timeout=6, markup=False)
            await app.store.run(inbox.deliver(ids, board.now, decision.reason))
            return
        if not folded.lines:
            # Everything in it went stale: nothing to show, nothing to stop anyone for.
            await app.store.run(inbox.deliver(ids, board.now, decision.reason))
            return
        screen = BatchScreen(folded.lines, decision.reason, self.act)
        await app.push_screen(screen, self._closed)
        await screen.shown.wait()  # a screen that fails to draw leaves the batch held
        taken = await app.store.run(inbox.deliver(ids, board.now, decision.reason))
        screen.keep(set(taken))
        if taken:
            if app.settings.interrupts.bell:
                app.bell()
            body = "\n".join(line.text for line in folded.lines)
            app.notify_desktop(f"focusq: {folded.decisions or len(folded.lines)} for you", body)

    async def open_inbox(self) -> None:
        """Today's inbox: held and delivered items, folded, with the batch's keys."""
        app = self.fq
        now = app.clock()
        rows = await app.store.run(inbox.with_tasks(since=day_start(now)))
        # Dismissed before it opened: left out. Dismissed while it is open: kept, marked.
        hidden = {int(r["id"]) for r in rows if r["dismissed_at"] is not None}
        lines, states = await self._inbox_lines(hidden)
        screen = InboxScreen(
            lines, states, len(hidden), self.act, reload=lambda: self._inbox_lines(hidden)
        )
        await app.push_screen(screen, self._closed)

    async def _inbox_lines(self, hidden: set[int]) -> tuple[list[Line], list[str]]:
        """Today's inbox but ``hidden``, folded, and each line's state."""
        app = self.fq
        board = self.screen.board
        now = app.clock()
        rows = await app.store.run(inbox.with_tasks(since=day_start(now)))
        due: set[int] = set()
        if board is not None:
            last = await app.store.run(inbox.last_delivery())
            ended = await app.store.run(focus.last_focus_end())
            due = set(self._decide(board, last, ended).ids)
        # One fold over the day, so a failure superseded since its batch went out is gone.
        kept = [r for r in rows if int(r["id"]) not in hidden]
        gone = {int(r["id"]) for r in kept if r["dismissed_at"] is not None}
        held = {int(r["id"]) for r in kept if r["delivered_at"] is None} - gone
        lines = list(fold([item_of(r) for r in kept]).lines)
        states = [
            "dismissed" if set(line.ids) <= gone else _state(set(line.ids), held, due)
            for line in lines
        ]
        return lines, states

    def _closed(self, _: None) -> None:
        # Whatever came due while the batch or the inbox was open comes next.
        self.screen.refresh_board()

    async def act(self, action: str, line: Line) -> str | None:
        """Do ``action`` to a line of a batch or the inbox; how to mark its row, or ``None``."""
        app = self.fq
        now = app.clock()
        if action == "dismiss":
            await self.screen.write(inbox.dismiss(line.ids, now), "dismissed")
            return MARKS["dismiss"]
        if action == "open" and line.task_id is not None:
            await self._open(line.task_id)
            return None
        if action == "task":
            try:  # a note read as quick-add: a job is placed as quick-add places it
                draft = parse_line(line.text)
                place(draft, app.settings)
            except UserError as exc:
                app.notify(f"not a task: {exc}", severity="error", markup=False)
                return None
            made = await self.screen.write(tasks.add_task(draft, now), f"added: {draft.title}")
            if made is None:
                return None
            # The note lives on as the task: the inbox need not ask about it again.
            await app.store.run(inbox.dismiss(line.ids, now))
            return f"task #{made}"
        if action in ("retry", "approve") and line.task_id is not None:
            done = await self.screen.write(
                jobs.request(line.task_id, action, now), f"{MARKS[action]} #{line.task_id}"
            )
            if done is None:
                return None
            app.wanted_worker = True
            return MARKS[action]
        return None

    async def _open(self, task_id: int) -> None:
        """Put the list's cursor on the task; for a job with a log, show the log too."""
        self.screen.select_task(task_id)
        runs = await self.fq.store.run(jobs.runs_of(task_id))
        if runs and runs[-1]["log_path"]:
            from focusq.tui.screens.log import LogScreen

            last = runs[-1]
            title = f"#{task_id} (attempt {last['attempt']})"
            await self.fq.push_screen(LogScreen(title, last["log_path"], task_id, last["attempt"]))
        else:
            self.screen.notify(f"#{task_id} is selected in the list", timeout=3)


def _state(ids: set[int], held: set[int], due: set[int]) -> str:
    """A line's state in the inbox: held (due, if the policy would show it now), delivered."""
    if not ids & held:
        return "delivered"
    return "due" if ids & held <= due else "held"


def hold_presence(home: str) -> None:
    """Hold (shared) the lock that tells ``focusq interrupt --urgent`` a TUI is open.

    Taken once per process and kept until it exits: the operating system lets go of it
    then, even after a crash. A shared lock, so two TUIs may both hold it.
    """
    if home in _PRESENCE:
        return
    try:
        os.makedirs(home, exist_ok=True)
        fd = os.open(os.path.join(home, TUI_LOCK), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return  # no lock: the shell rings for urgent items too, which is the safe side
    _PRESENCE[home] = fd


def release_presence(home: str) -> None:
    """Let go of the TUI's lock (tests; a process that exits lets go by itself)."""
    fd = _PRESENCE.pop(home, None)
    if fd is not None:
        os.close(fd)


_PRESENCE: dict[str, int] = {}
"""Home folder -> the open file holding its TUI lock."""


def _candidates(board: Board, focused: int) -> list[Candidate]:
    """The creative tasks ready to take over the focus slot from ``focused``."""
    return [
        Candidate(
            t["id"],
            PRIORITY_RANK[t["priority"]],
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
