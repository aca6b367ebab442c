"""Every shipped theme's text reads: WCAG 2 contrast of each text role on each background.

focusq draws text in the theme's foreground and in its signal colours (a failed status,
border titles, footer keys, help titles) on the background, the surface and the panel;
WCAG 2.x asks 4.5:1 of body text (success criterion 1.4.3).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.color import Color

from focusq.tui.themes import load_themes

THEMES = Path(__file__).parents[1] / "themes"

TEXT = (
    *("foreground", "text", "text-muted"),
    *("primary", "secondary", "accent", "success", "warning", "error"),
    *("text-primary", "text-secondary", "text-accent", "text-success"),
    *("text-warning", "text-error"),
)
"""Theme variables that colour text somewhere in focusq (or in Textual's own widgets)."""

BACKGROUNDS = ("background", "surface", "panel")
"""What text is drawn on: the screen, panes and modals, bars and headers."""

PAIRS = (
    *((text, background) for text in TEXT for background in BACKGROUNDS),
    ("footer-key-foreground", "footer-background"),
    ("footer-description-foreground", "footer-background"),
    ("block-cursor-foreground", "block-cursor-background"),
)
"""``(text, background)`` theme variables."""

MINIMUM = 4.5


def luminance(colour: Color) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(colour.r) + 0.7152 * linear(colour.g) + 0.0722 * linear(colour.b)


def contrast(a: Color, b: Color) -> float:
    """WCAG 2 contrast ratio, from 1 (the same) to 21 (black on white)."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def resolve(value: str, background: Color) -> Color:
    """A theme variable's colour as drawn on ``background``: ``auto 87%`` is Textual's
    contrasting text at that opacity, and a translucent colour is blended."""
    if value.startswith("auto"):
        words = value.split()
        alpha = float(words[1].rstrip("%")) / 100 if len(words) > 1 else 1.0
        return background + background.get_contrast_text(alpha)
    colour = Color.parse(value)
    return background + colour if colour.a < 1 else colour


def test_the_formula() -> None:
    assert contrast(Color(0, 0, 0), Color(255, 255, 255)) == pytest.approx(21.0)
    assert contrast(Color(10, 20, 30), Color(10, 20, 30)) == pytest.approx(1.0)
    assert contrast(Color.parse("#777777"), Color(255, 255, 255)) == pytest.approx(4.48, abs=0.01)
    translucent = resolve("#FFFFFF80", Color(0, 0, 0))
    assert (translucent.r, translucent.g, translucent.b) == (128, 128, 128)


def shipped() -> list[str]:
    return sorted(path.stem for path in THEMES.glob("*.toml"))


def test_every_shipped_theme_loads() -> None:
    themes, problems = load_themes(THEMES)
    assert problems == []
    assert sorted(t.name for t in themes) == shipped() != []


@pytest.mark.parametrize("name", shipped())
def test_text_reads_on_every_background(name: str) -> None:
    themes, _ = load_themes(THEMES)
    [theme] = [t for t in themes if t.name == name]
    variables = theme.to_color_system().generate()
    low = []
    for text, background in PAIRS:
        under = Color.parse(variables[background])
        ratio = contrast(resolve(variables[text], under), under)
        if ratio < MINIMUM:
            low.append(f"{text} on {background}: {ratio:.2f}:1")
    assert not low, f"{name}: below {MINIMUM}:1: " + "; ".join(low)
