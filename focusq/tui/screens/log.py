"""A job's log: from the end of the file, following while the job runs, searchable."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from focusq.errors import FocusqError
from focusq.store.ops import jobs, tasks
from focusq.tui.messages import DatabaseChanged
from focusq.tui.text import literal
from focusq.tui.widgets.log_view import LogsChanged, LogSearch, LogView
from focusq.tui.widgets.text_input import TextInput

if TYPE_CHECKING:
    from typing import Any

    from focusq.tui.app import FocusqApp


def run_state(task: dict[str, Any] | None, run: dict[str, Any] | None) -> str:
    """What the title says of a run: ``running``, ``paused``, ``failed, exit 2``..."""
    if run is None:
        return "no run"
    if run["ended_at"] is None:
        status = task["status"] if task else "running"
        return status if status in ("running", "paused") else "running"
    said = run["result"] or "ended"
    if run["exit_code"] is not None:
        return f"{said}, exit {run['exit_code']}"
    if run["signal"] is not None:
        return f"{said}, signal {run['signal']}"
    return f"{said}, exit code unknown"


def size(count: int) -> str:
    """``256 KiB``, ``1.0 MiB``."""
    if count < 1024 * 1024:
        return f"{count / 1024:.0f} KiB"
    if count < 1024**3:
        return f"{count / 1024**2:.1f} MiB"
    return f"{count / 1024**3:.1f} GiB"


class LogScreen(Screen[None]):
    """The log of one run: it opens at the end; ``/`` searches the whole file."""

    CSS_PATH = "log.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="log.close", tooltip="Back to the day"),
        Binding("slash", "search", "Search", id="log.search", tooltip="Find text in the log"),
        Binding("n", "next_match(1)", "Next", id="log.next", tooltip="Go to the next match"),
        Binding(
            "N", "next_match(-1)", "Previous", id="log.previous", tooltip="Go to the previous match"
        ),
        Binding("G,end", "end", "End", id="log.end", tooltip="Jump to the end and follow"),
    ]
    """| key | action |
    | --- | --- |
    | escape, q | back (escape closes the search box first) |
    | / | search the whole file (enter an empty search to clear it) |
    | n / N | next / previous match |
    | G, end | jump to the end and follow |
    """

    def __init__(
        self, title: str, path: str, task_id: int | None = None, attempt: int | None = None
    ) -> None:
        super().__init__()
        self.title_text = title
        self.path = path
        self.task_id = task_id
        self.attempt = attempt
        self.state = ""
        """The run's state as the title says it (empty until read)."""
        self.search: LogSearch | None = None
        self.match = -1
        """The index of the current match in ``search.matches``."""

    @property
    def fq(self) -> FocusqApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="log-title")
        yield LogView(self.path, id="log-view")
        yield Static("", id="log-status")
        yield TextInput(
            placeholder="search the whole log (enter: find, escape: close)", id="log-search"
        )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#log-search").display = False
        self.query_one(LogView).focus()
        self.show_status()
        self.fq.follow_logs()
        self.read_state()

    # -- the title --------------------------------------------------------------------------

    def _title(self) -> Text:
        parts = [self.title_text, *([self.state] if self.state else []), Path(self.path).name]
        return literal("  ·  ".join(parts))

    @on(DatabaseChanged)
    def _database_changed(self) -> None:
        self.read_state()

    @work(exclusive=True, group="log-state")
    async def read_state(self) -> None:
        """Say the run's state in the title (and its exit code once it ended)."""
        if self.task_id is None:
            return
        try:
            task = await self.fq.store.run(tasks.get_task(self.task_id))
            runs = await self.fq.store.run(jobs.runs_of(self.task_id))
        except FocusqError:
            return
        run = next((r for r in runs if r["attempt"] == self.attempt), runs[-1] if runs else None)
        self.state = run_state(task, run)
        self.query_one("#log-title", Static).update(self._title())

    # -- following --------------------------------------------------------------------------

    @on(LogsChanged)
    def _log_grew(self) -> None:
        self.query_one(LogView).load_new()
        if self.search is not None:
            self._scan(self.search, jump=False)
        self.show_status()

    def action_end(self) -> None:
        """Back to the end, following new lines."""
        self.query_one(LogView).open_end()
        self.show_status()

    def action_close(self) -> None:
        """Close the search box if it is open; else back to where the log was opened from."""
        box = self.query_one("#log-search", Input)
        if box.display:
            box.display = False
            self.query_one(LogView).focus()
            return
        self.dismiss()

    # -- search -----------------------------------------------------------------------------

    def action_search(self) -> None:
        """Show the search box."""
        box = self.query_one("#log-search", Input)
        box.display = True
        box.focus()

    @on(Input.Submitted, "#log-search")
    def _searched(self, event: Input.Submitted) -> None:
        event.input.display = False
        view = self.query_one(LogView)
        view.focus()
        needle = event.value
        self.match = -1
        view.mark(needle)
        if not needle:
            self.search = None
            self.show_status()
            return
        self.search = LogSearch(self.path, needle)
        self.query_one("#log-status", Static).update(literal(f"searching for '{needle}'…"))
        self._scan(self.search, jump=True)

    @work(thread=True, group="log-search")
    def _scan(self, search: LogSearch, *, jump: bool) -> None:
        """Read the file for ``search`` (what was added since, after the first time)."""
        search.scan()
        self.app.call_from_thread(self._scanned, search, jump)

    def _scanned(self, search: LogSearch, jump: bool) -> None:
        if search is not self.search or not self.is_mounted:
            return  # a newer search, or the screen went
        if jump and search.matches:
            # The latest match above the bottom of the view: a log is read from its end.
            nearest = search.nearest(self.query_one(LogView).bottom_offset())
            self._go(nearest or 0)
            return
        self.show_status()

    def action_next_match(self, step: int) -> None:
        """Go to the next (``1``) or previous (``-1``) match, round the file."""
        search = self.search
        if search is None:
            self.notify("press / to search", timeout=2)
            return
        if not search.matches:
            self.show_status()
            return
        index = self.match + step
        wrapped = not 0 <= index < len(search.matches)
        self._go(index % len(search.matches))
        if wrapped:
            where = "top" if step > 0 else "end"
            self.notify(f"search went round to the {where}", timeout=2)

    def _go(self, index: int) -> None:
        assert self.search is not None
        self.match = index
        self.query_one(LogView).show_match(self.search.matches[index])
        self.show_status()

    def show_status(self) -> None:
        """The line under the log: the search's matches, or how much of the file is held."""
        view = self.query_one(LogView)
        search = self.search
        out = Text()
        if search is not None:
            out.append_text(literal(f"'{search.needle}'", "bold"))
            if not search.matches:
                out.append(" is not in the log")
            elif self.match < 0:
                out.append(f" · {search.count()} matches · n: next")
            else:
                line = search.matches[self.match].line
                out.append(f" · match {self.match + 1:,} of {search.count()} · line {line:,}")
                out.append(" · n/N", style="dim")
        elif view.skipped:
            total = view.read_to
            out.append(f"the last {size(total - view.skipped)} of {size(total)}; / searches it all")
        if not view.at_end:
            out.append(" · G: back to the end", style="dim")
        self.query_one("#log-status", Static).update(out)
