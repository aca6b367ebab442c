"""What the benchmark scripts share: the results row, compiling focusq, finding its command."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
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


def print_report(
    rows: list[Row],
    problems: list[str],
    began: float,
    *,
    detail: str = "",
    notes: Sequence[str] = (),
) -> None:
    """The end of every benchmark script: the results table, notes, problems seen, time taken.

    ``began`` is the ``time.perf_counter()`` the run started at; ``detail`` joins the heading.
    """
    heading = f"results (Python {sys.version.split()[0]}, {os.cpu_count()} CPUs{detail})"
    print_table(rows, heading)
    for note in notes:
        print(f"\n{note}")
    if problems:
        print("\nproblems seen:")
        for problem in problems:
            print(f"- {problem}")
    print(f"\ntotal {time.perf_counter() - began:.1f}s")
