"""A one-line input that never draws a control character: pasted escapes become ``␛``."""

from __future__ import annotations

from typing import Any

from textual.widgets import Input

from focusq.cli.output import visible


class TextInput(Input):
    """An ``Input`` whose value never holds a control character.

    Keys cannot type one, but a paste can (an escape sequence copied from a terminal),
    and ``Input`` draws its value as it is: what is pasted is shown as pictures instead,
    and kept that way (a title holds ``␛``, not an escape).
    """

    def __init__(self, value: str | None = None, **kwargs: Any) -> None:
        super().__init__(visible(value) if value else value, **kwargs)

    def replace(self, text: str, start: int, end: int) -> None:
        super().replace(visible(text), start, end)
