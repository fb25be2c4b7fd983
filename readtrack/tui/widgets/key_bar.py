"""The footer line: the keys the focused screen answers to, from its BINDINGS, drawn as one line of text.

Textual's `Footer` mounts a widget per key and recomposes them on every focus change; with the dozen keys of
the main screen that cost about half of the first paint (measured with benchmarks/bench_tui.py: 1.1 s → 0.6 s
on a loaded machine). This draws the same bindings, in the same order, as styled text.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static


class KeyBar(Static):
    """The active screen's shown bindings, one per action, then the palette key if it fits. A screen may
    name the actions that matter most in ``KEY_BAR_FIRST``: they come first and are the last dropped."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-bar--key", "key-bar--description"}
    ALWAYS: ClassVar[set[str]] = {"Help", "Quit"}  # descriptions of keys never dropped for lack of room

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self.call_after_refresh(self.show_keys)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if screen is self.screen:
            self.call_after_refresh(self.show_keys)

    def show_keys(self) -> None:
        """Draw the keys that fit, the screen's ``KEY_BAR_FIRST`` actions first; help and quit always stay
        (help lists the rest)."""
        if not self.is_attached or self.screen is not self.app.screen:
            return  # a screen on its way out, or under another one: nothing to draw
        key_style = self.get_component_rich_style("key-bar--key", default=Style())
        description_style = self.get_component_rich_style("key-bar--description", default=Style())
        items: list[tuple[str, str, bool]] = []
        actions: list[str] = []
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if (
                not binding.show
                or binding.action in actions
                or binding.key == self.app.COMMAND_PALETTE_BINDING
            ):
                continue
            actions.append(binding.action)
            items.append((self.app.get_key_display(binding), binding.description, enabled))
        first: tuple[str, ...] = getattr(self.screen, "KEY_BAR_FIRST", ())
        rank = {action: i for i, action in enumerate(first)}
        order = sorted(range(len(items)), key=lambda i: rank.get(actions[i], len(rank)))  # stable
        kept = [items[i] for i in order if items[i][1] in self.ALWAYS]
        room = self.size.width - sum(_width(item) for item in kept)
        shown = []
        for item in (items[i] for i in order if items[i] not in kept):
            if _width(item) <= room:  # one that does not fit may leave room for a shorter one after it
                shown.append(item)
                room -= _width(item)
        line = Text(no_wrap=True, overflow="ellipsis")
        for key, description, enabled in [*shown, *kept]:
            dim = Style(dim=not enabled)
            line.append(f" {key} ", style=key_style + dim)
            line.append(f"{description} ", style=description_style + dim)
        palette_key = self.app.get_key_display(Binding(self.app.COMMAND_PALETTE_BINDING, "command_palette"))
        palette = f" {palette_key} palette "
        if self.app.ENABLE_COMMAND_PALETTE and line.cell_len + len(palette) <= self.size.width:
            line.append(palette, style=description_style)
        self.update(line)

    def on_resize(self) -> None:
        self.show_keys()


def _width(item: tuple[str, str, bool]) -> int:
    key, description, _ = item
    return len(key) + len(description) + 3
