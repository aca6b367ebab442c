"""Shell completion: the scripts load in real shells and complete commands, options and ids."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from focusq.cli.main import commands

Focusq = Callable[..., Any]


@pytest.fixture
def shell_env(tmp_path: Path) -> dict[str, str]:
    """The environment a shell runs in: ``focusq`` on its PATH, this test's home."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "focusq"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -m focusq "$@"\n')
    wrapper.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


@pytest.fixture
def three_tasks(focusq: Focusq) -> None:
    """#1 done, #2 and #3 open; #3's title carries an escape."""
    for title in ("finished already", "write the post", "paint \x1b[31mred"):
        assert focusq("add", title).returncode == 0
    assert focusq("done", "1").returncode == 0


def run_shell(argv: list[str], script: str, env: dict[str, str], cwd: Path) -> list[str]:
    result = subprocess.run(
        [*argv, script], capture_output=True, text=True, env=env, cwd=cwd, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_ids_are_the_open_tasks_with_their_titles_shown_safely(
    focusq: Focusq, three_tasks: None
) -> None:
    out = focusq("completion", "ids")
    assert out.returncode == 0 and out.stderr == ""
    assert sorted(out.stdout.splitlines()) == ["2\twrite the post", "3\tpaint \u241b[31mred"]


def test_ids_in_a_home_without_a_database_say_nothing_and_make_nothing(
    focusq: Focusq, focusq_home: Path
) -> None:
    out = focusq("completion", "ids")
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")
    assert not focusq_home.exists()


def test_ids_skip_argparse_and_pydantic(focusq: Focusq, three_tasks: None) -> None:
    probe = (
        "import contextlib, io, json, sys\nfrom focusq.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['completion', 'ids'])\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout.splitlines()[-1]))
    heavy = {"argparse", "pydantic", "asyncio", "textual", "typing", "focusq.store.ops.tasks"}
    assert not heavy & loaded, heavy & loaded


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_every_command_is_in_every_script(focusq: Focusq, shell: str) -> None:
    script = focusq("completion", shell).stdout
    missing = [name for name in commands() if name not in script]
    assert not missing


def test_an_unknown_shell_is_a_usage_error(focusq: Focusq) -> None:
    out = focusq("completion", "tcsh")
    assert out.returncode == 2 and "invalid choice: 'tcsh'" in out.stderr
    assert "'ids'" not in out.stderr  # the Tab-time helper is not offered as a shell


def test_the_bash_script_parses(focusq: Focusq, tmp_path: Path) -> None:
    script = tmp_path / "focusq.bash"
    script.write_text(focusq("completion", "bash").stdout)
    assert script.read_text().rstrip().endswith("complete -F _focusq focusq")
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)


BASH = r"""
source <(focusq completion bash)
complete -p focusq
try() {
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
    _focusq
    echo "$*: ${COMPREPLY[*]}"
}
try focusq sho
try focusq show ''
try focusq show 3
try focusq show 3 ''
try focusq cancel 2 ''
try focusq ls --kind m
try focusq block 2 --on 3
try focusq edit --j
try focusq completion z
try focusq add -- ls
"""


def test_bash_completes_commands_options_and_ids(
    three_tasks: None, shell_env: dict[str, str], tmp_path: Path
) -> None:
    lines = run_shell(["bash", "-c"], BASH, shell_env, tmp_path)
    assert lines[0] == "complete -F _focusq focusq"
    assert lines[1:] == [
        "focusq sho: show",
        # several ids: each with its title, escapes shown as pictures
        "focusq show : 2  (write the post) 3  (paint \u241b[31mred)",
        "focusq show 3: 3",  # one: the id alone goes in the line
        "focusq show 3 : ",  # show takes one id
        "focusq cancel 2 : 2  (write the post) 3  (paint \u241b[31mred)",  # cancel takes many
        "focusq ls --kind m: mechanical",
        "focusq block 2 --on 3: 3",
        "focusq edit --j: --json",
        "focusq completion z: zsh",
        "focusq add -- ls: ",  # the job's own command line is left to the shell
    ]


ZSH = r"""
autoload -U compinit && compinit -u -D
source <(focusq completion zsh)
print -r -- "registered: $_comps[focusq]"
# Outside a Tab press the completion builtins cannot run: these print what they were given.
_describe() { local name=${@[-1]}; print -rl -- ${(P)name}; }
compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@"; }
try() { words=("$@"); CURRENT=$#; PREFIX=${words[-1]}; print -r -- "> $*"; _focusq; }
try focusq sh
try focusq show ''
try focusq show 3 ''
try focusq ls --kind ''
try focusq show --
"""


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_completes_commands_options_and_ids(
    three_tasks: None, shell_env: dict[str, str], tmp_path: Path
) -> None:
    lines = run_shell(["zsh", "-f", "-c"], ZSH, shell_env, tmp_path)
    assert lines[0] == "registered: _focusq"
    blocks: dict[str, list[str]] = {}
    for line in lines[1:]:
        if line.startswith("> "):
            current = blocks.setdefault(line[2:], [])
        else:
            current.append(line)
    assert "show:Show one task in full." in blocks["focusq sh"]
    assert sorted(blocks["focusq show "]) == ["2:write the post", "3:paint \u241b[31mred"]
    assert blocks["focusq show 3 "] == []
    assert sorted(blocks["focusq ls --kind "]) == ["creative", "mechanical"]
    assert "--json:print it as JSON" in blocks["focusq show --"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_commands_options_and_ids(
    three_tasks: None, shell_env: dict[str, str], tmp_path: Path
) -> None:
    script = tmp_path / "focusq.fish"
    script.write_text(
        subprocess.check_output(["focusq", "completion", "fish"], env=shell_env, text=True)
    )
    subprocess.run(["fish", "-n", str(script)], check=True, timeout=30)

    def complete(line: str) -> list[str]:
        probe = f"source {script}; complete -C {line!r}"
        return sorted(run_shell(["fish", "--no-config", "-c"], probe, shell_env, tmp_path))

    assert "show\tShow one task in full." in complete("focusq sh")
    assert complete("focusq show ") == ["2\twrite the post", "3\tpaint \u241b[31mred"]
    assert complete("focusq show 3 ") == []
    assert complete("focusq wait 2 ") == ["2\twrite the post", "3\tpaint \u241b[31mred"]
    assert complete("focusq ls --kind ") == [
        "creative\tonly this kind",
        "mechanical\tonly this kind",
    ]
    assert complete("focusq block 2 --on 3") == ["3\tpaint \u241b[31mred"]
    assert "--json\tprint it as JSON" in complete("focusq show --")
