"""What the TUI checks before it takes the screen: a configured theme and keymap it knows.

A mistake there is one line and exit 2 at the shell, not a screen that silently ignores it.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding

import focusq.tui
from focusq.tui.themes import load_themes, shipped_dir


def binding_ids() -> set[str]:
    """Every binding id the TUI has (what ``[keymap]`` may name)."""
    found: set[str] = set()
    modules = ["focusq.tui.app"] + [
        m.name for m in pkgutil.walk_packages(focusq.tui.__path__, "focusq.tui.")
    ]
    for name in modules:
        module = importlib.import_module(name)
        for value in vars(module).values():
            for binding in getattr(value, "BINDINGS", ()) if isinstance(value, type) else ():
                if isinstance(binding, Binding) and binding.id:
                    found.add(binding.id)
    return found


def problem(settings: Any, config_dir: str) -> str | None:
    """The first thing in the config the TUI cannot use, as one line; ``None`` if none."""
    theme = settings.tui.theme
    themes, _ = load_themes(shipped_dir(), Path(config_dir) / "themes")
    known = {t.name for t in themes} | set(App().available_themes)
    if theme not in known:
        return (
            f"tui.theme {theme!r}: no such theme; use one of {', '.join(sorted(known))}, "
            "or add themes/<name>.toml beside the config file"
        )
    unknown = sorted(set(settings.keymap) - binding_ids())
    if unknown:
        return (
            f"keymap {unknown[0]!r}: no key has that id; the README's key table lists them "
            "(task.add, task.cancel ...)"
        )
    return None
