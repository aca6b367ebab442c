"""The day at a glance: job slots, the task list, the selected task, every action a key away."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Input

from focusq.errors import FocusqError
from focusq.quickadd import TaskDraft
from focusq.states import TaskStatus
from focusq.store.ops import focus, inbox, jobs, pages, tasks
from focusq.tui.board import VIEWS, Board, load_board, with_fresh_tails
from focusq.tui.focus_flow import FocusFlow
from focusq.tui.messages import DatabaseChanged
from focusq.tui.screens.capture import CaptureScreen
from focusq.tui.screens.confirm import ConfirmScreen
from focusq.tui.screens.focus import FocusScreen
from focusq.tui.screens.log import LogScreen
from focusq.tui.screens.pick import PickScreen
from focusq.tui.screens.quickadd import QuickAddScreen
from focusq.tui.text import literal
from focusq.tui.widgets.detail import DetailPane
from focusq.tui.widgets.job_slots import JobSlotsPanel
from focusq.tui.widgets.log_view import LogsChanged
from focusq.tui.widgets.status_bar import StatusBar
from focusq.tui.widgets.task_table import TaskTable
from focusq.tui.widgets.text_input import TextInput

if TYPE_CHECKING:
    from focusq.tui.app import FocusqApp

_OPEN = (TaskStatus.QUEUED, TaskStatus.WAITING, TaskStatus.HELD)
PICKED = 200  # open jobs offered when a task is marked as waiting on one


class MainScreen(Screen[None]):
    """The screen kept open all day."""

    CSS_PATH = "main.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add", id="task.add", tooltip="Quick-add a task"),
        Binding(
            "enter",
            "details",
            "Details",
            id="task.details",
            tooltip="Show all of the task",
            show=False,
        ),
        Binding("l", "log", "Log", id="task.log", tooltip="Open the job's log"),
        Binding("c", "cancel", "Cancel", id="task.cancel", tooltip="Cancel the task or job"),
        Binding(
            "r", "retry", "Retry", id="task.retry", tooltip="Run a finished job again", show=False
        ),
        Binding(
            "p",
            "pause",
            "Pause",
            id="task.pause",
            tooltip="Pause or resume a running job",
            show=False,
        ),
        Binding(
            "h", "hold", "Hold", id="task.hold", tooltip="Hold or release a queued task", show=False
        ),
        Binding(
            "A", "approve", "Approve", id="task.approve", tooltip="Approve a gated job", show=False
        ),
        Binding("d", "done", "Done", id="task.done", tooltip="Mark the task done"),
        Binding("f", "focus_task", "Focus", id="focus.start", tooltip="Focus on the creative task"),
        Binding("b", "block", "Blocked", id="focus.block", tooltip="It waits on a job", show=False),
        Binding(
            "z", "focus_view", "Focus view", id="focus.view", tooltip="The focus view", show=False
        ),
        Binding(
            "F",
            "stop_focus",
            "Unfocus",
            id="focus.stop",
            tooltip="End the focus session",
            show=False,
        ),
        Binding(
            "i",
            "capture",
            "Capture",
            id="focus.capture",
            tooltip="Capture an interruption",
            show=False,
        ),
        Binding(
            "I",
            "inbox",
            "Inbox",
            id="focus.inbox",
            tooltip="Today's inbox: for later and seen",
            show=False,
        ),
        Binding(
            "x", "drop", "Drop", id="task.drop", tooltip="Drop the task from the plan", show=False
        ),
        Binding(
            "e",
            "edit",
            "Edit",
            id="task.edit",
            tooltip="Change the task with quick-add tokens",
            show=False,
        ),
        Binding(
            "R", "review", "Review", id="day.review", tooltip="The end-of-day review", show=False
        ),
        Binding(
            "slash", "filter", "Filter", id="list.filter", tooltip="Filter the list as you type"
        ),
        Binding(
            "v",
            "next_view",
            "View",
            id="list.view",
            tooltip="All, creative, jobs, done today",
            show=False,
        ),
        Binding("j", "cursor(1)", "Down", id="list.down", show=False, tooltip="Next task"),
        Binding("k", "cursor(-1)", "Up", id="list.up", show=False, tooltip="Previous task"),
        Binding("g,home", "row(0)", "First", id="list.first", show=False, tooltip="First task"),
        Binding("G,end", "row(-1)", "Last", id="list.last", show=False, tooltip="Last task"),
        Binding(
            "number_sign,colon",
            "jump",
            "Go to",
            id="list.jump",
            show=False,
            tooltip="Go to a task by its id",
        ),
        Binding("escape", "clear_filter", "Clear", id="list.clear", show=False, tooltip="Clear"),
    ]
    """| key | action |
    | --- | --- |
    | a | quick-add |
    | enter | details of the selected task |
    | l | the job's log |
    | c | cancel (asks first for a running job) |
    | r | retry a finished job |
    | p | pause / resume a running job |
    | h | hold / release a queued task |
    | A | approve a gated job |
    | d | done |
    | x | drop (asks first) |
    | e | edit with quick-add tokens |
    | f | focus on the selected creative task (asks before switching) |
    | F | end the focus session |
    | b | the selected task waits on a job (pick it) |
    | z | the focus view |
    | i | capture an interruption for the next batch |
    | I | today's inbox: for later and delivered, to work through |
    | R | the end-of-day review |
    | / | filter as you type; escape clears |
    | v | next view: all, creative, mechanical, done today |
    | j / k, arrows | move |
    | g / G, home / end | first / last task |
    | # or : | go to a task by its id |
    """

    view: reactive[str] = reactive("all")
    """Which tasks the list shows (one of ``board.VIEWS``)."""
    filter_text: reactive[str] = reactive("")
    """The filter typed after ``/``."""
    expanded: reactive[bool] = reactive(False)
    """Whether the detail pane takes the width of the screen."""

    def __init__(self) -> None:
        super().__init__()
        self.board: Board | None = None
        self._seen = -1
        """The last event the task list was read after: no new event, nothing to read."""
        self._open_focus_view = False
        self.flow = FocusFlow(self)
        """Switch prompts and batches of interruptions, decided on each board."""

    @property
    def fq(self) -> FocusqApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status-bar")
        yield JobSlotsPanel(id="slots")
        with Horizontal(id="body"):
            yield TaskTable(self.fq.store, id="tasks")
            yield DetailPane("", id="detail")
        yield TextInput(placeholder="filter: words, +tag, project", id="filter")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filter").display = False
        self.query_one(TaskTable).focus()
        self.refresh_board()
        self.set_interval(1.0, self._tick_clock)  # a clock; the data comes from watchfiles

    def _torn_down(self) -> bool:
        """Whether the app closed around this screen (a timer or an await outlived its
        widgets)."""
        return self.query_one_optional("#detail") is None

    def _tick_clock(self) -> None:
        if self._torn_down():
            return
        self.fq.watch_worker(self.board)  # one stopped on an error, or killed, is seen
        now = self.fq.clock()
        if self.board and self.board.slots:
            self.query_one(JobSlotsPanel).now = now
        self.query_one(StatusBar).now = now
        if self.board and self.board.next_block and now >= self.board.next_block[0].timestamp():
            self.refresh_board()  # a block boundary passed

    # -- loading ----------------------------------------------------------------------------

    def on_database_changed(self, _: DatabaseChanged) -> None:
        self.refresh_board()

    @on(LogsChanged)
    def _logs_changed(self) -> None:
        # A log grew: the slots' last lines, without reading the board again.
        if self.board is not None and self.board.slots and not self._torn_down():
            self.board = with_fresh_tails(self.board)
            self.query_one(JobSlotsPanel).board = self.board

    @work(exclusive=True, group="board")
    async def refresh_board(self) -> None:
        """Read the board again and hand it down to the widgets."""
        board = await load_board(
            self.fq.store,
            now=self.fq.clock(),
            view=self.view,
            query=self.filter_text,
            slot_count=self.fq.settings.engine.max_parallel,
            blocks=self.fq.blocks,
            settings=self.fq.settings,
        )
        if self._torn_down():
            return
        self.board = board
        self.query_one(StatusBar).board = board
        slots = self.query_one(JobSlotsPanel)
        slots.board = board
        slots.now = board.now
        table = self.query_one(TaskTable)
        # Read again only after a change (or for another view): the rows on screen and counts.
        seen = await self.fq.store.run(tasks.last_event_id())
        if self._torn_down():
            return
        if seen != self._seen or table.listing != board.listing:
            self._seen = seen
            await table.show(board.listing)
        title = Text(f"{board.view} · {table.row_count}")
        if board.query:
            title.append_text(literal(f" · filter: {board.query}"))
        table.border_title = title
        self.show_detail()
        self.fq.reap_and_start_worker(board)
        if board.slots:
            self.fq.follow_logs()
        for screen in self.app.screen_stack:
            if isinstance(screen, FocusScreen):
                screen.show(board)
        if self._open_focus_view and board.focus is not None:
            self._open_focus_view = False
            self.app.push_screen(FocusScreen(board))
        await self.flow.board_changed(board)

    @on(TaskTable.Highlighted)
    def _highlighted(self, _: TaskTable.Highlighted) -> None:
        self.show_detail()

    @on(TaskTable.Selected)
    def _selected_row(self, _: TaskTable.Selected) -> None:
        # The table takes enter for itself: a selected row is the details binding.
        self.action_details()

    def show_detail(self) -> None:
        """Fill the detail pane with the selected task, its runs and last log lines."""
        if not self._torn_down():
            self.query_one(DetailPane).show_task(self.query_one(TaskTable).selected_id)

    # -- watchers ---------------------------------------------------------------------------

    def watch_view(self) -> None:
        if self.is_mounted:
            self.refresh_board()

    def watch_filter_text(self) -> None:
        if self.is_mounted:
            self.refresh_board()

    def watch_expanded(self, expanded: bool) -> None:
        self.set_class(expanded, "-expanded")

    # -- actions ----------------------------------------------------------------------------

    def select_task(self, task_id: int) -> None:
        """Move the list's cursor to ``task_id`` if the list shows it."""
        table = self.query_one(TaskTable)
        if table.is_held(task_id):
            table.move_cursor(row=table.get_row_index(str(task_id)))
        else:
            self.run_worker(table.locate(task_id), group="locate", exclusive=True)

    def _selected(self) -> dict[str, Any] | None:
        task = self.query_one(TaskTable).selected
        if task is None:
            self.notify("No task selected", severity="warning")
        return task

    async def write(self, op: Any, done: str) -> Any:
        """Run a store operation; say ``done`` (or what went wrong) and read the board again."""
        try:
            result = await self.fq.store.run(op)
        except FocusqError as exc:
            self.notify(str(exc), severity="error", timeout=6, markup=False)
            return None
        self.notify(done, timeout=3, markup=False)
        self.refresh_board()
        return result

    def action_add(self) -> None:
        """Quick-add a task."""
        self.app.push_screen(QuickAddScreen(), self._added)

    async def _added(self, draft: TaskDraft | None) -> None:
        if draft is None:
            return
        task_id = await self.write(tasks.add_task(draft, self.fq.clock()), f"added: {draft.title}")
        if task_id is not None:
            self.fq.wanted_worker = True

    def action_edit(self) -> None:
        """Change the selected task with quick-add tokens."""
        task = self._selected()
        if task is None:
            return
        screen = QuickAddScreen(f"Edit #{task['id']} {task['title']}", editing=True)
        self.app.push_screen(screen, lambda draft: self._edited(task["id"], draft))

    async def _edited(self, task_id: int, draft: TaskDraft | None) -> None:
        if draft is not None:
            await self.write(tasks.edit_task(task_id, draft, self.fq.clock()), f"edited #{task_id}")

    def action_details(self) -> None:
        """Widen (or narrow) the detail pane."""
        self.expanded = not self.expanded

    def action_log(self) -> None:
        """Open the selected job's latest log."""
        task = self._selected()
        if task is not None:
            self._open_log(task)

    @work(group="open-log")
    async def _open_log(self, task: dict[str, Any]) -> None:
        runs = await self.fq.store.run(jobs.runs_of(task["id"]))
        if not runs:
            self.notify(f"#{task['id']} has no log yet", severity="warning")
            return
        last = runs[-1]
        title = f"#{task['id']} {task['title']} (attempt {last['attempt']})"
        self.app.push_screen(LogScreen(title, last["log_path"], task["id"], last["attempt"]))

    def action_cancel(self) -> None:
        """Cancel; a running job is asked about first."""
        task = self._selected()
        if task is None:
            return
        if task["status"] in ("running", "paused"):
            question = f"Cancel running job #{task['id']} {task['title']}?"
            self.app.push_screen(ConfirmScreen(question), lambda yes: self._cancel(task, yes))
        else:
            self.run_worker(self._cancel(task, True))

    async def _cancel(self, task: dict[str, Any], yes: bool | None) -> None:
        if yes:
            await self._request(task, "cancel", f"cancelling #{task['id']}")

    async def _request(self, task: dict[str, Any], action: str, done: str) -> None:
        await self.write(jobs.request(task["id"], action, self.fq.clock()), done)
        if action in ("retry", "approve", "release", "resume", "cancel", "pause"):
            self.fq.wanted_worker = True

    async def action_retry(self) -> None:
        """Queue a finished job again."""
        if task := self._selected():
            await self._request(task, "retry", f"#{task['id']} queued again")

    async def action_pause(self) -> None:
        """Pause a running job, or resume a paused one."""
        if task := self._selected():
            action = "resume" if task["status"] == "paused" else "pause"
            await self._request(task, action, f"{action} #{task['id']}")

    async def action_hold(self) -> None:
        """Hold a queued task, or release a held one."""
        if task := self._selected():
            action = "release" if task["status"] == "held" else "hold"
            await self._request(task, action, f"{action} #{task['id']}")

    async def action_approve(self) -> None:
        """Approve a job waiting at its gate."""
        if task := self._selected():
            await self._request(task, "approve", f"approved #{task['id']}")

    async def action_done(self) -> None:
        """Mark the selected task done."""
        if task := self._selected():
            op = tasks.transition(
                task["id"], _OPEN, TaskStatus.DONE, self.fq.clock(), reason="by hand"
            )
            await self.write(op, f"done: {task['title']}")

    def action_drop(self) -> None:
        """Drop the selected task, once asked (it leaves the plan)."""
        task = self._selected()
        if task is None:
            return
        question = f"Drop #{task['id']} {task['title']} from the plan?"
        self.app.push_screen(ConfirmScreen(question), lambda yes: self._drop(task, yes))

    async def _drop(self, task: dict[str, Any], yes: bool | None) -> None:
        if yes:
            op = tasks.transition(
                task["id"], _OPEN, TaskStatus.DROPPED, self.fq.clock(), reason="by hand"
            )
            await self.write(op, f"dropped: {task['title']}")

    def action_focus_task(self) -> None:
        """Put the selected creative task in the focus slot."""
        task = self._selected()
        if task is None:
            return
        current = self.board.focus if self.board else None
        if current is not None and current["task_id"] != task["id"]:
            question = (
                f"End focus on #{current['task_id']} {current['title']} "
                f"and focus on #{task['id']} {task['title']}?"
            )
            self.app.push_screen(ConfirmScreen(question), lambda yes: self._focus(task, yes))
        else:
            self.run_worker(self._focus(task, True))

    async def _focus(self, task: dict[str, Any], yes: bool | None) -> None:
        if not yes:
            return
        fit = self.flow.better_fit(task)
        other = fit[1] if fit is not None else None
        if fit is not None and other is not None:
            # Too little time before a sync block, and a task that fits: y takes it.
            question, fits = fit[0], other

            async def answered(instead: bool | None) -> None:
                await self._start_focus(fits if instead else task["id"])

            self.app.push_screen(ConfirmScreen(question), answered)
            return
        if await self._start_focus(task["id"]) and fit is not None:
            self.notify(fit[0], severity="warning", timeout=8, markup=False)

    async def _start_focus(self, task_id: int) -> bool:
        """Focus on ``task_id`` for the default length, and open the focus view."""
        minutes = self.fq.settings.focus.default_minutes
        op = focus.start_focus(task_id, self.fq.clock(), minutes, switch=True)
        if await self.write(op, f"focus on #{task_id} for {minutes} min") is None:
            return False
        self.select_task(task_id)
        self._open_focus_view = True
        return True

    async def pause_focus(self, *, resume: bool) -> None:
        """Pause or resume the focus session."""
        op = focus.pause_focus(self.fq.clock(), resume=resume)
        await self.write(op, "resumed" if resume else "paused")

    async def extend_focus(self, minutes: int | None = None) -> None:
        """Plan ``minutes`` more (another default length) for the focus session."""
        minutes = minutes or self.fq.settings.focus.default_minutes
        await self.write(focus.extend_focus(minutes, self.fq.clock()), f"+{minutes} min")

    async def end_focus_for_break(self, minutes: int) -> None:
        """End the session as a break (recorded as its outcome)."""
        op = focus.stop_focus(self.fq.clock(), done=False, outcome="break", break_minutes=minutes)
        await self.write(op, f"break: back in {minutes} min")

    async def action_block(self) -> None:
        """Mark the selected creative task as waiting on a job you pick."""
        task = self._selected()
        if task is None:
            return
        first = await self.fq.store.run(pages.first_open("mechanical", PICKED))
        jobs = [t for t in first if t["id"] != task["id"]]
        if not jobs:
            self.notify("no open job to wait on", severity="warning")
            return
        screen = PickScreen(f"#{task['id']} {task['title']} waits on:", jobs)
        self.app.push_screen(screen, lambda job: self._blocked(task, job))

    async def _blocked(self, task: dict[str, Any], job_id: int | None) -> None:
        if job_id is None:
            return
        draft = TaskDraft()
        draft.afterany = [*task["afterany"], job_id]
        await self.write(
            tasks.edit_task(task["id"], draft, self.fq.clock()), f"#{task['id']} waits on #{job_id}"
        )

    def action_review(self) -> None:
        """Open the end-of-day review of today."""
        from focusq.review.day import review_day
        from focusq.tui.screens.review import ReviewScreen

        self.app.push_screen(ReviewScreen(review_day(self.fq.clock())))

    def action_focus_view(self) -> None:
        """Show the focus view."""
        if self.board is not None:
            self.app.push_screen(FocusScreen(self.board))

    async def action_stop_focus(self) -> None:
        """End the focus session."""
        await self.write(focus.stop_focus(self.fq.clock(), done=False), "focus ended")

    async def action_inbox(self) -> None:
        """Open today's inbox."""
        await self.flow.open_inbox()

    def action_capture(self) -> None:
        """Capture an interruption in two keystrokes, then back to work."""
        self.app.push_screen(CaptureScreen(), self._captured)

    async def _captured(self, text: str | None) -> None:
        if text:
            urgent = text.startswith("!")
            op = inbox.capture(text.lstrip("! "), self.fq.clock(), urgent=urgent)
            await self.write(op, "captured" + (" (urgent)" if urgent else ""))

    def action_filter(self) -> None:
        """Filter the list as you type."""
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, _: Input.Submitted) -> None:
        self.query_one(TaskTable).focus()

    def action_clear_filter(self) -> None:
        """Clear the filter (or narrow the detail pane)."""
        box = self.query_one("#filter", Input)
        if box.display or self.filter_text:
            box.value = ""
            box.display = False
            self.filter_text = ""
            self.query_one(TaskTable).focus()
        elif self.expanded:
            self.expanded = False

    def action_next_view(self) -> None:
        """Cycle: all, creative, mechanical, done today."""
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]

    def action_cursor(self, step: int) -> None:
        """Move the cursor in the list."""
        self.query_one(TaskTable).action_cursor(step)

    def action_row(self, index: int) -> None:
        """The first (``0``) or last (``-1``) task in the list."""
        table = self.query_one(TaskTable)
        table.move_cursor(row=index % max(1, table.row_count))

    def action_jump(self) -> None:
        """Go to a task by its id (typed after ``#`` or ``:``)."""
        screen = CaptureScreen("Go to task #", placeholder="its id, then enter")
        self.app.push_screen(screen, self._jumped)

    async def _jumped(self, text: str | None) -> None:
        wanted = (text or "").strip().lstrip("#")
        if wanted.isdecimal() and await self.query_one(TaskTable).locate(int(wanted)):
            return
        if wanted:
            where = f"the {self.view} view" + (" with this filter" if self.filter_text else "")
            self.notify(f"#{wanted} is not in {where}", severity="warning", markup=False)
