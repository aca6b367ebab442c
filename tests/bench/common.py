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


def print_table(rows: list[Row], heading: str) -> None:
    """The results as an aligned table under ``heading``."""
    headers = ("benchmark", "measured", "baseline", "ratio", "budget", "result")
    table = [
        headers,
        *((r.name, r.measured, r.baseline, r.ratio, r.budget, r.verdict) for r in rows),
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(headers))]
    print(f"\n{heading}")
    for line in table:
        cells = [line[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(line[1:5], widths[1:5], strict=True)]
        cells.append(line[5])
        print("  ".join(cells))
