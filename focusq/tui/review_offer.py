"""On opening the TUI: the review of an earlier day left unclosed, offered once a day.

The last day before today the user worked on (``store.ops.review.unclosed_day_before``) is
offered when its review was never closed (``focusq review --close``, ``C`` on the review
screen). The answer, yes or no, is remembered for today in the TUI's state file
(``tui-state.json``, beside the database), so a second start the same day asks nothing.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from focusq.paths import PRIVATE_FILE
from focusq.review.day import day_window, review_day
from focusq.store.ops import review
from focusq.tui.screens.confirm import ConfirmScreen
from focusq.tui.screens.review import ReviewScreen

if TYPE_CHECKING:
    from focusq.tui.app import FocusqApp

STATE_KEY = "review_offer"
"""The state file's entry: ``{"on": today, "day": the day offered, "answer": ...}``."""


def read_state(path: Path) -> dict[str, Any]:
    """What the TUI remembers between starts (empty when the file is missing or bad)."""
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def remember(path: Path, **values: Any) -> None:
    """Write ``values`` into the state file, keeping what else it holds (private, whole or
    not at all: a crash mid-write leaves the last good file)."""
    state = {**read_state(path), **values}
    partial = path.with_name(path.name + ".part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w") as out:
        json.dump(state, out)
    os.replace(partial, path)


def question(day: date) -> str:
    """What the offer asks."""
    return f"The review of {day:%a %d %b} was never closed. Review it now?"


async def offer_unclosed_day(app: FocusqApp) -> None:
    """Ask once today whether to review the last earlier day left unclosed; on yes, open
    its review. Nothing is asked when that day was closed, or there is none."""
    today = review_day(app.clock())
    if read_state(app.state_file).get(STATE_KEY, {}).get("on") == today.isoformat():
        return  # asked already today
    day = await app.store.run(review.unclosed_day_before(day_window(today)[0]))
    if day is None:
        return
    offered = date.fromisoformat(day)

    async def answered(yes: bool | None) -> None:
        answer = {"on": today.isoformat(), "day": day, "answer": "yes" if yes else "no"}
        try:
            app.paths.ensure_home()
            remember(app.state_file, **{STATE_KEY: answer})
        except OSError as exc:
            app.notify(f"could not remember the answer: {exc}", severity="warning", markup=False)
        if yes:
            await app.push_screen(ReviewScreen(offered))

    await app.push_screen(ConfirmScreen(question(offered)), answered)
