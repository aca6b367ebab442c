"""Messages the app's parts send each other (attributes down, messages up)."""

from __future__ import annotations

from textual.message import Message


class DatabaseChanged(Message):
    """The database files changed: another process (or this one) wrote.

    A burst of changes collapses into one message while the first waits in the queue.
    """

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DatabaseChanged)


class ThemesChanged(Message):
    """A theme file was added, edited or removed."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ThemesChanged)
