"""Hostile text on every screen: shown as written, its escapes shown and never obeyed, no crash.

Titles, notes, log lines and failure notes are made of markup (``[/wip]``, ``[b]x[/b]``),
terminal escapes, control characters and bidi overrides; the pilot opens each screen
that shows them and reads what reached the screen.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rich.console import Console
from textual import events
from textual.pilot import Pilot

from focusq.cli.output import visible
from focusq.config import load_settings
from focusq.errors import UserError
from focusq.paths import Paths
from focusq.quickadd import TaskDraft, parse
from focusq.store.ops import base, focus, jobs, tasks
from focusq.store.sync import SyncStore
from focusq.tui.app import FocusqApp, make_app
from focusq.tui.screens.capture import CaptureScreen
from focusq.tui.screens.confirm import ConfirmScreen
from focusq.tui.screens.focus import FocusScreen
from focusq.tui.screens.help import HelpScreen
from focusq.tui.screens.log import LogScreen
from focusq.tui.screens.main import MainScreen
from focusq.tui.screens.pick import PickScreen
from focusq.tui.screens.quickadd import QuickAddScreen, parse_line
from focusq.tui.screens.review import ReviewScreen
from tests.engine_helpers import record_run
from tests.tui.conftest import NOW, settle

SIZE = (120, 40)

PIECES = (
    "[/",
    "[/wip]",
    "[b]x[/b]",
    "[link=https://x]y[/link]",
    "[WIP]",
    "[skip ci]",
    "/users/[id]",
    "[a-z]",
    "[@click=app.quit]q",
    "\x1b[31mred\x1b[0m",
    "\x1b]0;pwned\x07",
    "bell\x07",
    "back\x08\x08",
    "\x9b2J",
    "\u202eevil",
    "tab\there",
    "cr\rlf",
    "del\x7f",
    "日本[語]",
)
WORD = st.sampled_from(PIECES) | st.text(
    st.characters(codec="ascii", categories=("L", "N", "P", "S")), min_size=1, max_size=8
)
TITLES = st.lists(WORD, min_size=1, max_size=5).map(" ".join)

RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""What must never reach the terminal as text: C0 (but tab and newline), DEL, C1, bidi."""


def screen_text(app: FocusqApp) -> str:
    """The text of the screen as the terminal receives it (as ``export_screenshot`` renders)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text(styles=False)


def assert_shown(app: FocusqApp, *texts: str) -> None:
    """Every word of each text is on screen as written (escapes as pictures), nothing raw."""
    shown = screen_text(app)
    assert not RAW.findall(shown), f"raw control characters on {app.screen}"
    missing = [w for text in texts for w in visible(text).split() if w not in shown]
    assert not missing, f"{missing} not on {type(app.screen).__name__}:\n{shown}"


async def paste(pilot: Pilot[None], selector: str, text: str) -> None:
    """Paste ``text`` into the input ``selector`` of the current screen, as a terminal would."""
    pilot.app.screen.query_one(selector).post_message(events.Paste(text))
    await settle(pilot)


def pasted(text: str) -> str:
    """What an input keeps of a paste: its first line, control characters as pictures."""
    return visible(text.splitlines()[0]) if text.splitlines() else ""


def seed(paths: Paths, title: str) -> dict[str, int]:
    """A creative task (with a note), one in focus, a running job writing the title, a failed
    job whose output was the title."""

    def draft(text: str, command: list[str] | None = None) -> TaskDraft:
        d = parse(["placeholder"], command, now=NOW)
        d.title = text
        if command is not None:
            d.cwd = "/srv/[site]"
        return d

    creative = draft(title)
    creative.tags = ["[b]tag"]
    creative.project = "[/p]"
    with SyncStore(paths.database) as store:
        work = [creative, draft("other work"), draft(title, ["echo"]), draft(title, ["false"])]
        ids = store.run(tasks.add_tasks(work, NOW - 3600))
        store.run(tasks.add_note(ids[0], title, NOW - 3000))
        store.run(focus.start_focus(ids[1], NOW - 600, 50, switch=False))
        tail = f"{title}\n"
        record_run(store, ids[3], NOW - 1800, NOW - 1700, ok=False, tail=tail, logs=paths.logs)
        running = store.run(base.apply([jobs.claim(ids[2], NOW - 60, paths.logs)]))[0]
    os.makedirs(paths.logs, exist_ok=True)
    Path(running["log_path"]).write_text(f"# focusq: job\n{title}\n")
    return {"creative": ids[0], "other": ids[1], "job": ids[2], "failed": ids[3]}


async def drive(paths: Paths, title: str) -> None:
    """Open every screen that shows the title; each one shows it as written."""
    ids = seed(paths, title)
    app = make_app(load_settings(paths), paths, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = app.screen
        assert isinstance(main, MainScreen)
        main.select_task(ids["creative"])
        await settle(pilot)
        tags = ("[b]tag", "[/p]") if title != LONG else ()  # after a long title: out of sight
        assert_shown(app, title, *tags)  # the list and the detail pane

        await pilot.press("a")  # quick-add: the preview of what is typed
        assert isinstance(app.screen, QuickAddScreen)
        await paste(pilot, "#quickadd-input", title)
        try:
            typed = parse_line(pasted(title)).title or ""
        except UserError:
            typed = ""  # the error is the preview
        assert_shown(app, typed)
        await pilot.press("[", "/")
        await settle(pilot)
        await pilot.press("escape")

        await pilot.press("e")  # edit: the heading quotes the title
        assert isinstance(app.screen, QuickAddScreen)
        assert_shown(app, title)
        await pilot.press("escape")

        main.select_task(ids["job"])
        await pilot.press("c")  # cancelling a running job is asked first
        assert isinstance(app.screen, ConfirmScreen)
        assert_shown(app, title)
        await pilot.press("n")
        await pilot.press("l")  # the log screen: its title and the log
        await settle(pilot)
        assert isinstance(app.screen, LogScreen)
        assert_shown(app, title)
        await pilot.press("escape")

        main.select_task(ids["creative"])
        await pilot.press("b")  # the pick list of jobs to wait on
        assert isinstance(app.screen, PickScreen)
        assert_shown(app, title)
        await pilot.press("escape")

        await pilot.press("f")  # focus is on another task: asked first
        assert isinstance(app.screen, ConfirmScreen)
        assert_shown(app, title)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, FocusScreen)
        assert_shown(app, title)  # the title and its note
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert_shown(app, '[keymap] "task.cancel"')
        await pilot.press("escape")

        await pilot.press("R")  # the review: failures with their output, unfinished work
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        app.screen.query_one("#review-failures").focus()
        await settle(pilot)
        assert_shown(app, title)
        await pilot.press("n")  # a note on the failure: the prompt quotes the title
        assert isinstance(app.screen, CaptureScreen)
        assert_shown(app, title)
        await paste(pilot, "#capture-input", title)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert_shown(app, *([] if title == LONG else [f"note, attempt 1: {pasted(title)}"]))
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("slash")  # the filter shows in the list's border
        await paste(pilot, "#filter", title)
        assert_shown(app)
        assert app.is_running and app.return_code is None


def home() -> Paths:
    folder = tempfile.mkdtemp(dir=os.environ["FOCUSQ_HOME"] + "-examples")
    return Paths(folder, os.path.join(folder, "config.toml"))


LONG = ("[/wip] deploy \x1b[31mred [b]x[/b] " * 400)[:10_000]
"""A 10,000-character title: cut and wrapped everywhere, but never a crash."""


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(title=TITLES)
@example(title="merge [/wip] branch")
@example(title="[WIP] [skip ci] /users/[id] [a-z] [b]x[/b] [link=https://x]y[/link] \u202eevil")
@example(title="deploy [/prod] now \x1b[31mred\x1b[0m\x07 \x9b2J")
@example(title=LONG)
def test_hostile_titles_show_as_written_on_every_screen(focusq_home: Path, title: str) -> None:
    os.makedirs(f"{focusq_home}-examples", exist_ok=True)
    asyncio.run(drive(home(), title))


async def test_a_status_that_grows_keeps_all_its_letters(
    app: FocusqApp, paths: Paths, seed: Callable[..., list[int]]
) -> None:
    (job,) = seed(("build", ["make"]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        with SyncStore(paths.database) as store:  # the worker starts it meanwhile
            store.run(base.apply([jobs.claim(job, NOW, paths.logs)]))
        main = app.screen
        assert isinstance(main, MainScreen)
        main.refresh_board()
        await settle(pilot)
        row = next(line for line in screen_text(app).splitlines() if " job " in line)
        assert re.search(r" job +M +running +build ", row), row
