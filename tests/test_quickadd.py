"""The quick-add grammar, as a pure function."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from focusq.errors import UserError
from focusq.quickadd import command_text, parse
from focusq.states import Kind, Priority

NOW = datetime(2026, 11, 24, 10, 30).astimezone().timestamp()


def test_words_and_tokens_make_a_creative_task() -> None:
    draft = parse(["write the launch post +blog project:site pri:H est:90m"], now=NOW)
    assert draft.title == "write the launch post"
    assert draft.kind is Kind.CREATIVE
    assert draft.tags == ["blog"]
    assert draft.project == "site"
    assert draft.priority is Priority.HIGH
    assert draft.estimate == 90 * 60
    assert draft.command is None


def test_words_split_the_same_quoted_or_not() -> None:
    quoted = parse(["write the post +blog"], now=NOW)
    split = parse(["write", "the", "post", "+blog"], now=NOW)
    assert (quoted.title, quoted.tags) == (split.title, split.tags) == ("write the post", ["blog"])


def test_a_command_makes_a_mechanical_task_titled_by_its_command() -> None:
    draft = parse([], ["make", "build"], now=NOW)
    assert draft.kind is Kind.MECHANICAL
    assert draft.command == ["make", "build"]
    assert draft.title == "make build"


def test_title_and_command() -> None:
    draft = parse(["build", "site"], ["make", "-C", "site", "build"], now=NOW)
    assert (draft.title, draft.command) == ("build site", ["make", "-C", "site", "build"])


def test_shell_makes_one_sh_c_string() -> None:
    draft = parse(["both"], ["make", "&&", "make", "test"], now=NOW, shell=True)
    assert draft.command == ["sh", "-c", "make && make test"]
    assert command_text(draft.command) == "make && make test"


def test_command_text_quotes_arguments() -> None:
    assert command_text(["grep", "-r", "a b", "."]) == "grep -r 'a b' ."


def test_every_token() -> None:
    draft = parse(
        [
            "deploy after:1,#2 afterany:3 lock:deploy:prod lock:git:site:main timeout:10m"
            " retry:3 group:pull gate:approve"
        ],
        ["./deploy.sh"],
        now=NOW,
    )
    assert draft.after == [1, 2]
    assert draft.afterany == [3]
    assert draft.locks == ["deploy:prod", "git:site:main"]
    assert draft.timeout == 600
    assert draft.retries == 3
    assert draft.group == "pull"
    assert draft.gate == "approve"
    assert draft.title == "deploy"


def test_unknown_key_value_words_stay_in_the_title() -> None:
    draft = parse(["fix: typo in docs:intro see http://x.org"], now=NOW)
    assert draft.title == "fix: typo in docs:intro see http://x.org"


def test_kind_override() -> None:
    assert parse(["~creative", "design"], now=NOW).kind is Kind.CREATIVE
    with pytest.raises(UserError, match="needs a command"):
        parse(["~mech", "build"], now=NOW)
    with pytest.raises(UserError, match="no command"):
        parse(["~creative", "x"], ["make"], now=NOW)


def test_at_time_of_day_is_the_next_one() -> None:
    later = parse(["call", "at:14:00"], now=NOW).not_before
    earlier = parse(["call", "at:09:00"], now=NOW).not_before
    assert later is not None and earlier is not None
    assert datetime.fromtimestamp(later) == datetime(2026, 11, 24, 14, 0)
    assert datetime.fromtimestamp(earlier) == datetime(2026, 11, 25, 9, 0)


def test_at_full_timestamp() -> None:
    draft = parse(["x", "at:2026-11-24T09:00"], now=NOW)
    assert draft.not_before is not None
    assert datetime.fromtimestamp(draft.not_before) == datetime(2026, 11, 24, 9, 0)


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ([""], "no title"),
        (["+tag only"], None),
        (["x pri:X"], "pri:X"),
        (["x est:abc"], "est:abc"),
        (["x est:0m"], "est:0m"),
        (["x after:abc"], "not a task id"),
        (["x after:0"], "not a task id"),
        (["x retry:-1"], "retry"),
        (["x retry:many"], "retry"),
        (["x timeout:soon"], "timeout:soon"),
        (["x at:25:99"], "at:25:99"),
        (["x at:tomorrow"], "at:tomorrow"),
        (["x gate:maybe"], "gate:maybe"),
        (["x lock:"], "no value"),
        (["x lock:deploy:"], "empty part"),
        (["x project:"], "no value"),
    ],
)
def test_bad_tokens_are_named(words: list[str], message: str | None) -> None:
    if message is None:  # '+tag only' has a title: fine
        assert parse(words, now=NOW).title == "only"
        return
    with pytest.raises(UserError, match=message):
        parse(words, now=NOW)


def test_empty_command_is_refused() -> None:
    with pytest.raises(UserError, match="nothing after"):
        parse(["x"], [], now=NOW)


def test_editing_allows_no_title_and_removes_tags() -> None:
    draft = parse(["-old +new pri:L"], now=NOW, editing=True)
    assert draft.title is None
    assert (draft.tags, draft.untags) == (["new"], ["old"])
    assert draft.priority is Priority.LOW


@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=8))
def test_parse_never_fails_other_than_by_user_error(words: list[str]) -> None:
    try:
        draft = parse(words, now=NOW)
    except UserError as exc:
        assert "\n" not in str(exc)
    else:
        assert draft.title
        assert draft.kind is Kind.CREATIVE
