"""What a title or a job wrote never drives the terminal: ls, show and log show escapes.

Real ``focusq`` processes; the output is read as bytes, as a terminal would get them.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from focusq.paths import Paths
from focusq.store.ops import jobs
from focusq.store.sync import SyncStore
from tests.engine_helpers import record_run

RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters a terminal would obey (tab and newline are fine)."""

EVIL = "deploy \x1b[31mred\x1b]0;pwned\x07 [b]x[/b] \x9b2J \u202eevil"
SHOWN = "deploy ␛[31mred␛]0;pwned␇ [b]x[/b] \\x9b2J \\u202eevil"


def test_ls_and_show_show_escapes_in_titles_and_notes(focusq) -> None:  # type: ignore[no-untyped-def]
    assert focusq("add", EVIL).stdout == "1\n"
    focusq("note", "1", "see \x1b[2Jthis")
    listed = focusq("ls").stdout
    assert not RAW.search(listed)
    assert SHOWN in listed
    shown = focusq("show", "1").stdout
    assert not RAW.search(shown)
    assert f"title     {SHOWN}\n" in shown
    assert "  see ␛[2Jthis\n" in shown
    # JSON is for programs: the title as stored.
    assert '"title": "deploy \\u001b[31m' in focusq("show", "1", "--json").stdout


def test_log_shows_escapes_unless_raw(  # type: ignore[no-untyped-def]
    focusq, focusq_home: Path, paths: Paths
) -> None:
    focusq("add", "build", "--", "make")
    with SyncStore(paths.database) as store:
        record_run(store, 1, 1000.0, 1010.0, ok=False, logs=paths.logs)
        log = Path(store.run(jobs.runs_of(1))[-1]["log_path"])
    output = "\x1b[31mFAILED\x1b[0m [b]t[/b]\tok\nprogress 1\rprogress 2\n\x9b2J\u202eend\n"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(output.encode() + b"\xff\n")
    shown = log_bytes("1").decode()
    assert not RAW.search(shown.replace("\r", ""))  # a progress bar still draws
    assert shown == (
        "␛[31mFAILED␛[0m [b]t[/b]\tok\nprogress 1\rprogress 2\n\\x9b2J\\u202eend\n\ufffd\n"
    )
    assert log_bytes("1", "--raw") == output.encode() + b"\xff\n"


def log_bytes(*args: str) -> bytes:
    """``focusq log`` as a terminal receives it: bytes, no newline translation."""
    done = subprocess.run(
        [sys.executable, "-m", "focusq", "log", *args], capture_output=True, timeout=60, check=True
    )
    return done.stdout
