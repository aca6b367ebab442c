"""What a task's row in the list says: its cells, coloured from the theme."""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual.color import Color, ColorParseError

from focusq.tui.text import literal

COLUMNS = (
    ("ID", "id"),
    ("Kind", "kind"),
    ("P", "priority"),
    ("Status", "status"),
    ("Title", "title"),
)
"""Each column's name and key, in the order shown."""

KIND_LABELS = {"mechanical": "job", "creative": "you"}
"""The Kind column: a job runs by itself; the rest is yours to do (as ``focusq ls`` says)."""

_STATUS_STYLE = {
    "running": ("bold", ""),
    "paused": ("italic", ""),
    "failed": ("bold", "text-error"),
    "waiting": ("italic", ""),
    "held": ("italic", ""),
}
"""A status's text style and the theme variable of its colour ("": the table's own)."""

_EXTRA = "text-secondary"
"""The theme variable coloring a title's tags and project."""


def cells(task: dict[str, Any], colours: dict[str, str]) -> tuple[Text, ...]:
    """The row of ``task``, coloured from the theme's ``colours`` (its variables)."""

    def style(text_style: str, variable: str) -> Style:
        try:
            colour = Color.parse(colours[variable]).rich_color if variable else None
        except (KeyError, ColorParseError):
            colour = None
        return Style.parse(text_style) + Style(color=colour)

    title = literal(task["title"])
    extra = [f" +{tag}" for tag in task["tags"]]
    if task["project"]:
        extra.append(f" project:{task['project']}")
    for words in extra:
        part = literal(words)
        part.stylize(style("", _EXTRA))
        title.append_text(part)
    status = Text()
    status.append(task["status"], style(*_STATUS_STYLE.get(task["status"], ("", ""))))
    return (
        Text(str(task["id"])),
        Text(KIND_LABELS[task["kind"]]),
        Text(task["priority"]),
        status,
        title,
    )
