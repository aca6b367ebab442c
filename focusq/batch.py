"""``focusq batch FILE.toml``: a set of tasks with dependencies, as drafts for one transaction."""

from __future__ import annotations

import os
import tomllib
from typing import Any

from focusq import quickadd
from focusq.errors import UserError
from focusq.quickadd import TaskDraft, task_id
from focusq.states import Kind

_KEYS = {
    "name", "title", "command", "shell", "cwd", "env", "tags", "project", "priority", "est",
    "locks", "lock", "timeout", "retry", "group", "gate", "at", "after", "afterany", "kind",
    "on", "res", "host",
}  # fmt: skip


def read_batch(path: str, *, now: float, cwd: str) -> list[TaskDraft]:
    """Parse ``path`` into drafts; later tasks name earlier ones in ``after`` by ``name``."""
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError:
        raise UserError(f"batch file {path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"batch file {path}: {exc}; write it as TOML in UTF-8") from None
    except OSError as exc:  # a folder, no rights
        raise UserError(f"batch file {path}: {exc.strerror}; give a TOML file") from None
    unknown = set(data) - {"task", "group", "cwd"}
    if unknown:
        raise UserError(f"batch file {path}: unknown key {sorted(unknown)[0]!r} at the top")
    tables = data.get("task")
    if not isinstance(tables, list) or not tables:
        raise UserError(f"batch file {path}: no [[task]] tables")
    base = os.path.dirname(os.path.abspath(path))
    default_cwd = _folder(data.get("cwd"), base, cwd, path, "top")
    names: dict[str, int] = {}
    drafts = []
    for index, table in enumerate(tables, 1):
        where = f"batch file {path}, task {index}"
        try:
            draft = _draft(table, data.get("group"), default_cwd, base, names, now)
        except UserError as exc:
            raise UserError(f"{where}: {exc}") from None
        name = table.get("name")
        if name is not None:
            if name in names:
                raise UserError(f"{where}: the name {name!r} is used twice")
            names[str(name)] = -(index)
        drafts.append(draft)
    return drafts


def _draft(
    table: dict[str, Any],
    group: str | None,
    default_cwd: str,
    base: str,
    names: dict[str, int],
    now: float,
) -> TaskDraft:
    unknown = set(table) - _KEYS
    if unknown:
        raise UserError(f"unknown key {sorted(unknown)[0]!r}")
    for key, kind, example in _TYPES:
        if key in table and not _is(table[key], kind):
            raise UserError(f"{key} must be {example}")
    if "\0" in table.get("title", ""):
        raise UserError("title holds a NUL byte; write it without one")
    words = [str(table.get("title", ""))]
    for key in ("project", "est", "timeout", "retry", "group", "gate", "at"):
        if key in table:
            words.append(f"{key}:{_word(key, table[key])}")
    if "group" not in table and group:
        words.append(f"group:{group}")
    if "priority" in table:
        words.append(f"pri:{table['priority']}")
    for tag in table.get("tags", []):
        if not quickadd.is_tag(tag):
            raise UserError(f"tags: {tag!r} is not a tag; a tag is a word, like data or ci-2")
        words.append(f"+{tag}")
    locks = table.get("locks", []) + ([table["lock"]] if "lock" in table else [])
    words += [f"lock:{lock}" for lock in locks]
    words += _placement(table)
    if "kind" in table:
        if table["kind"] not in ("mechanical", "creative"):
            raise UserError(f'kind {table["kind"]!r}: write kind = "mechanical" or "creative"')
        words.append("~mech" if table["kind"] == "mechanical" else "~creative")
    command = table.get("command")
    shell = bool(table.get("shell", False))
    if isinstance(command, str):
        argv: list[str] | None = [command] if shell else command.split()
    elif isinstance(command, list) and all(isinstance(c, str) for c in command):
        argv = list(command)
    elif command is None:
        argv = None
    else:
        raise UserError("command must be a list of words or a string")
    draft = quickadd.parse(words, argv, now=now, shell=shell and argv is not None)
    for key in ("after", "afterany"):
        refs = table.get(key, [])
        if refs:
            setattr(draft, key, [_ref(r, names, key) for r in refs])
    if draft.kind is Kind.MECHANICAL:
        draft.cwd = _folder(table.get("cwd"), base, default_cwd, "", "cwd")
        env = table.get("env", {})
        if not all(isinstance(v, str) for v in env.values()):
            raise UserError('env values are text, like env = {STAGE = "prod", RETRIES = "3"}')
        draft.env = dict(env) or None
    return draft


def _word(key: str, value: Any) -> str:
    """A token's value as ``focusq add`` reads it: one word (a TOML date-time, written in
    ISO form: a time alone as HH:MM)."""
    import datetime as dt

    if key == "at" and isinstance(value, dt.time):
        value = value.strftime("%H:%M")
    elif key == "at" and isinstance(value, dt.date):
        value = value.isoformat()
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise UserError(f'{key} must be one word or a number, like {key} = "..."')
    text = str(value)
    if not text or any(c.isspace() for c in text):
        raise UserError(f"{key} {text!r} must be one word (no spaces)")
    return text


_TYPES = (
    ("name", str, 'a name, like name = "pull"'),
    ("title", str, 'text, like title = "pull the data"'),
    ("tags", list[str], 'a list of tags, like tags = ["data"]'),
    ("locks", list[str], 'a list of lock keys, like locks = ["deploy:prod"]'),
    ("lock", str, 'a lock key, like lock = "deploy:prod"'),
    ("env", dict, 'a table of variables, like env = {STAGE = "prod"}'),
    ("kind", str, 'mechanical or creative, like kind = "creative"'),
    ("after", list, 'a list of names or ids, like after = ["pull"]'),
    ("afterany", list, 'a list of names or ids, like afterany = ["pull"]'),
    ("shell", bool, "true or false"),
)
"""Keys whose value must be of a kind, and how to write one."""


def _is(value: Any, kind: Any) -> bool:
    if kind == list[str]:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, kind)


def _placement(table: dict[str, Any]) -> list[str]:
    """``on``, ``res`` and ``host`` as the tokens ``focusq add`` takes (checked there)."""
    placed = [key for key in ("on", "res", "host") if key in table]
    if placed and table.get("command") is None:
        raise UserError(f"{placed[0]} says where a job runs: give the task a command")
    words = []
    on = table.get("on")
    if on is not None:
        if not isinstance(on, str) or not on or any(c.isspace() for c in on):
            raise UserError('on must be an executor\'s name, like on = "farm"')
        words.append(f"on:{on}")
    resources = table.get("res", {})
    if not isinstance(resources, dict) or not all(
        isinstance(k, str) and k and not any(c.isspace() for c in k) and _amount(v)
        for k, v in resources.items()
    ):
        raise UserError("res must be a table of amounts, like res = {gpu = 1}")
    words += [f"res:{key}={amount}" for key, amount in resources.items()]
    hosts = table.get("host", [])
    hosts = [hosts] if isinstance(hosts, str) else hosts
    if not isinstance(hosts, list) or not all(
        isinstance(h, str) and h and not any(c.isspace() for c in h) for h in hosts
    ):
        raise UserError('host must be a host\'s name or a list of them, like host = "box"')
    return words + [f"host:{host}" for host in hosts]


def _amount(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _ref(ref: Any, names: dict[str, int], key: str) -> int:
    if isinstance(ref, str) and ref in names:
        return names[ref]
    found = task_id(str(ref)) if isinstance(ref, (int, str)) and not isinstance(ref, bool) else None
    if found is not None:
        return found
    raise UserError(f"{key}: {ref!r} is not the name of an earlier task or an id")


def _folder(value: Any, base: str, default: str, path: str, where: str) -> str:
    if value is None:
        return default
    folder = os.path.normpath(os.path.join(base, os.path.expanduser(str(value))))
    if not os.path.isdir(folder):
        raise UserError(f"cwd {value}: no such folder")
    return folder
