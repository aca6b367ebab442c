"""The command palette: every action of the main screen, by name."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Quick add", "screen.add", "Add a task with the quick-add grammar"),
    ("Cancel task", "screen.cancel", "Cancel the selected task or job"),
    ("Retry job", "screen.retry", "Run the selected finished job again"),
    ("Pause or resume job", "screen.pause", "SIGSTOP / SIGCONT the selected job"),
    ("Hold or release task", "screen.hold", "Keep the selected task from starting, or let it"),
    ("Approve job", "screen.approve", "Let a gate:approve job start"),
    ("Mark done", "screen.done", "Mark the selected task done"),
    ("Drop task", "screen.drop", "Drop the selected task from the plan"),
    ("Edit task", "screen.edit", "Change the selected task with quick-add tokens"),
    ("Open log", "screen.log", "Show the selected job's log"),
    ("Filter tasks", "screen.filter", "Filter the list as you type"),
    ("Next view", "screen.next_view", "All, creative, mechanical, done today"),
    ("Inbox", "screen.inbox", "Today's interruptions, held and delivered, to work through"),
    ("Review the day", "screen.review", "The end-of-day review: figures, timeline, what is left"),
    ("Next theme", "app.next_theme", "Cycle through the themes"),
    ("Help", "app.help", "Every key binding"),
    ("Quit", "app.quit", "Close focusq (jobs keep running)"),
)
"""``(name, action, help)``: each one only runs an action that already has a key."""


class FocusqCommands(Provider):
    """Finds focusq's actions by name."""

    async def discover(self) -> Hits:
        for name, action, help_text in COMMANDS:
            yield DiscoveryHit(name, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, action, help_text in COMMANDS:
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(name),
                    partial(self.app.run_action, action),
                    help=help_text,
                )
