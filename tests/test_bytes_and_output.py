"""Bytes that are not UTF-8, and output that cannot be written: one line, never a traceback.

A word of focusq's (a title, a tag, a lock) is text; a job's command, its environment and
the names it runs are the user's bytes, passed on as they are.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.engine_helpers import Focusq, db_rows

NOT_UTF8 = os.fsdecode(b"caf\xe9")
"""How Python hands a program an argument or a variable holding the byte 0xE9 alone."""


def _refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("focusq: "), result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["add", NOT_UTF8],
        ["add", "t", f"lock:{NOT_UTF8}", "--", "true"],
        ["add", f"+{NOT_UTF8}"],
        ["ls", "--tag", NOT_UTF8],
        ["interrupt", NOT_UTF8],
        ["group", "set", NOT_UTF8, "--parallel", "1"],
    ],
)
def test_a_word_that_is_not_utf8_is_refused_and_nothing_written(
    fq: Focusq, argv: list[str]
) -> None:
    fq.add("before")
    _refused(fq(*argv), "caf\\xe9", "is not valid UTF-8")
    assert db_rows(fq.home, "SELECT count(*) FROM tasks") == [(1,)]


def test_a_folder_that_is_not_utf8_is_refused(fq: Focusq) -> None:
    folder = fq.workdir / os.fsdecode(b"d\xff")
    folder.mkdir()
    added = subprocess.run(
        [sys.executable, "-m", "focusq", "add", "k", "--", "true"],
        capture_output=True,
        text=True,
        errors="replace",
        cwd=folder,
        env=fq.env,
    )
    _refused(added, "is not valid UTF-8", "--cwd")


def test_a_command_and_a_variable_that_are_not_utf8_run_as_given(fq: Focusq) -> None:
    script = fq.workdir / os.fsdecode(b"s\xff.sh")
    script.write_text('#!/bin/sh\nprintf "%s" "$MYVAR" | od -An -tx1\n')
    script.chmod(0o755)
    job = subprocess.run(
        [sys.executable, "-m", "focusq", "add", "run", "--", str(script)],
        capture_output=True,
        text=True,
        cwd=fq.workdir,
        env={**fq.env, "MYVAR": NOT_UTF8},
    )
    assert job.returncode == 0, job.stderr
    fq.start_worker()
    assert fq.wait(int(job.stdout)).returncode == 0
    assert "63 61 66 e9" in fq("log", job.stdout.strip()).stdout


def test_output_that_cannot_be_written_is_said_in_one_line(fq: Focusq) -> None:
    fq.add("one")
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    for argv in (["ls"], ["ls", "--json"], ["show", "1"], ["status"]):
        with open("/dev/full", "w") as full:
            result = subprocess.run(
                [sys.executable, "-m", "focusq", *argv],
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
                env=fq.env,
                cwd=fq.workdir,
            )
        assert result.returncode == 1, result.stderr
        assert result.stderr == "focusq: could not write the output: No space left on device\n"


def test_a_closed_output_is_no_error(fq: Focusq) -> None:
    fq.add("one")
    for argv in (["ls"], ["ls", "--json"], ["show", "1"], ["completion", "ids"]):
        result = subprocess.run(
            [sys.executable, "-m", "focusq", *argv],
            stderr=subprocess.PIPE,
            text=True,
            env=fq.env,
            cwd=fq.workdir,
            preexec_fn=lambda: os.close(1),  # as `focusq ls >&-` starts it
        )
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
