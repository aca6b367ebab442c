"""Planned against actual from the shell: ``focus --new``, ``focus --trim``, ``review --week``."""

from __future__ import annotations

import sys

from focusq.cli.common import open_store
from focusq.cli.output import duration_text, print_json, task_label, visible
from focusq.errors import UserError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds; annotations are strings
    from typing import Any

    from focusq.paths import Paths


def add_creative(store: Any, text: str, now: float) -> int:
    """``focusq focus --new "title +tag est:50m"``: the task added, its id."""
    from focusq import quickadd
    from focusq.store.ops import tasks

    draft = quickadd.parse([text], None, now=now)
    if not draft.title:
        raise UserError('--new needs a title: focusq focus --new "write the intro est:50m"')
    task_id: int = store.run(tasks.add_task(draft, now))
    print(f"added #{task_id}")
    return task_id


def trim(paths: Paths, config: Any, task_id: int, to: str | None, now: float) -> int:
    """``focusq focus --trim ID --to 11:40``: a session forgotten running ends at 11:40."""
    from focusq.store.ops import focus

    if to is None:
        raise UserError("--trim needs --to HH:MM: when the focus really stopped")
    at = clock_time(to, now)
    with open_store(paths, config) as store:
        session = store.run(focus.trim_focus(task_id, at, now))
    label = task_label({"id": session["task_id"], "title": session["title"]})
    kept = at - session["started_at"]
    print(
        f"trimmed the session on {label} to {_hhmm(at)} (it ran until {_hhmm(session['was'])}; "
        f"{duration_text(kept)} from its start, pauses not counted)"
    )
    return 0


def _hhmm(at: float) -> str:
    from datetime import datetime

    return f"{datetime.fromtimestamp(at):%H:%M}"


def clock_time(text: str, now: float) -> float:
    """``11:40``: the latest 11:40 not after ``now``; or ``YYYY-MM-DD HH:MM``."""
    from datetime import datetime, timedelta

    text = text.strip()
    try:
        if len(text) > 5:
            return datetime.fromisoformat(text).timestamp()
        hours, minutes = (int(x) for x in text.split(":"))
        today = datetime.fromtimestamp(now).replace(hour=hours, minute=minutes, second=0)
    except ValueError:
        raise UserError(f"--to {text}: write a time as HH:MM or YYYY-MM-DD HH:MM") from None
    at = today.replace(microsecond=0)
    if at.timestamp() > now:
        at -= timedelta(days=1)
    return at.timestamp()


def week(paths: Paths, config: Any, day: Any, now: float, *, as_json: bool) -> int:
    """``focusq review --week``: the seven days to ``day``, estimates against time taken,
    per tag and project."""
    from datetime import timedelta

    from focusq.review import planned
    from focusq.review.day import day_window
    from focusq.review.export import to_plain
    from focusq.store.ops import review

    first = day - timedelta(days=6)
    start, end = day_window(first)[0], day_window(day)[1]
    with open_store(paths, config) as store:
        history = store.run(review.done_history(start, end))
    figured = planned.planned(history, min(now, end))
    ratios = planned.ratios(figured.tasks)
    if as_json:
        print_json(
            {
                "from": first.isoformat(),
                "to": day.isoformat(),
                "planned": to_plain(figured) | {"ratio": figured.ratio},
                "ratios": [to_plain(r) | {"ratio": round(r.ratio, 3)} for r in ratios],
            }
        )
    else:
        text = planned.week_text(first.isoformat(), day.isoformat(), figured, ratios)
        sys.stdout.write(visible(text, lines=True))  # a tag's or title's escapes shown
    return 0
