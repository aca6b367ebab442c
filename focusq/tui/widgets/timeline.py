"""The day's timeline: a focus lane and one lane per job slot, drawn over the time blocks.

The focus lane also marks untracked time in async blocks (neither focus nor a pause or
break) with dots. Another executor's slots are lanes of their own, named after it.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from focusq.review.figures import Span, Timeline
from focusq.review.timeline import (
    SPAN_CHARS,
    UNTRACKED,
    axis_line,
    block_cells,
    label_width,
    lane_cells,
    lanes,
    span_kind,
)
from focusq.tui.text import literal


class TimelineChart(Widget):
    """Cells of a few minutes each: blocks shade the background, spans fill the cells."""

    DEFAULT_CSS = """
    TimelineChart {
        height: auto;
    }
    TimelineChart > .timeline--sync {
        background: $secondary 25%;
    }
    TimelineChart > .timeline--async {
        background: $primary 15%;
    }
    TimelineChart > .timeline--focus {
        color: $accent;
    }
    TimelineChart > .timeline--ok {
        color: $success;
    }
    TimelineChart > .timeline--failed {
        color: $error;
    }
    TimelineChart > .timeline--running {
        color: $primary;
    }
    TimelineChart > .timeline--other {
        color: $text-muted;
    }
    TimelineChart > .timeline--untracked {
        color: $warning;
    }
    TimelineChart > .timeline--label {
        color: $text-muted;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "timeline--sync",
        "timeline--async",
        "timeline--focus",
        "timeline--ok",
        "timeline--failed",
        "timeline--running",
        "timeline--other",
        "timeline--untracked",
        "timeline--label",
    }
    """Block shades (``sync``, ``async``) and span colours (``focus``, ``ok``, ...,
    ``untracked``)."""

    timeline: reactive[Timeline | None] = reactive(None, layout=True)
    """The timeline to draw; its lane count sets the widget's height."""

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        if self.timeline is None:
            return 1
        return 2 + len(lanes(self.timeline))

    def render(self) -> Text:
        timeline = self.timeline
        if timeline is None:
            return Text("")
        width = label_width(timeline)
        cells = max(12, self.size.width - width)
        label = self.get_component_rich_style("timeline--label", partial=True)
        shades = [self._shade(mode) for mode in block_cells(timeline, cells)]
        out = Text(no_wrap=True)
        out.append(f"{'time':<{width}}" + axis_line(timeline, cells) + "\n", style=label)
        out.append(f"{'blocks':<{width}}", style=label)
        for shade in shades:
            out.append(" ", style=shade)
        for name, spans in lanes(timeline):
            out.append("\n")
            # An executor's name is the user's text: shown as written.
            name_cell = literal(f"{name:<{width}}")
            name_cell.stylize(label)
            out.append_text(name_cell)
            for shade, span in zip(
                shades, lane_cells(spans, timeline.start, timeline.end, cells), strict=True
            ):
                if span is None:
                    out.append(" ", style=shade)
                else:
                    kind = span_kind(span)
                    char = SPAN_CHARS[kind] if kind == UNTRACKED else "█"
                    out.append(char, style=shade + self._colour(span))
        return out

    def _shade(self, mode: str) -> Style:
        if mode == "free":
            return Style()
        # The full style has the translucent shade blended over the widget's background.
        return Style(bgcolor=self.get_component_rich_style(f"timeline--{mode}").bgcolor)

    def _colour(self, span: Span) -> Style:
        return self.get_component_rich_style(f"timeline--{span_kind(span)}", partial=True)
