"""The package stays a house of small rooms: no module grows past what a reader takes in."""

from __future__ import annotations

from pathlib import Path

import focusq

LIMIT = 600


def test_no_module_is_over_600_lines() -> None:
    root = Path(focusq.__file__).parent
    sizes = {
        str(path.relative_to(root)): len(path.read_text(encoding="utf-8").splitlines())
        for path in root.rglob("*.py")
    }
    assert len(sizes) > 40  # the walk found the package
    assert {name: n for name, n in sizes.items() if n > LIMIT} == {}
