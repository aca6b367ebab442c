"""The command palette: every action of the main screen and the app, by name, with its key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape
from textual.screen import Screen

from focusq.tui.screens.main import MainScreen

NAMES: dict[str, tuple[str, str]] = {
    "task.add": ("Quick add", "Add a task with the quick-add grammar"),
    "task.details": ("Details of task", "Show all of the selected task, full width"),
    "task.log": ("Open log", "Show the selected job's log"),
    "task.cancel": ("Cancel task", "Cancel the selected task or job"),
    "task.retry": ("Retry job", "Run the selected finished job again"),
    "task.pause": ("Pause or resume job", "SIGSTOP / SIGCONT the selected job"),
    "task.hold": ("Hold or release task", "Keep the selected task from starting, or let it"),
    "task.approve": ("Approve job", "Let a gate:approve job start"),
    "task.done": ("Mark done", "Mark the selected task done"),
    "task.drop": ("Drop task", "Drop the selected task from the plan"),
    "task.edit": ("Edit task", "Change the selected task with quick-add tokens"),
    "focus.start": ("Focus on task", "Put the selected creative task in the focus slot"),
    "focus.stop": ("End focus", "End the focus session"),
    "focus.view": ("Focus view", "The focus session, its task and what waits"),
    "focus.block": ("Focus blocked: waits on a job", "The selected task waits on a job you pick"),
    "focus.capture": ("Capture interruption", "Note it for the next batch, back to work"),
    "focus.inbox": ("Inbox", "Today's interruptions, kept for later and delivered"),
    "day.review": ("Review the day", "The end-of-day review: figures, timeline, what is left"),
    "list.filter": ("Filter tasks", "Filter the list as you type"),
    "list.clear": ("Clear filter", "Clear the filter, or narrow the detail pane"),
    "list.view": ("Next view", "All, creative, mechanical, done today"),
    "app.theme": ("Next theme", "Cycle through the themes"),
    "app.help": ("Help: every key", "Every key binding, filtered as you type"),
    "app.quit": ("Quit", "Close focusq (jobs keep running)"),
}
"""Palette names and help lines by binding id; a binding not named here is named by its tooltip."""

LEFT_OUT = frozenset({"list.down", "list.up"})
"""Bindings the palette does not offer: moving the cursor means nothing from a list."""


@dataclass(frozen=True)
class Command:
    """One palette entry: a binding's action, under a searchable name."""

    name: str
    help: str
    action: str
    keys: str
    binding_id: str


def commands(app: App[Any], screen: Screen[Any]) -> Iterator[Command]:
    """The palette's entries: the bindings of ``screen`` (when it is the main screen) and of
    the app, each with the keys it has now (after the user's ``[keymap]``)."""
    sources = [*(screen.BINDINGS if isinstance(screen, MainScreen) else ()), *app.BINDINGS]
    keymap: dict[str, str] = getattr(getattr(app, "settings", None), "keymap", None) or {}
    for binding in sources:
        if not isinstance(binding, Binding) or not binding.id or binding.id in LEFT_OUT:
            continue
        name, help_text = NAMES.get(binding.id, (binding.tooltip or binding.description, ""))
        key = keymap.get(binding.id, binding.key)
        keys = " ".join(app.get_key_display(Binding(k.strip(), "")) for k in key.split(","))
        # Screen actions run on the main screen, whatever screen the palette opened over.
        action = binding.action if binding.id.startswith("app.") else f"screen.{binding.action}"
        yield Command(name, help_text, action, keys, binding.id)


def _prompt(name: Content | str, keys: str) -> Content:
    """The name, then its keys (never read as markup: a key can be "[")."""
    return Content.assemble(name, "  ", Content.styled(keys, "bold"))


class FocusqCommands(Provider):
    """Finds focusq's actions by name (or keymap id), each shown with its key."""

    async def discover(self) -> Hits:
        for command in commands(self.app, self.screen):
            yield DiscoveryHit(
                _prompt(command.name, command.keys),
                partial(self.app.run_action, command.action),
                text=command.name,
                help=escape(command.help) or None,
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in commands(self.app, self.screen):
            # The id finds an action by its family too: "focus" finds "Capture interruption".
            score = max(matcher.match(command.name), matcher.match(command.binding_id) * 0.8)
            if score > 0:
                yield Hit(
                    score,
                    _prompt(matcher.highlight(command.name), command.keys),
                    partial(self.app.run_action, command.action),
                    text=command.name,
                    help=escape(command.help) or None,
                )
