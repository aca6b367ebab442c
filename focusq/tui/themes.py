"""Themes as data: TOML files of ``textual.theme.Theme`` fields.

Shipped themes live in the package's ``themes/`` folder; users drop their own into
``<config folder>/themes/``. A file that cannot be read, or whose colours are not
colours, is skipped with a warning that names the file and the key.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.color import Color, ColorParseError
from textual.theme import Theme

import focusq

_FIELDS = set(Theme.__dataclass_fields__)


def shipped_dir() -> Path:
    """The themes that come with focusq (inside the wheel, or beside the package in a checkout)."""
    package = Path(focusq.__file__).parent
    inside = package / "themes"
    return inside if inside.is_dir() else package.parent / "themes"


def load_themes(*folders: Path) -> tuple[list[Theme], list[str]]:
    """Every ``*.toml`` theme in ``folders`` (later folders win), and one warning per bad file."""
    themes: dict[str, Theme] = {}
    problems = []
    for folder in folders:
        for path in sorted(folder.glob("*.toml")) if folder.is_dir() else ():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
                unknown = set(data) - _FIELDS
                if unknown:
                    raise ValueError(f"unknown field {sorted(unknown)[0]!r}")
                data.setdefault("name", path.stem)
                theme = Theme(**data)
                _check(theme)
            except (OSError, ValueError, TypeError, tomllib.TOMLDecodeError) as exc:
                problems.append(f"theme {path}: {exc}")
                continue
            themes[theme.name] = theme
    return list(themes.values()), problems


_COLOURS = (
    *("primary", "secondary", "warning", "error", "success", "accent"),
    *("foreground", "background", "surface", "panel", "boost"),
)


def _check(theme: Theme) -> None:
    """Raise ``ValueError`` naming the first field the theme could not be drawn with.

    Textual only parses a theme's colours when it is applied, and an error there ends
    the app (at every start, once the theme's name is remembered).
    """
    if not isinstance(theme.name, str) or not theme.name:
        raise ValueError(f"name = {theme.name!r} is not a theme name")
    for key in _COLOURS:
        value = getattr(theme, key)
        if value is None and key != "primary":
            continue
        try:
            Color.parse(value)
        except (ColorParseError, TypeError, AttributeError, ValueError):
            raise ValueError(f"{key} = {value!r} is not a colour") from None
    try:
        theme.to_color_system().generate()
    except (ColorParseError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"its colours cannot be worked out: {exc}") from None
