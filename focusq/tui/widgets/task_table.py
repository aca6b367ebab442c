"""The task list: open tasks in the order they will be taken, drawn a screenful at a time.

A virtual list (Textual's Line API): the store counts the list and hands it over a page
at a time (``store.ops.pages``); only the rows around what is on screen are held, and
only the lines on screen are drawn. It looks like the ``DataTable`` it replaces: the same
columns, sized to what they hold, the same cursor and header styles.
"""

from __future__ import annotations

from itertools import chain
from typing import Any, ClassVar

from rich.console import RenderableType
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, work
from textual._segment_tools import line_crop
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size, Spacing
from textual.message import Message
from textual.render import measure
from textual.renderables.styled import Styled
from textual.scroll_view import ScrollView
from textual.strip import Strip

from focusq.errors import FocusqError
from focusq.store.aio import Store
from focusq.store.ops import pages
from focusq.store.ops.pages import Listing, Summary
from focusq.tui.widgets.task_cells import COLUMNS, cells

PAGE_SCREENS = 3
"""Rows held: this many screenfuls around the one shown (one above, one below)."""


class TaskTable(ScrollView, can_focus=True, inherit_bindings=False):
    """One row per task of the list the screen asks for; the cursor stays on its task."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Select", show=False),
        Binding("up", "cursor(-1)", "Cursor up", show=False),
        Binding("down", "cursor(1)", "Cursor down", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("ctrl+home", "first", "Top", show=False),
        Binding("ctrl+end", "last", "Bottom", show=False),
    ]
    """| key | action |
    | --- | --- |
    | enter | the task's details |
    | up / down | previous / next task |
    | left / right | scroll the titles |
    | pageup / pagedown | a screenful up / down |
    | ctrl+home / ctrl+end | first / last task |
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"task-table--cursor", "task-table--header"}
    """| class | what |
    | --- | --- |
    | `task-table--cursor` | the row under the cursor |
    | `task-table--header` | the column names |
    """

    DEFAULT_CSS = """
    TaskTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .task-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .task-table--header {
                background-tint: $foreground 5%;
            }
        }
        & > .task-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .task-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .task-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    class Highlighted(Message):
        """The cursor came to rest on another task (or on none)."""

        def __init__(self, task_id: int | None) -> None:
            super().__init__()
            self.task_id = task_id

    class Selected(Message):
        """Enter (or a click) on the task under the cursor."""

        def __init__(self, task_id: int) -> None:
            super().__init__()
            self.task_id = task_id

    def __init__(self, store: Store, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self._listing: Listing | None = None
        self._summary = Summary((), 0, frozenset())
        self._rows: dict[int, dict[str, Any]] = {}
        """Row index -> task record, for the rows held."""
        self._where: dict[int, int] = {}
        """Task id -> row index, for the rows held."""
        self._cells: dict[int, tuple[Text, ...]] = {}
        """Task id -> its cells, in the theme they were made for."""
        self._widths = [measure_label(label) for label, _ in COLUMNS]
        self._cursor = 0
        self._announced: int | None = -1
        self._generation = 0
        self._fetching = False
        self._line_cache: dict[tuple[Any, ...], list[Segment]] = {}

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._recolour())

    # -- what the tests and the screen read -------------------------------------------------

    @property
    def row_count(self) -> int:
        """Rows in the whole list (most of them not held)."""
        return self._summary.count

    @property
    def listing(self) -> Listing | None:
        """What the list shows (``None`` before it is first read)."""
        return self._listing

    @property
    def cursor_row(self) -> int:
        """The row index under the cursor."""
        return self._cursor

    @property
    def selected_id(self) -> int | None:
        """The id of the task under the cursor (``None`` while its page is being read)."""
        row = self._rows.get(self._cursor) if self.row_count else None
        return int(row["id"]) if row is not None else None

    @property
    def selected(self) -> dict[str, Any] | None:
        """The record of the task under the cursor."""
        return self._rows.get(self._cursor) if self.row_count else None

    @property
    def held_rows(self) -> int:
        """How many rows are held (a few screenfuls, whatever the list's length)."""
        return len(self._rows)

    def is_held(self, task_id: int) -> bool:
        """Whether ``task_id`` is among the rows held (on screen or near it)."""
        return task_id in self._where

    def get_row_index(self, key: str) -> int:
        """The row index of task ``key`` (an id), if its row is held; else ``KeyError``."""
        return self._where[int(key)]

    def get_row_at(self, index: int) -> list[Text]:
        """The cells of row ``index`` (held rows only)."""
        return list(self._cells[int(self._rows[index]["id"])])

    def get_cell(self, key: str, column: str) -> Text:
        """Task ``key``'s cell in ``column`` (``id``, ``kind``, ``priority``, ``status``,
        ``title``)."""
        names = [name for _, name in COLUMNS]
        return self._cells[int(key)][names.index(column)]

    # -- reading the list -------------------------------------------------------------------

    async def show(self, listing: Listing, *, follow: int | None = None) -> None:
        """Read ``listing`` again: its length and the rows around the cursor, which stays on
        its task (or goes to ``follow``) if the list still holds it."""
        self._generation += 1
        generation = self._generation
        summary = await self.store.run(pages.summary(listing))
        wanted = follow if follow is not None else self.selected_id
        row = None
        if wanted is not None:
            row = await self.store.run(pages.position(listing, summary.sizes, wanted))
        if row is None:
            row = min(self._cursor, max(0, summary.count - 1))
        top = self._top_for(row, summary.count)
        start, limit = self._window(top)
        records = await self.store.run(pages.page(listing, summary.sizes, start, limit))
        if generation != self._generation:
            return  # a newer read took over
        fresh = listing != self._listing
        self._listing, self._summary = listing, summary
        self._hold(start, records, fresh=True)
        self._widths[-1] = measure_label(COLUMNS[-1][0])
        self._fit()
        self._cursor = row
        self.scroll_to(y=top, animate=False, force=True, immediate=True)
        if fresh:
            self.scroll_to(x=0, animate=False, force=True, immediate=True)
        self._changed()

    async def locate(self, task_id: int) -> bool:
        """Put the cursor on ``task_id``; ``False`` if the list does not hold it."""
        if task_id in self._where:
            self.move_cursor(row=self._where[task_id])
            return True
        if self._listing is None:
            return False
        await self.show(self._listing, follow=task_id)
        return self.selected_id == task_id

    def _top_for(self, row: int, count: int) -> int:
        """The first row shown so that ``row`` is on screen, moving as little as may be."""
        shown = self._shown()
        top = int(self.scroll_y)
        if row < top:
            top = row
        elif row >= top + shown:
            top = row - shown + 1
        return max(0, min(top, count - shown))

    def _shown(self) -> int:
        """Rows on screen (below the header)."""
        return max(1, self.scrollable_content_region.height - 1)

    def _window(self, top: int) -> tuple[int, int]:
        """The first row to hold and how many, for a screen starting at ``top``."""
        shown = max(self._shown(), 16)
        return max(0, top - shown), shown * PAGE_SCREENS

    def _hold(self, start: int, records: list[dict[str, Any]], *, fresh: bool) -> None:
        if fresh:
            self._rows, self._where, self._cells = {}, {}, {}
        else:
            # Keep what is near the new window only: memory stays a few pages at any size.
            _, limit = self._window(start)
            keep = range(start - limit, start + 2 * limit)
            for index in [i for i in self._rows if i not in keep]:
                gone = self._rows.pop(index)
                self._where.pop(int(gone["id"]), None)
                self._cells.pop(int(gone["id"]), None)
        colours = self.app.theme_variables
        for offset, record in enumerate(records):
            index = start + offset
            old = self._rows.get(index)
            if old is not None and old["id"] != record["id"]:
                self._where.pop(int(old["id"]), None)
            self._rows[index] = record
            self._where[int(record["id"])] = index
            self._cells[int(record["id"])] = cells(record, colours)

    def _fit(self) -> None:
        """Each column as wide as its widest cell held (the ID and Status columns as wide
        as anything in the whole list), as the table before this one was."""
        summary = self._summary
        widths = self._widths
        if summary.count:
            widths[0] = max(widths[0], len(str(summary.top_id)))
            widths[1] = max(widths[1], 3)
            widths[3] = max([widths[3], *(len(s) for s in summary.statuses)])
        console = self.app.console
        for row in self._cells.values():
            widths[4] = max(widths[4], measure(console, row[4], 1))
        self.virtual_size = Size(sum(w + 2 for w in widths), summary.count + 1)

    def _changed(self) -> None:
        """Draw again, and say so if the cursor now rests on another task."""
        self._line_cache.clear()
        self.refresh()
        current = self.selected_id
        if (current is not None or not self.row_count) and current != self._announced:
            self._announced = current
            self.post_message(self.Highlighted(current))

    @work(exclusive=True, group="task-page")
    async def _fetch(self) -> None:
        """Read the rows around the screen (it scrolled, or the cursor left the rows held)."""
        listing, generation = self._listing, self._generation
        if listing is None:
            self._fetching = False
            return
        top = min(int(self.scroll_y), max(0, self.row_count - 1))
        if self._cursor not in range(top, top + self._shown()):
            top = self._top_for(self._cursor, self.row_count)
        start, limit = self._window(top)
        try:
            records = await self.store.run(pages.page(listing, self._summary.sizes, start, limit))
        except FocusqError:
            records = []
        finally:
            self._fetching = False
        if generation != self._generation:
            return
        self._hold(start, records, fresh=False)
        self._fit()
        self._changed()

    def _missing(self) -> None:
        if not self._fetching and self._listing is not None:
            self._fetching = True
            self.call_later(self._fetch)

    # -- the cursor -------------------------------------------------------------------------

    def move_cursor(self, *, row: int, scroll: bool = True) -> None:
        """Put the cursor on row ``row`` (kept within the list)."""
        self._cursor = max(0, min(row, self.row_count - 1))
        if scroll:
            self._scroll_to_cursor()
        if self._cursor not in self._rows and self.row_count:
            self._missing()
        self._changed()

    def _scroll_to_cursor(self) -> None:
        region = Region(int(self.scroll_x), self._cursor + 1, self.size.width, 1)
        self.scroll_to_region(region, animate=False, spacing=Spacing(1, 0, 0, 0), force=True)

    def action_cursor(self, step: int) -> None:
        """Move the cursor ``step`` rows."""
        self.move_cursor(row=self._cursor + step)

    def action_page(self, direction: int) -> None:
        """A screenful up or down."""
        shown = self._shown()
        self.scroll_relative(y=direction * shown, animate=False, force=True)
        self.move_cursor(row=self._cursor + direction * shown, scroll=False)

    def action_first(self) -> None:
        """The first task."""
        self.move_cursor(row=0)

    def action_last(self) -> None:
        """The last task."""
        self.move_cursor(row=self.row_count - 1)

    def action_select_cursor(self) -> None:
        """Tell the screen the task under the cursor was chosen."""
        if (task_id := self.selected_id) is not None:
            self.post_message(self.Selected(task_id))

    async def _on_click(self, event: events.Click) -> None:
        row = event.style.meta.get("row")
        if not isinstance(row, int) or row < 0:
            return
        if row == self._cursor:
            self.action_select_cursor()
        else:
            self.move_cursor(row=row)
        event.stop()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        top = int(new)
        if any(i not in self._rows for i in range(top, min(top + self._shown(), self.row_count))):
            self._missing()

    def _recolour(self) -> None:
        # A theme's colours are baked into the cells: a new theme draws them again.
        colours = self.app.theme_variables
        self._cells = {int(r["id"]): cells(r, colours) for r in self._rows.values()}
        self._line_cache.clear()
        self.refresh()

    # -- drawing ----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        base = self.rich_style
        if y == 0:
            line = self._line(-1, base)
        else:
            index = y - 1 + scroll_y
            if index >= self.row_count:
                return Strip.blank(width, base)
            if index not in self._rows:
                self._missing()
                return Strip.blank(width, base)
            line = self._line(index, base)
        segments = line_crop(line, scroll_x, scroll_x + width, width)
        return Strip(segments).adjust_cell_length(width, base).simplify()

    def _line(self, index: int, base: Style) -> list[Segment]:
        """Row ``index`` (``-1``: the header) as segments, cells padded one cell each side
        and the rest of the width filled in the row's style."""
        cursor = index == self._cursor and index >= 0
        key = (index, cursor, base, self.get_pseudo_class_state(), self.size.width)
        if key in self._line_cache:
            return self._line_cache[key]
        if index < 0:
            row_style = self.get_component_styles("task-table--header").rich_style
            row: tuple[RenderableType, ...] = tuple(Text(label) for label, _ in COLUMNS)
        else:
            row_style = base
            row = self._cells[int(self._rows[index]["id"])]
        component = self.get_component_rich_style("task-table--cursor") if cursor else Style()
        post = Style.from_color(color=component.color) + Style.from_color(bgcolor=component.bgcolor)
        console = self.app.console
        parts = []
        for column, (cell, width) in enumerate(zip(row, self._widths, strict=True)):
            options = self.app.console_options.update_dimensions(width + 2, 1).update(no_wrap=True)
            meta = Style.from_meta({"row": index, "column": column})
            lines = console.render_lines(
                Styled(
                    Padding(cell, (0, 1)), pre_style=row_style + meta + component, post_style=post
                ),
                options,
            )
            parts.append(lines[0])
        room = max(0, self.size.width - sum(w + 2 for w in self._widths))
        fill = (
            row_style
            + component
            + Style.from_meta({"row": index, "column": 0, "out_of_bounds": True})
        )
        line = [*chain.from_iterable(parts), Segment(" " * room, fill)]
        self._line_cache[key] = line
        return line


def measure_label(label: str) -> int:
    """A column name's width."""
    return len(label)
