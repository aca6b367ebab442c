"""User text on screen: titles, notes, commands, log lines, labels, always as written.

A ``str`` handed to ``Static``, a ``DataTable`` cell or a border title is read as markup,
so ``[/wip]`` crashes the app and ``[WIP]`` vanishes; a ``Text`` is shown as it is.
Every piece of text a user or a job wrote goes on screen through :func:`literal`.
"""

from __future__ import annotations

from rich.text import Text

from focusq.cli.output import visible


def literal(text: str, style: str = "", *, lines: bool = False) -> Text:
    """``text`` as written (``[b]`` stays ``[b]``), its control characters shown (``␛``).

    One line unless ``lines``: a newline shows as ``␊``, so a title keeps its row.
    """
    return Text(visible(text, lines=lines), style=style)


def cut(text: str, room: int) -> str:
    """``text``, cut to ``room`` characters with ``…`` when longer."""
    return text if len(text) <= room else text[: room - 1] + "…"
