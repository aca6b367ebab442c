"""A job's log: its end at once (any size), what is appended after, matches highlighted.

The view holds one part of the file (the last :data:`OPEN_BYTES` when it opens); a search
(:class:`LogSearch`) reads the whole file, from the disk, and the view loads the part
around a match that lies before what it holds.
"""

from __future__ import annotations

import os
import threading
from bisect import bisect_right
from dataclasses import dataclass
from typing import BinaryIO, ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from focusq.cli.output import visible

OPEN_BYTES = 256 * 1024
"""How much of the file the view holds: the end when it opens, or the part around a match."""
MAX_LINES = 200_000
"""Lines kept while following a job that writes a lot; older ones are let go (a search
still finds them, on the disk)."""
CHUNK = 4 * 1024 * 1024
"""How much a search reads at a time."""
MAX_MATCHES = 100_000
"""A search stops counting here (``100,000+``)."""


class LogsChanged(Message):
    """A log file in the logs folder was written. A burst is one message."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LogsChanged)


def frame(line: str) -> str:
    """What a terminal would show of ``line``: a ``\\r`` progress bar's last frame.

    A line ending in ``\\r\\n`` (CRLF output) keeps its text.
    """
    return line.removesuffix("\r").rsplit("\r", 1)[-1]


def collapse(text: str) -> list[str]:
    """Lines with ``\\r`` progress bars collapsed to their last frame."""
    return [frame(line) for line in text.split("\n")]


def shown(raw: bytes) -> str:
    """A raw line of a log as the view shows it (its escapes as pictures, never obeyed)."""
    return visible(frame(raw.decode("utf-8", errors="replace")))


@dataclass(frozen=True, slots=True)
class Match:
    """A line holding the search text."""

    line: int
    """Its line number in the file, from 1."""
    offset: int
    """Where the line starts in the file, in bytes."""


class LogSearch:
    """Every line of a log file holding ``needle`` (ignoring case), read from the disk.

    :meth:`scan` goes on from where it stopped, so a growing log costs only what was
    added. A line still being written (no newline yet) is looked at once it ends.
    """

    def __init__(self, path: str, needle: str) -> None:
        self.path = path
        self.needle = needle
        self.matches: list[Match] = []
        self.capped = False
        """More than :data:`MAX_MATCHES` lines match; only the first are kept."""
        self.scanned_to = 0
        self._lines = 0
        """Complete lines before ``scanned_to``."""
        self._lock = threading.Lock()

    def scan(self) -> None:
        """Read what was not read yet (the whole file the first time)."""
        with self._lock:
            try:
                with open(self.path, "rb") as file:
                    self._scan(file)
            except OSError:
                return

    def _scan(self, file: BinaryIO) -> None:
        size = file.seek(0, os.SEEK_END)
        if size < self.scanned_to:  # the file was replaced: start again
            self.matches, self.capped, self.scanned_to, self._lines = [], False, 0, 0
        file.seek(self.scanned_to)
        carry = b""
        at = self.scanned_to  # the file offset of carry's first byte
        while data := file.read(CHUNK):
            block = carry + data
            end = block.rfind(b"\n") + 1
            if end == 0:
                carry = block  # a line longer than a chunk: read on
                continue
            self._scan_block(block[:end], at)
            at += end
            carry = block[end:]
        self.scanned_to = at

    def _scan_block(self, block: bytes, base: int) -> None:
        """Find the matches in ``block`` (whole lines starting at file offset ``base``)."""
        wanted = self.needle.lower()
        if not wanted:
            return
        if not wanted.isascii():
            self._scan_lines(block, base, wanted)
            return
        # Fast path: find the bytes, then look at only the lines they fall in.
        haystack, needle = block.lower(), wanted.encode()
        line, counted = self._lines, 0
        found = haystack.find(needle)
        while found != -1 and not self.capped:
            start = block.rfind(b"\n", 0, found) + 1
            end = block.find(b"\n", found)
            line += block.count(b"\n", counted, start)
            counted = start
            if wanted in shown(block[start:end]).lower():  # not in a frame overdrawn by \r
                self._add(Match(line + 1, base + start))
            found = haystack.find(needle, end + 1)
        self._lines += block.count(b"\n")

    def _scan_lines(self, block: bytes, base: int, wanted: str) -> None:
        offset = base
        for raw in block.split(b"\n")[:-1]:
            self._lines += 1
            if not self.capped and wanted in shown(raw).lower():
                self._add(Match(self._lines, offset))
            offset += len(raw) + 1

    def _add(self, match: Match) -> None:
        if len(self.matches) >= MAX_MATCHES:
            self.capped = True
            return
        self.matches.append(match)

    def count(self) -> str:
        """How many lines match, as the screen says it."""
        return f"{len(self.matches):,}" + ("+" if self.capped else "")

    def nearest(self, offset: int) -> int | None:
        """The index of the last match at or before ``offset``, else of the first one."""
        if not self.matches:
            return None
        index = bisect_right([m.offset for m in self.matches], offset) - 1
        return max(index, 0)


class LogView(ScrollView, can_focus=True):
    """One part of a log file (its end, following what is appended), search text marked."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"log-view--match", "log-view--current"}
    """The search text (``--match``), and on the current match's line (``--current``)."""

    DEFAULT_CSS = """
    LogView {
        background: $surface;
        color: $text;
        overflow-x: auto;
        overflow-y: scroll;
        & > .log-view--match {
            background: $warning-muted;
        }
        & > .log-view--current {
            background: $warning;
            color: $background;
            text-style: bold;
        }
    }
    """

    def __init__(self, path: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.path = path
        self.lines: list[str] = []
        """The lines held, as shown."""
        self.offsets: list[int] = []
        """Where each line held starts in the file."""
        self.read_to = 0
        """How far the file was read (an unfinished last line included)."""
        self.pending = b""
        """The last line while the job has not finished writing it."""
        self.at_end = True
        """The part held reaches the end of the file: what is appended comes in."""
        self.follow = True
        """Scroll to new lines (until the view is moved to a match)."""
        self.needle = ""
        self.current: int | None = None
        """The index of the current match's line."""
        self._width = 0
        self._cache: LRUCache[int, Strip] = LRUCache(1024)

    @property
    def skipped(self) -> int:
        """Bytes of the file before the part held."""
        return self.offsets[0] if self.offsets else self.read_to - len(self.pending)

    @property
    def line_count(self) -> int:
        """Lines held."""
        return len(self.lines)

    def on_mount(self) -> None:
        self.open_end()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    # -- loading ----------------------------------------------------------------------------

    def open_end(self) -> None:
        """Hold the end of the file, scrolled to its last line, and follow it."""
        try:
            size = os.path.getsize(self.path)
        except OSError:
            size = 0
        self._load(max(0, size - OPEN_BYTES), to_end=True)
        self.follow = True
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        # The first time, the view has no height yet: scroll again once it has one.
        self.call_after_refresh(self.scroll_end, animate=False, x_axis=False)

    def open_at(self, offset: int) -> None:
        """Hold the part of the file around ``offset`` (to the end, if it is near)."""
        size = os.path.getsize(self.path)
        start = max(0, offset - OPEN_BYTES // 4)
        self._load(start, to_end=start + OPEN_BYTES >= size)

    def _load(self, start: int, *, to_end: bool) -> None:
        self.lines, self.offsets, self.pending, self._width = [], [], b"", 0
        self.current = None
        self._cache.clear()
        try:
            with open(self.path, "rb") as file:
                start = _line_start(file, start)
                file.seek(start)
                data = file.read() if to_end else file.read(OPEN_BYTES)
        except OSError:
            data = b""
            start = 0
        self.read_to = start
        self.at_end = to_end
        if not to_end:
            data = data[: data.rfind(b"\n") + 1]  # whole lines only
        self._take(data)

    def load_new(self) -> None:
        """Take in what the job appended since the last read."""
        if not self.at_end:
            return  # a part far from the end is on screen: `G` comes back
        try:
            with open(self.path, "rb") as file:
                size = file.seek(0, os.SEEK_END)
                if size < self.read_to:  # the file was replaced
                    self.open_end()
                    return
                file.seek(self.read_to)
                data = file.read(size - self.read_to)
        except OSError:
            return
        if not data:
            return
        stick = self.follow and self.is_vertical_scroll_end
        self._take(data)
        if stick:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def _take(self, data: bytes) -> None:
        """Add the lines in ``data`` (read from ``read_to``) to what is held."""
        at = self.read_to - len(self.pending)
        self.read_to += len(data)
        parts = (self.pending + data).split(b"\n")
        self.pending = parts.pop()
        new = []
        for raw in parts:
            self.offsets.append(at)
            new.append(shown(raw))
            at += len(raw) + 1
        if new:
            self.lines.extend(new)
            self._width = max(self._width, max(cell_len(line.expandtabs()) for line in new))
        extra = len(self.lines) - MAX_LINES
        if extra > 0:
            del self.lines[:extra], self.offsets[:extra]
            self._cache.clear()
            self.current = (
                None if self.current is None or self.current < extra else self.current - extra
            )
            self.scroll_to(y=max(0, self.scroll_y - extra), animate=False, immediate=True)
        self.virtual_size = Size(self._width, len(self.lines))
        self.refresh()

    # -- search -----------------------------------------------------------------------------

    def mark(self, needle: str) -> None:
        """Highlight ``needle`` (ignoring case) wherever it is on screen."""
        self.needle = needle
        self.current = None
        self._cache.clear()
        self.refresh()

    def index_of(self, offset: int) -> int | None:
        """The index of the line held starting at file offset ``offset``."""
        index = bisect_right(self.offsets, offset) - 1
        if index < 0 or self.offsets[index] != offset:
            return None
        return index

    def show_match(self, match: Match) -> None:
        """Bring the line of ``match`` to the middle of the view, marked as current."""
        index = self.index_of(match.offset)
        if index is None:
            self.open_at(match.offset)
            index = self.index_of(match.offset)
            if index is None:
                return  # the file changed under the search
        self.current = index
        self.follow = False
        self._cache.clear()
        self.scroll_to(
            y=max(0, index - self.scrollable_content_region.height // 2),
            animate=False,
            immediate=True,
        )
        self.refresh()

    def bottom_offset(self) -> int:
        """Where the last line in view starts in the file."""
        if not self.offsets:
            return self.read_to
        last = min(len(self.offsets), int(self.scroll_y) + self.scrollable_content_region.height)
        return self.offsets[max(0, last - 1)]

    # -- drawing ----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        style = self.rich_style
        if index >= len(self.lines):
            return Strip.blank(width, style)
        strip = self._cache.get(index)
        if strip is None:
            strip = self._strip(index, style)
            self._cache[index] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, style)

    def _strip(self, index: int, style: Style) -> Strip:
        text = Text(self.lines[index].expandtabs(), style=style, no_wrap=True, end="")
        if self.needle:
            role = "log-view--current" if index == self.current else "log-view--match"
            mark = self.get_component_rich_style(role)
            lowered, needle = text.plain.lower(), self.needle.lower()
            found = lowered.find(needle)
            while found != -1:
                text.stylize(mark, found, found + len(needle))
                found = lowered.find(needle, found + len(needle))
        return Strip(text.render(self.app.console), text.cell_len)


def _line_start(file: BinaryIO, offset: int) -> int:
    """The start of the first line at or after ``offset``."""
    if offset <= 0:
        return 0
    file.seek(offset - 1)
    at = offset - 1
    while piece := file.read(64 * 1024):
        newline = piece.find(b"\n")
        if newline != -1:
            return at + newline + 1
        at += len(piece)
    return at
