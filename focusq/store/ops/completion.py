"""What shell completion reads: the open tasks' ids and titles, and nothing else.

A module of its own so that a Tab press imports one small query, not the task domain.
"""

from __future__ import annotations

from focusq.store.ops.base import READ
from focusq.store.schema import OPEN_STATUSES_SQL

TYPE_CHECKING = False
if TYPE_CHECKING:
    from focusq.store.ops.base import Op


def open_titles() -> Op[str]:
    """``ID<tab>TITLE`` lines of the open tasks, in no set order (shells sort them).

    One string built by SQLite: ten thousand open tasks cost no Python object each. A line
    break in a title is a space, so each task stays one line; the caller shows the rest of
    what a title holds safely.
    """
    yield READ
    rows = yield (
        # instr first: replace() on every title costs a Tab press a millisecond.
        "SELECT group_concat(id || char(9) || CASE WHEN instr(title, char(10)) "
        "THEN replace(title, char(10), ' ') ELSE title END, char(10)) "
        f"FROM tasks WHERE status IN {OPEN_STATUSES_SQL}",
        (),
    )
    return str(rows[0][0] or "")
