"""A job's log, from its end: a gigabyte opens instantly; new lines follow while it runs."""

from __future__ import annotations

import os

from textual.widgets import Log

from focusq.cli.output import visible

OPEN_BYTES = 256 * 1024
"""How much of the end of the file to show when opening."""


def collapse(text: str) -> list[str]:
    """Lines with ``\\r`` progress bars collapsed to their last frame."""
    return [line.rsplit("\r", 1)[-1] for line in text.split("\n")]


class LogView(Log):
    """Shows the end of a log file and appends what is written to it after."""

    def __init__(self, path: str, **kwargs: object) -> None:
        super().__init__(highlight=False, max_lines=20000, **kwargs)  # type: ignore[arg-type]
        self.path = path
        self.read_to = 0
        self.pending = ""
        self.skipped = 0
        """Bytes before the part shown (the log is opened from its end)."""

    def on_mount(self) -> None:
        self.load_new()

    def load_new(self) -> None:
        """Read what was appended since the last read (the tail end, the first time)."""
        try:
            with open(self.path, "rb") as file:
                size = file.seek(0, os.SEEK_END)
                if self.read_to == 0 and size > OPEN_BYTES:
                    self.read_to = self.skipped = size - OPEN_BYTES
                if size < self.read_to:  # the file was replaced
                    self.read_to = 0
                file.seek(self.read_to)
                data = file.read(max(0, size - self.read_to))
        except OSError:
            return
        if not data:
            return
        self.read_to += len(data)
        text = self.pending + data.decode("utf-8", errors="replace")
        lines = collapse(text)
        self.pending = lines.pop()
        if self.skipped and self.line_count == 0 and lines:
            lines[0] = f"… ({self.skipped:,} earlier bytes not shown)"
        if lines:
            # A job's escapes (colours too) are shown, never sent to the terminal.
            self.write_lines([visible(line) for line in lines])

    def find(self, needle: str, start: int = 0) -> int | None:
        """The index of the first line at or after ``start`` containing ``needle``."""
        lowered = needle.lower()
        for index in range(start, self.line_count):
            if lowered in self.lines[index].lower():
                return index
        return None
