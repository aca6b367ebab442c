"""Themes as data: TOML files of ``textual.theme.Theme`` fields.

Shipped themes live in the package's ``themes/`` folder; users drop their own into
``<config folder>/themes/``. A file that cannot be read is skipped with a warning.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

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
            except (OSError, ValueError, TypeError, tomllib.TOMLDecodeError) as exc:
                problems.append(f"theme {path}: {exc}")
                continue
            themes[theme.name] = theme
    return list(themes.values()), problems
