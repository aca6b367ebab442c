"""The focusq command, run for real in subprocesses."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from focusq import __version__

Run = Callable[..., "object"]

PUBLIC_FIELDS = {
    "id",
    "title",
    "kind",
    "status",
    "priority",
    "tags",
    "project",
    "command",
    "cwd",
    "after",
    "locks",
    "created_at",
    "started_at",
    "ended_at",
    "exit_code",
    "result",
    "attempts",
}


def task_count(home: Path) -> int:
    db = home / "focusq.db"
    if not db.exists():
        return 0
    with sqlite3.connect(db) as con:
        return int(con.execute("SELECT count(*) FROM tasks").fetchone()[0])


def test_add_prints_the_id_alone(focusq, focusq_home: Path) -> None:  # type: ignore[no-untyped-def]
    first = focusq("add", "write the launch post +blog project:site pri:H est:90m")
    second = focusq("add", "build", "site", "--", "make", "-C", "site", "build")
    assert (first.returncode, first.stdout, first.stderr) == (0, "1\n", "")
    assert second.stdout == "2\n"
    shown = json.loads(focusq("show", "2", "--json").stdout)
    assert shown["kind"] == "mechanical"
    assert shown["command"] == ["make", "-C", "site", "build"]
    assert shown["cwd"] == str(focusq_home.parent)


def test_add_json_and_ls_json_carry_the_stable_fields(focusq, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    added = json.loads(focusq("add", "--json", "--cwd", str(tmp_path), "--", "make").stdout)
    assert set(added) >= PUBLIC_FIELDS
    assert added["cwd"] == str(tmp_path)
    listed = json.loads(focusq("ls", "--json").stdout)
    assert [t["id"] for t in listed] == [added["id"]]
    assert set(listed[0]) >= PUBLIC_FIELDS


def test_shell_and_env(focusq) -> None:  # type: ignore[no-untyped-def]
    out = focusq("add", "--json", "--shell", "--env", "A=1", "--", "make && make test")
    task = json.loads(out.stdout)
    assert task["command"] == ["sh", "-c", "make && make test"]
    assert task["env"] == {"A": "1"}


def test_ls_filters(focusq) -> None:  # type: ignore[no-untyped-def]
    focusq("add", "write +blog")
    focusq("add", "read")
    focusq("add", "--", "make")
    focusq("done", "2")
    table = focusq("ls").stdout
    assert "write +blog" in table and "read" not in table
    assert [t["id"] for t in json.loads(focusq("ls", "--json", "--all").stdout)] == [1, 2, 3]
    assert [t["id"] for t in json.loads(focusq("ls", "--json", "--tag", "blog").stdout)] == [1]
    kind = json.loads(focusq("ls", "--json", "--kind", "mechanical").stdout)
    assert [t["id"] for t in kind] == [3]
    done = json.loads(focusq("ls", "--json", "--status", "done").stdout)
    assert [t["id"] for t in done] == [2]


def test_done_drop_edit_note(focusq) -> None:  # type: ignore[no-untyped-def]
    focusq("add", "write")
    focusq("add", "other")
    assert focusq("edit", "1", "write", "the", "intro", "+blog", "pri:H").returncode == 0
    assert focusq("note", "1", "ask", "Sam").stdout == "noted on #1 write the intro\n"
    task = json.loads(focusq("show", "1", "--json").stdout)
    assert (task["title"], task["tags"], task["priority"], task["note"]) == (
        "write the intro",
        ["blog"],
        "H",
        "ask Sam",
    )
    assert focusq("done", "1").returncode == 0
    assert focusq("drop", "2").returncode == 0
    again = focusq("done", "1")
    assert again.returncode == 2
    assert again.stderr == "focusq: task 1 is already done\n"


def test_status_short_is_one_line(focusq) -> None:  # type: ignore[no-untyped-def]
    focusq("add", "--", "make")
    focusq("add", "--", "make", "test")
    focusq("add", "write")
    out = focusq("status", "--short")
    assert out.stdout == "no focus · 0 running · 2 queued\n"
    assert json.loads(focusq("status", "--json").stdout)["queued"] == 2


def test_version_and_help(focusq) -> None:  # type: ignore[no-untyped-def]
    assert focusq("--version").stdout == f"focusq {__version__}\n"
    top = focusq("--help").stdout
    for command in ("add", "ls", "show", "done", "drop", "edit", "note", "status"):
        assert command in top
        sub = focusq(command, "--help")
        assert sub.returncode == 0 and "usage:" in sub.stdout
    assert "lock:KEY" in focusq("add", "--help").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", ""], "no title"),
        (["add", "x", "after:7"], "there is no task 7"),
        (["add", "x", "pri:X"], "pri:X"),
        (["add", "x", "est:abc"], "est:abc"),
        (["add", "--cwd", "/no/such/folder", "--", "make"], "--cwd /no/such/folder"),
        (["add", "x", "--env", "oops"], "--env"),
        (["add", "--"], "nothing after"),
        (["show", "99"], "there is no task 99"),
        (["show", "abc"], "not a task id"),
        (["done", "99"], "there is no task 99"),
        (["ls", "--status", "sleeping"], "sleeping"),
        (["ls", "--", "make"], "only goes with"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(  # type: ignore[no-untyped-def]
    focusq, focusq_home: Path, args: list[str], message: str
) -> None:
    focusq("add", "existing")
    before = task_count(focusq_home)
    result = focusq(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert task_count(focusq_home) == before


def test_a_dependency_cycle_is_refused(focusq, focusq_home: Path) -> None:  # type: ignore[no-untyped-def]
    focusq("add", "a")
    focusq("add", "b", "after:1")
    result = focusq("edit", "1", "after:2")
    assert result.returncode == 2
    assert "cycle" in result.stderr and len(result.stderr.splitlines()) == 1
    assert json.loads(focusq("show", "1", "--json").stdout)["after"] == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[engine\nmax_parallel = 2\n", "line 1"),
        ("[engine]\nmax_paralel = 2\n", "unknown key 'engine.max_paralel'"),
        ("[engine]\nmax_parallel = 0\n", "engine.max_parallel"),
        ("colour = 'red'\n", "unknown key 'colour'"),
    ],
)
def test_a_bad_config_file_is_named(  # type: ignore[no-untyped-def]
    focusq, focusq_home: Path, text: str, message: str
) -> None:
    focusq_home.mkdir(mode=0o700)
    config = focusq_home / "config.toml"
    config.write_text(text)
    result = focusq("add", "x")
    assert result.returncode == 2
    assert str(config) in result.stderr
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert task_count(focusq_home) == 0


def test_config_is_read_and_env_overrides_it(  # type: ignore[no-untyped-def]
    focusq, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from focusq import settings
    from focusq.paths import Paths

    config = tmp_path / "elsewhere.toml"
    config.write_text("[store]\nbusy_timeout = 1.5\n")
    monkeypatch.setenv("FOCUSQ_CONFIG_FILE", str(config))
    assert settings.load(Paths.from_env()).store.busy_timeout == 1.5
    monkeypatch.setenv("FOCUSQ_STORE__BUSY_TIMEOUT", "2.5")
    assert settings.load(Paths.from_env()).store.busy_timeout == 2.5
    config.write_text("[store]\nbusy_timeout = 'soon'\n")
    monkeypatch.delenv("FOCUSQ_STORE__BUSY_TIMEOUT")
    result = focusq("ls")
    assert result.returncode == 2 and "store.busy_timeout" in result.stderr


@pytest.mark.parametrize(
    "named",
    [
        {},  # XDG's defaults under HOME
        {"XDG_DATA_HOME": "/d", "XDG_CONFIG_HOME": "/c"},
        {"FOCUSQ_HOME": "/q"},
        {"FOCUSQ_HOME": "/q", "FOCUSQ_CONFIG_FILE": "/etc/focusq.toml"},
        {"FOCUSQ_CONFIG_FILE": "/etc/focusq.toml", "XDG_DATA_HOME": "/d"},
    ],
)
def test_another_process_finds_the_same_home_and_config(named: dict[str, str]) -> None:
    """What a started worker or a systemd unit is given resolves to the same two paths,
    and never names a config file that need not exist (a named one must)."""
    from focusq.paths import Paths

    shell = {"HOME": "/home/me", **named}
    paths = Paths.from_env(shell)
    given = paths.environ()
    again = Paths.from_env({"HOME": "/home/me", **given})
    assert (again.home, again.config_file) == (paths.home, paths.config_file)
    assert ("FOCUSQ_CONFIG_FILE" in given) == ("FOCUSQ_CONFIG_FILE" in named)


def test_no_arguments_shows_the_day(focusq) -> None:  # type: ignore[no-untyped-def]
    focusq("add", "write the post")
    out = focusq()
    assert out.returncode == 0
    assert "no focus" in out.stdout and "write the post" in out.stdout
