"""What the benchmark scripts share: the results row, compiling focusq, finding its command."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass


@dataclass
class Row:
    """One line of a results table."""

    name: str
    measured: str
    baseline: str
    ratio: str
    budget: str
    verdict: str


def compile_package() -> None:
    """Byte-compile focusq so every run loads .pyc files, as an installed copy does.

    The environment may set PYTHONDONTWRITEBYTECODE; without this, each run would compile
    focusq's sources and be measured doing it.
    """
    import focusq

    package_dir = os.path.dirname(os.path.abspath(focusq.__file__))
    subprocess.run([sys.executable, "-m", "compileall", "-q", package_dir], check=True)


def focusq_command() -> list[str]:
    """The ``focusq`` console script beside this Python, else ``python -m focusq``."""
    script = os.path.join(os.path.dirname(sys.executable), "focusq")
    if os.access(script, os.X_OK):
        return [script]
    print(f"no focusq console script at {script}; using python -m focusq")
    return [sys.executable, "-m", "focusq"]
