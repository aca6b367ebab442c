"""The quick-add grammar: words in, a :class:`TaskDraft` out. Pure: no I/O, no clock.

``write the launch post +blog project:site pri:H est:90m`` is a creative task;
anything after ``--`` is a command, which makes the task mechanical.
Unknown ``key:value`` words stay in the title, so ``fix: typo`` is a title.
"""

from __future__ import annotations

import re

from focusq.durations import parse_duration
from focusq.errors import UserError
from focusq.states import Kind, Priority

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

_TAG = re.compile(r"[^\W\d][\w.-]*|\d+[^\W\d][\w.-]*")
_KIND_WORDS = {
    "~mech": Kind.MECHANICAL,
    "~mechanical": Kind.MECHANICAL,
    "~creative": Kind.CREATIVE,
}
_GATES = ("approve",)
_MAX_RETRIES = 100


class TaskDraft:
    """What one quick-add line asks for. ``None`` (or empty) means "not given"."""

    __slots__ = (
        "after",
        "afterany",
        "catch_up",
        "command",
        "cwd",
        "env",
        "environ",
        "estimate",
        "executor",
        "gate",
        "group",
        "hosts",
        "kind",
        "locks",
        "not_before",
        "overlap",
        "priority",
        "project",
        "recur",
        "resources",
        "retries",
        "tags",
        "timeout",
        "title",
        "unset_env",
        "untags",
    )

    def __init__(self) -> None:
        self.title: str | None = None
        self.kind: Kind | None = None
        self.priority: Priority | None = None
        self.tags: list[str] = []
        self.untags: list[str] = []
        self.project: str | None = None
        self.command: list[str] | None = None
        self.cwd: str | None = None
        self.env: dict[str, str] | None = None
        """Variables set on top of the captured environment (``--env``)."""
        self.environ: dict[str, str] | None = None
        """The environment of the shell that added the task, captured at add time."""
        self.unset_env: list[str] = []
        """Variables an edit removes from the environment and the overrides."""
        self.after: list[int] | None = None
        self.afterany: list[int] | None = None
        self.locks: list[str] | None = None
        self.estimate: float | None = None
        self.timeout: float | None = None
        self.retries: int | None = None
        self.group: str | None = None
        self.not_before: float | None = None
        self.gate: str | None = None
        self.recur: str | None = None
        """A recurring job's rule as stored (``every:1d``, ``cron:0 3 * * 1``)."""
        self.catch_up: str | None = None
        """``catchup:``: what a late worker does about missed due times (one, all, none)."""
        self.overlap: bool | None = None
        """``overlap:yes``: runs of the series may overlap (by default they never do)."""
        self.executor: str | None = None
        """``on:NAME``: the executor that runs the job (``local``, or an [executors.NAME])."""
        self.resources: dict[str, float] | None = None
        """``res:KEY=N``: what a Dask worker must offer to run the job."""
        self.hosts: list[str] | None = None
        """``host:NAME``: the Dask workers (by host or address) the job may run on."""

    def __repr__(self) -> str:
        given = {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) not in (None, [])}
        return f"TaskDraft({given})"


def parse(
    words: Sequence[str],
    command: Sequence[str] | None = None,
    *,
    now: float,
    shell: bool = False,
    editing: bool = False,
) -> TaskDraft:
    """Parse a quick-add line.

    ``words`` are the arguments before ``--`` (each may hold several words);
    ``command`` the arguments after it, or ``None`` when there was no ``--``.
    ``now`` (epoch seconds) anchors ``at:HH:MM``. With ``editing`` the title may be
    empty (keep the old one) and ``-tag`` removes a tag.
    Raises :class:`UserError` with a one-line message naming the bad token.
    """
    draft = TaskDraft()
    title: list[str] = []
    words = list(_words(words))
    # on:, res: and host: place a job; in a task with no command they are title words
    # ("call Bob on:monday").
    job = command is not None or editing or bool({"~mech", "~mechanical"} & set(words))
    for word in words:
        placing = word.partition(":")[0].lower() in _PLACEMENT and ":" in word
        if (placing and not job) or not _token(draft, word, now=now, editing=editing):
            title.append(word)
    draft.title = " ".join(title) or None
    if (draft.catch_up is not None or draft.overlap is not None) and not (draft.recur or editing):
        raise UserError("catchup: and overlap: go with a repeat: add every:1d or cron:... too")
    if draft.recur and (draft.after or draft.afterany):
        raise UserError("a recurring job cannot wait on other tasks: drop after:/afterany:")

    if command is not None:
        if not command:
            raise UserError("nothing after '--': give the command to run, e.g. -- make build")
        draft.command = ["sh", "-c", " ".join(command)] if shell else list(command)
    elif shell:
        raise UserError("--shell needs a command after '--'")

    if draft.command is not None:
        if draft.kind is Kind.CREATIVE:
            raise UserError("~creative tasks take no command; drop '~creative' or the '--' part")
        draft.kind = Kind.MECHANICAL
        if draft.title is None and not editing:
            draft.title = command_text(draft.command)
    if draft.command is None and not editing:
        if draft.kind is Kind.MECHANICAL:
            raise UserError("a ~mech task needs a command: add it after '--'")
        draft.kind = draft.kind or Kind.CREATIVE
        if draft.title is None:
            raise UserError("the task has no title: say what to do, e.g. focusq add write the post")
    if draft.recur and draft.kind is Kind.CREATIVE:
        raise UserError(
            f"'{draft.recur}' repeats a job: a creative task cannot recur; give its command "
            "after '--'"
        )
    placed = draft.executor or draft.resources or draft.hosts
    if placed and draft.kind is Kind.CREATIVE:
        raise UserError("on:, res: and host: say where a job runs: a creative task runs in you")
    return draft


def _words(args: Sequence[str]) -> Iterator[str]:
    """The words of ``args``; a ``cron:`` value stays one word, whether the shell kept it in
    one argument (``'cron:0 3 * * 1'``) or it is quoted in a line (``cron:"0 3 * * 1"``)."""
    quoted: list[str] = []
    for arg in args:
        if arg[:5].lower() == "cron:" and not quoted:
            yield arg.strip()
            continue
        for word in arg.split():
            if quoted:
                quoted.append(word)
                if word.endswith(quoted[0][5]):
                    yield " ".join(quoted)
                    quoted = []
            elif word[:6].lower() in ('cron:"', "cron:'") and not (
                len(word) > 6 and word.endswith(word[5])
            ):
                quoted = [word]
            else:
                yield word
    if quoted:
        yield " ".join(quoted)


def command_text(command: Sequence[str]) -> str:
    """How a stored command reads on screen."""
    if len(command) == 3 and list(command[:2]) == ["sh", "-c"]:
        return command[2]
    import shlex  # only here: quick-add with a title never pays for it

    return shlex.join(command)


def _token(draft: TaskDraft, word: str, *, now: float, editing: bool) -> bool:
    """Apply ``word`` to ``draft`` if it is a token; ``False`` if it belongs to the title."""
    if word in _KIND_WORDS:
        draft.kind = _KIND_WORDS[word]
        return True
    if word[0] in "+-" and _TAG.fullmatch(word[1:]):
        if word[0] == "+":
            draft.tags.append(word[1:])
            return True
        if editing:
            draft.untags.append(word[1:])
            return True
        return False
    key, sep, value = word.partition(":")
    handler = _KEYS.get(key.lower()) if sep else None
    if handler is None:
        return False
    if not value:
        raise UserError(f"'{word}' has no value: write it as {key}:VALUE")
    handler(draft, value, now)
    return True


def task_id(text: str) -> int | None:
    """``12`` or ``#12`` as a task id: a positive number SQLite can hold, else ``None``."""
    digits = text.strip().lstrip("#")
    if not (digits.isascii() and digits.isdigit()):
        return None
    number = int(digits)
    return number if 0 < number <= MAX_ID else None


MAX_ID = (1 << 63) - 1
"""The largest id SQLite stores."""


def _ids(value: str, key: str) -> list[int]:
    ids = []
    for part in value.split(","):
        found = task_id(part)
        if found is None:
            raise UserError(
                f"'{key}:{value}': {part.strip()!r} is not a task id; use {key}:12 or {key}:12,13"
            )
        ids.append(found)
    return ids


def _set_project(draft: TaskDraft, value: str, now: float) -> None:
    draft.project = value


def _set_priority(draft: TaskDraft, value: str, now: float) -> None:
    try:
        draft.priority = Priority(value.upper())
    except ValueError:
        raise UserError(f"'pri:{value}' is not a priority; use pri:H, pri:M or pri:L") from None


def _duration(key: str, value: str) -> float:
    try:
        return parse_duration(value)
    except ValueError:
        raise UserError(
            f"'{key}:{value}' is not a duration; use forms like {key}:30m, {key}:2h or {key}:1h30m"
        ) from None


def _set_estimate(draft: TaskDraft, value: str, now: float) -> None:
    draft.estimate = _duration("est", value)


def _set_timeout(draft: TaskDraft, value: str, now: float) -> None:
    draft.timeout = _duration("timeout", value)


def _set_after(draft: TaskDraft, value: str, now: float) -> None:
    draft.after = (draft.after or []) + _ids(value, "after")


def _set_afterany(draft: TaskDraft, value: str, now: float) -> None:
    draft.afterany = (draft.afterany or []) + _ids(value, "afterany")


def _set_lock(draft: TaskDraft, value: str, now: float) -> None:
    if value.startswith(":") or value.endswith(":"):
        raise UserError(f"'lock:{value}' has an empty part; use names like lock:deploy:prod")
    draft.locks = [*(draft.locks or []), value]


def _set_retry(draft: TaskDraft, value: str, now: float) -> None:
    if not (value.isascii() and value.isdigit()) or int(value) > _MAX_RETRIES:
        raise UserError(f"'retry:{value}' is not a retry count; use a number from 0 to 100")
    draft.retries = int(value)


def _set_group(draft: TaskDraft, value: str, now: float) -> None:
    draft.group = value


def _set_gate(draft: TaskDraft, value: str, now: float) -> None:
    if value not in _GATES:
        raise UserError(f"'gate:{value}' is not a gate; the one gate is gate:approve")
    draft.gate = value


def _set_at(draft: TaskDraft, value: str, now: float) -> None:
    from datetime import datetime, timedelta

    base = datetime.fromtimestamp(now).astimezone()
    try:
        if re.fullmatch(r"\d{1,2}:\d{2}", value):
            hour, minute = map(int, value.split(":"))
            when = base.replace(hour=hour, minute=minute, second=0, microsecond=0)
            if when <= base:
                when += timedelta(days=1)
        else:
            when = datetime.fromisoformat(value)
            if when.tzinfo is None:
                when = when.astimezone()
    except (ValueError, OverflowError):
        raise UserError(
            f"'at:{value}' is not a time; use at:14:00 or at:2026-11-24T09:00"
        ) from None
    if when.year >= 9000:  # far from the end of what dates can hold
        raise UserError(f"'at:{value}' is out of range; give a year before 9000")
    draft.not_before = when.timestamp()


def is_tag(word: str) -> bool:
    """Whether ``word`` is a tag as ``+word`` writes one."""
    return bool(_TAG.fullmatch(word))


def _rule(text: str) -> str:
    from focusq import recurrence  # only for a repeat: ordinary adds never load it

    try:
        return recurrence.parse(text).text
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _set_every(draft: TaskDraft, value: str, now: float) -> None:
    draft.recur = _rule(f"every:{value}")


def _set_cron(draft: TaskDraft, value: str, now: float) -> None:
    draft.recur = _rule(f"cron:{value}")


def _set_catch_up(draft: TaskDraft, value: str, now: float) -> None:
    if value.lower() not in ("one", "all", "none"):
        raise UserError(f"'catchup:{value}' is not a catch-up rule; use catchup:one, all or none")
    draft.catch_up = value.lower()


_YES = {"yes": True, "true": True, "on": True, "no": False, "false": False, "off": False}


def _set_overlap(draft: TaskDraft, value: str, now: float) -> None:
    if value.lower() not in _YES:
        raise UserError(f"'overlap:{value}' is not yes or no; use overlap:yes or overlap:no")
    draft.overlap = _YES[value.lower()]


def _set_on(draft: TaskDraft, value: str, now: float) -> None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", value):
        raise UserError(f"'on:{value}' is not an executor name; use on:local or on:NAME")
    draft.executor = value


def _set_resource(draft: TaskDraft, value: str, now: float) -> None:
    key, _, amount = value.partition("=")
    try:
        number = float(amount) if amount else 1.0
    except ValueError:
        number = -1.0
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", key) or not number > 0 or number == float("inf"):
        raise UserError(f"'res:{value}' is not a resource; use res:build=1 or res:gpu")
    draft.resources = {**(draft.resources or {}), key: number}


def _set_host(draft: TaskDraft, value: str, now: float) -> None:
    draft.hosts = [*(draft.hosts or []), value]


_PLACEMENT = ("on", "res", "host")

_KEYS = {
    "project": _set_project,
    "pri": _set_priority,
    "est": _set_estimate,
    "after": _set_after,
    "afterany": _set_afterany,
    "lock": _set_lock,
    "timeout": _set_timeout,
    "retry": _set_retry,
    "group": _set_group,
    "gate": _set_gate,
    "at": _set_at,
    "every": _set_every,
    "cron": _set_cron,
    "catchup": _set_catch_up,
    "overlap": _set_overlap,
    "on": _set_on,
    "res": _set_resource,
    "host": _set_host,
}
