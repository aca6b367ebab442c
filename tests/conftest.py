"""Every test gets its own focusq home and config: nothing reads or writes a real home."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from focusq.paths import Paths

if TYPE_CHECKING:
    from tests.engine_helpers import Focusq


@pytest.fixture(autouse=True)
def focusq_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private ``FOCUSQ_HOME`` for this test, with XDG folders pointing inside tmp_path."""
    home = tmp_path / "home"
    monkeypatch.setenv("FOCUSQ_HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    for name in list(os.environ):
        if name.startswith("FOCUSQ_") and name != "FOCUSQ_HOME":
            monkeypatch.delenv(name)
    # Tests that want a worker start one themselves and stop it when they end.
    monkeypatch.setenv("FOCUSQ_WORKER__AUTOSTART", "false")
    return home


@pytest.fixture
def paths(focusq_home: Path) -> Paths:
    """The resolved paths of this test's home."""
    return Paths.from_env()


@pytest.fixture
def fq(tmp_path: Path, focusq_home: Path) -> Iterator[Focusq]:
    """The real CLI and workers on this test's home, run from ``tmp_path/work``; its
    workers and jobs end with the test."""
    from tests.engine_helpers import focusq_session

    work = tmp_path / "work"
    work.mkdir()
    with focusq_session(focusq_home, work) as session:
        yield session


Result = subprocess.CompletedProcess[str]


@pytest.fixture
def focusq(tmp_path: Path) -> Callable[..., Result]:
    """Run the real ``focusq`` command in a subprocess: ``focusq("add", "x", cwd=...)``."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
        full_env = {**os.environ, **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "focusq", *args],
            capture_output=True,
            text=True,
            cwd=cwd or tmp_path,
            env=full_env,
            timeout=60,
        )

    return run
