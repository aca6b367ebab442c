"""Mistakes at the shell: one line naming what was wrong, exit 2, nothing written."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from focusq.paths import Paths

Run = Callable[..., Any]


def one_line_refusal(result: Any, *words: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("focusq: ")
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


def test_edit_reads_its_options_anywhere_after_the_id(focusq: Run, tmp_path: Path) -> None:
    job = focusq("add", "build", "--", "make").stdout.strip()
    edited = focusq("edit", job, "pri:H", "--shell", "--json", "--", "make all")
    assert edited.returncode == 0, edited.stderr
    record = json.loads(edited.stdout)
    assert (record["title"], record["priority"]) == ("build", "H")
    assert record["command"] == ["sh", "-c", "make all"]
    assert focusq("edit", job, "--cwd", str(tmp_path), "--", "make").returncode == 0
    assert json.loads(focusq("show", job, "--json").stdout)["cwd"] == str(tmp_path)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["show", "99999999999999999999"], ["not a task id"]),
        (["add", "x", "after:9223372036854775808"], ["not a task id"]),
        (["add", "x", "after:²"], ["not a task id"]),
        (["focus", "1", "--minutes", "-5"], ["above 0"]),
        (["focus", "1", "--minutes", "0"], ["above 0"]),
        (["wait", "1", "--timeout", "-1"], ["seconds"]),
        (["wait", "1", "--timeout", "nan"], ["seconds"]),
        (["add", "x", "on:..", "--", "true"], ["'on:..' is not an executor name"]),
    ],
)
def test_bad_values_are_refused(focusq: Run, args: list[str], words: list[str]) -> None:
    focusq("add", "write")
    one_line_refusal(focusq(*args), *words)
    with sqlite3.connect(Path(os.environ["FOCUSQ_HOME"]) / "focusq.db") as con:
        assert con.execute("SELECT count(*) FROM focus_sessions").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM tasks").fetchone() == (1,)


def test_block_waits_only_on_an_open_job(focusq: Run) -> None:
    writing = focusq("add", "write").stdout.strip()
    other = focusq("add", "read").stdout.strip()
    job = focusq("add", "build", "--", "true").stdout.strip()
    one_line_refusal(focusq("block", writing, "--on", other), "creative")
    assert focusq("done", job).returncode == 0
    one_line_refusal(focusq("block", writing, "--on", job), "is done")
    shown = json.loads(focusq("show", writing, "--json").stdout)
    assert shown["afterany"] == []


def test_review_close_refuses_the_future_and_open_answers(focusq: Run, paths: Paths) -> None:
    # A past day with work added on it: a task added now is not that day's between 00:00
    # and 04:00, when the review without --date is of the day before.
    from datetime import datetime

    from focusq.quickadd import parse
    from focusq.store.ops import tasks
    from focusq.store.sync import SyncStore

    added = datetime(2026, 11, 24, 9).timestamp()
    with SyncStore(paths.database) as store:
        store.run(tasks.add_task(parse(["write the post"], None, now=added), added))
    day = ["--date", "2026-11-24"]
    one_line_refusal(focusq("review", "--close", "--date", "2999-01-01"), "not happened")
    one_line_refusal(focusq("review", "--close", *day), "no answer", "#1 write the post", "--force")
    assert json.loads(focusq("review", "--json", *day).stdout)["closed_at"] is None
    closed = focusq("review", "--close", "--force", "--json", *day)
    assert closed.returncode == 0 and json.loads(closed.stdout)["closed_at"] is not None


@pytest.mark.parametrize(
    ("config", "env", "words"),
    [
        ('[locks]\n"x" = 0\n', {}, ["locks.x", "greater than or equal to 1"]),
        ('[executors."../up"]\n', {}, ["executors.'../up'", "a name is letters"]),
        ("[executors.local]\n", {}, ["executors.local", "this machine's"]),
        # pydantic-settings reads keys like these as options of its own, not as settings
        ("_env_prefix = 5\n", {}, ["unknown key '_env_prefix'", "line 1"]),
        ("_cli_parse_args = 5\n[engine]\nmax_parallel = 2\n", {}, ["unknown key '_cli_"]),
        ("", {"FOCUSQ_CONFIG_FILE": "/nonexistent/focusq.toml"}, ["FOCUSQ_CONFIG_FILE"]),
        ("", {"FOCUSQ_NOPE__X": "1"}, ["FOCUSQ_NOPE__X", "no setting section"]),
        ("", {"FOCUSQ_ENGINE__MAX_PARALLEL": "abc"}, ["FOCUSQ_ENGINE__MAX_PARALLEL='abc'"]),
        ("", {"FOCUSQ_ENGINE__MAX_PARALLLEL": "2"}, ["FOCUSQ_ENGINE__MAX_PARALLLEL"]),
    ],
)
def test_bad_settings_are_named(
    focusq: Run, focusq_home: Path, config: str, env: dict[str, str], words: list[str]
) -> None:
    focusq_home.mkdir(parents=True, exist_ok=True)
    if config:
        (focusq_home / "config.toml").write_text(config)
    result = focusq("ls", env=env)
    one_line_refusal(result, *words)
    if env:
        assert "config file" not in result.stderr  # the variable is named, not the file


def test_variables_a_job_sees_are_not_settings(focusq: Run) -> None:
    env = {"FOCUSQ_TASK_ID": "3", "FOCUSQ_ATTEMPT": "1", "FOCUSQ_RUN": "ab:4"}
    assert focusq("ls", env=env).returncode == 0


def test_homes_that_cannot_be_used_are_one_line(focusq: Run, tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    (tmp_path / "c.toml").write_text("")
    one_line_refusal(focusq("ls", env={"FOCUSQ_HOME": str(a_file)}), str(a_file))
    with_config = {"FOCUSQ_HOME": str(a_file), "FOCUSQ_CONFIG_FILE": str(tmp_path / "c.toml")}
    one_line_refusal(focusq("ls", env=with_config), "is a file")
    one_line_refusal(focusq("ls", env={"FOCUSQ_HOME": "/proc/no/such"}), "cannot make")
    folder_db = tmp_path / "h"
    (folder_db / "focusq.db").mkdir(parents=True)
    one_line_refusal(focusq("ls", env={"FOCUSQ_HOME": str(folder_db)}), "is a folder")


def test_folders_on_the_way_home_are_private_whatever_the_umask(
    focusq: Run, tmp_path: Path
) -> None:
    home = tmp_path / "deep" / "er" / "home"
    old = os.umask(0o022)
    try:
        assert focusq("ls", env={"FOCUSQ_HOME": str(home)}).returncode == 0
    finally:
        os.umask(old)
    for folder in (tmp_path / "deep", tmp_path / "deep" / "er", home):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_a_database_open_to_others_is_made_private_and_said_once(
    focusq: Run, focusq_home: Path
) -> None:
    focusq("add", "x")
    database = focusq_home / "focusq.db"
    database.chmod(0o644)
    first = focusq("ls")
    assert first.returncode == 0 and "private now" in first.stderr
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert "private now" not in focusq("ls").stderr


# -- acting on many ---------------------------------------------------------------------------


def _status(focusq: Run, task_id: str) -> str:
    return str(json.loads(focusq("show", task_id, "--json").stdout)["status"])


def test_commands_take_several_ids_and_report_each(focusq: Run) -> None:
    env = {"FOCUSQ_WORKER__AUTOSTART": "false"}
    a, b, c = (focusq("add", n, env=env).stdout.strip() for n in ("a", "b", "c"))
    assert focusq("done", b).returncode == 0
    held = focusq("hold", a, b, c, env=env)
    assert held.returncode == 2  # b could not be held: said, and the rest were
    assert held.stdout.splitlines() == ["held #1 a", "held #3 c"]
    assert held.stderr.count("\n") == 1 and "task 2 is done" in held.stderr
    assert [_status(focusq, i) for i in (a, b, c)] == ["held", "done", "held"]


def test_selectors_pick_by_group_tag_and_state(focusq: Run) -> None:
    env = {"FOCUSQ_WORKER__AUTOSTART": "false"}
    ids = [
        focusq("add", *words, env=env).stdout.strip()
        for words in (
            ["pull a", "group:pull", "--", "true"],
            ["pull b", "group:pull", "--", "true"],
            ["build", "--", "true"],
            ["write", "+blog"],
            ["read", "+blog"],
        )
    ]
    held = focusq("hold", "--group", "pull", env=env)
    assert held.returncode == 0 and held.stdout.splitlines() == ["held #1 pull a", "held #2 pull b"]
    assert _status(focusq, ids[2]) == "queued"
    assert focusq("done", "--tag", "blog").stdout.splitlines() == ["done #4 write", "done #5 read"]
    nothing = focusq("retry", "--failed", env=env)
    assert nothing.returncode == 0 and "nothing to retry" in nothing.stderr
    assert focusq("cancel", "--all", env=env).stdout.count("cancelled") == 3
    one_line_refusal(focusq("cancel", env=env), "give task ids")
    one_line_refusal(focusq("cancel", ids[0], "--all", env=env), "not both")
    one_line_refusal(focusq("cancel", ids[0], "--signal", "NOPE", env=env), "not a signal")


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ('[tui]\ntheme = "nope"\n', ["tui.theme 'nope'", "no such theme"]),
        ('[keymap]\n"task.nope" = "z"\n', ["keymap 'task.nope'", "no key has that id"]),
    ],
)
def test_the_tui_refuses_a_theme_or_key_it_does_not_know(
    focusq: Run, focusq_home: Path, config: str, words: list[str]
) -> None:
    focusq_home.mkdir(parents=True, exist_ok=True)
    (focusq_home / "config.toml").write_text(config)
    one_line_refusal(focusq("ui"), *words)


def test_known_themes_and_keys_pass(focusq_home: Path) -> None:
    from focusq.config import load_settings
    from focusq.paths import Paths
    from focusq.tui.preflight import problem

    focusq_home.mkdir(parents=True, exist_ok=True)
    (focusq_home / "config.toml").write_text(
        '[tui]\ntheme = "nord"\n[keymap]\n"task.cancel" = "ctrl+x"\n'
    )
    paths = Paths.from_env()
    assert problem(load_settings(paths), paths.config_dir) is None


def test_titles_in_command_output_and_errors_never_reach_the_terminal_raw(focusq: Run) -> None:
    """Every line a command prints about a task shows a title's escapes, never obeys them."""
    title = "merge [/wip] \x1b[31mred\x1b]0;gotcha\x07"
    first = focusq("add", title).stdout.strip()
    second = focusq("add", "other").stdout.strip()
    outputs = [
        focusq("focus", first),
        focusq("focus", second),  # refused: the error names the task in focus
        focusq("status"),
        focusq("focus", "--stop"),
        focusq("interrupt", "see \x1b[2J now"),
        focusq("inbox", "--all"),  # not only since midnight, which may come between
        focusq("hold", first),
        focusq("done", first, second),
    ]
    for result in outputs:
        assert "\x1b" not in result.stdout + result.stderr, result
        assert "\x07" not in result.stdout + result.stderr, result
    assert "␛[31mred" in outputs[0].stdout and "␛[31mred" in outputs[1].stderr
    assert "␛[2J" in outputs[5].stdout


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("tags = 5", "tags must be a list"),
        ('locks = "x"', "locks must be a list"),
        ("kind = 3", "kind must be mechanical or creative"),
        ("env = 3", "env must be a table"),
        ("host = 5", "host must be a host's name"),
        ('host = ["a b"]', "host must be a host's name"),
        ('on = "a b"', "on must be an executor's name"),
        ("res = {gpu = -1}", "res must be a table of amounts"),
        ("shell = 1", "shell must be true or false"),
        ('kind = "robot"', 'write kind = "mechanical" or "creative"'),
        ('tags = [""]', "'' is not a tag"),
        ('tags = ["two words"]', "'two words' is not a tag"),
        ("env = {A = 5}", "env values are text"),
        ('project = "my book"', "project 'my book' must be one word"),
        ("at = [1]", "at must be one word or a number"),
    ],
)
def test_a_bad_batch_table_is_one_line_naming_the_task(
    focusq: Run, tmp_path: Path, line: str, says: str
) -> None:
    batch = tmp_path / "jobs.toml"
    good = '[[task]]\ntitle = "ok"\ncommand = ["true"]\n'
    batch.write_text(f'{good}[[task]]\ntitle = "bad"\ncommand = ["true"]\n{line}\n')
    one_line_refusal(focusq("batch", str(batch)), "task 2", says)
    assert focusq("ls", "--json").stdout.strip() == "[]"  # nothing written


def test_placement_in_a_batch_task_without_a_command_is_refused(
    focusq: Run, tmp_path: Path
) -> None:
    batch = tmp_path / "jobs.toml"
    batch.write_text('[[task]]\ntitle = "call Bob"\non = "farm"\n')
    one_line_refusal(focusq("batch", str(batch)), "task 1", "give the task a command")


def test_a_template_cannot_be_edited_to_wait_on_a_task(focusq: Run) -> None:
    focusq("add", "a", "--", "true")
    template = focusq("add", "r", "every:1d", "--", "true").stdout.strip()
    for token in ("after:1", "afterany:1"):
        one_line_refusal(focusq("edit", template, token), "template", "cannot wait")
    assert json.loads(focusq("show", template, "--json").stdout)["after"] == []


def test_clean_with_an_empty_age_is_refused(focusq: Run) -> None:
    focusq("add", "a")
    focusq("done", "1")
    one_line_refusal(focusq("clean", "--older-than", ""), "--older-than", "not a duration")
    assert "done" in focusq("ls", "--all").stdout


def test_the_ui_without_a_terminal_is_refused(focusq: Run) -> None:
    one_line_refusal(focusq("ui"), "needs a terminal")


def test_a_batch_time_written_as_a_toml_date_time_is_the_time_meant(
    focusq: Run, tmp_path: Path
) -> None:
    batch = tmp_path / "jobs.toml"
    batch.write_text(
        '[[task]]\ntitle = "a"\nat = 2099-12-24T09:30:00\ncommand = ["true"]\n'
        '[[task]]\ntitle = "b"\nat = 21:45:00\ncommand = ["true"]\n'
    )
    assert focusq("batch", str(batch)).returncode == 0
    shown = {r["title"]: r["at"] for r in json.loads(focusq("ls", "--json").stdout)}
    assert shown["a"].startswith("2099-12-24T09:30:00")
    assert shown["b"][11:16] == "21:45"


@pytest.mark.parametrize("what", ["folder", "not utf-8"])
def test_a_batch_file_that_cannot_be_read_is_one_line(
    focusq: Run, tmp_path: Path, what: str
) -> None:
    path = tmp_path / "jobs.toml"
    if what == "folder":
        path.mkdir()
    else:
        path.write_bytes(b"\xff\xfe[[task]]")
    one_line_refusal(focusq("batch", str(path)), "batch file")


def test_a_batch_command_of_numbers_is_refused(focusq: Run, tmp_path: Path) -> None:
    batch = tmp_path / "jobs.toml"
    batch.write_text('[[task]]\ntitle = "n"\ncommand = [1, 2]\n')
    one_line_refusal(focusq("batch", str(batch)), "task 1", "command must be a list of words")


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["review", "--date", "9999-12-31"], "between the years 1900 and 9000"),
        (["review", "--week", "--date", "0001-01-02"], "between the years 1900 and 9000"),
        (["blocks", "--date", "9999-12-31"], "between the years 1900 and 9000"),
        (["group", "set", "x", "--parallel", "99999999999999999999"], "at most 1,000,000"),
        (["focus", "--minutes", "99999999999999999999"], "at most 1,000,000"),
    ],
)
def test_days_and_counts_far_out_of_range_are_refused(
    focusq: Run, argv: list[str], says: str
) -> None:
    one_line_refusal(focusq(*argv), says)


def test_ls_with_no_state_or_a_negative_limit_is_refused(focusq: Run) -> None:
    focusq("add", "a")
    one_line_refusal(focusq("ls", "--status", ""), "--status", "give one or more states")
    one_line_refusal(focusq("ls", "--limit", "-1"), "not a number of rows")
    nothing = focusq("done", "--all", "--tag", "nosuchtag")
    assert (
        nothing.returncode == 0
        and nothing.stderr == "focusq: no task matches: nothing to mark done\n"
    )


@pytest.mark.parametrize("name", ["", "two words", "new\nline"])
def test_a_group_name_that_is_not_one_word_is_refused(focusq: Run, name: str) -> None:
    for verb in (["set", name, "--parallel", "1"], ["pause", name], ["resume", name]):
        one_line_refusal(focusq("group", *verb), "one word")
    assert "new" not in focusq("group").stdout


@pytest.mark.parametrize("token", ["est:５m", "retry:３", "timeout:1０m", "every:２h"])
def test_numbers_in_tokens_are_ascii_digits_as_in_ids(focusq: Run, token: str) -> None:
    one_line_refusal(focusq("add", "x", token, "--", "true"), token)


def test_the_review_shows_a_titles_escapes_and_never_obeys_them(focusq: Run) -> None:
    focusq("add", "esc \x1b[31mred\x1b]0;pwned\x07 title")
    for argv in (["review"], ["review", "--markdown"], ["review", "--week"]):
        shown = focusq(*argv)
        assert shown.returncode == 0, shown.stderr
        assert "\x1b" not in shown.stdout and "\x07" not in shown.stdout
    assert "esc ␛[31mred" in focusq("review").stdout
