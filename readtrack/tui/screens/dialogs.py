"""The small screens over the main one: help, a one-line prompt, the notes editor, the bad-catalog screen."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, OptionList, Static

from readtrack.base.safe_text import visible
from readtrack.tui.widgets.key_bar import KeyBar


def key_label(key: str) -> str:
    """How a binding's key reads in help: ``space`` → ``Space``, ``question_mark`` → ``?``."""
    names = {
        "question_mark": "?",
        "slash": "/",
        "minus": "-",
        "space": "Space",
        "enter": "Enter",
        "escape": "Esc",
        "ctrl+p": "Ctrl+P",
        "ctrl+s": "Ctrl+S",
        "tab": "Tab",
        "left": "←",
        "right": "→",
        "up": "↑",
        "down": "↓",
        "pageup": "PgUp",
        "pagedown": "PgDn",
        "home": "Home",
        "end": "End",
    }
    return " / ".join(names.get(k.strip(), k.strip()) for k in key.split(","))


def binding_help(bindings: Sequence[BindingType]) -> list[tuple[str, str]]:
    """(keys, what they do) of each binding, for the help screen: its tooltip, else its description."""
    rows = []
    for binding in bindings:
        assert isinstance(binding, Binding)
        rows.append((key_label(binding.key), binding.tooltip or binding.description))
    return rows


#: A help section: its title and its (keys, what they do) rows.
HelpSection = tuple[str, list[tuple[str, str]]]


def screen_help(screen: Screen[Any]) -> list[HelpSection]:
    """The keys of ``screen`` for the help screen: its ``help_sections()`` when it has them (the run screen
    adds its knobs panel's, the paper view its tabs'), else its own BINDINGS under its ``HELP_TITLE``. Built
    from the bindings, so help cannot drift from what the keys do."""
    sections = getattr(screen, "help_sections", None)
    if callable(sections):
        return list(sections())
    title = getattr(screen, "HELP_TITLE", "This screen")
    return [(title, [*binding_help(type(screen).BINDINGS), *getattr(screen, "MOVE_KEYS", [])])]


def _key_table(rows: Iterable[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for key, description in rows:
        table.add_row(key, description)
    return table


class HelpScreen(ModalScreen[None]):
    """The keys of the screen under it: ``keys`` (the main screen's), then ``sections`` (a title and its
    keys: the paper view's tabs, the run screen's knobs panel), built from the bindings (`screen_help`), so
    it cannot drift."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def __init__(
        self,
        keys: Iterable[tuple[str, str]],
        sections: Iterable[tuple[str, Iterable[tuple[str, str]]]] = (),
        title: str = "readtrack keys",
        hint: str = "Esc closes.",
    ) -> None:
        super().__init__()
        self.keys = list(keys)
        self.sections = [(name, list(rows)) for name, rows in sections]
        self.title_text, self.hint = title, hint

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Text(self.title_text, style="bold"), id="help-title")
            if self.keys:
                yield Static(_key_table(self.keys))
            for title, rows in self.sections:
                yield Static(Text(title, style="bold"), classes="help-section")
                yield Static(_key_table(rows))
            yield Static(self.hint, classes="hint")


class PromptScreen(ModalScreen[str | None]):
    """A one-line question; dismisses with the text on Enter, None on Escape. ``hint`` (under the field)
    says how to fill it; the question and the hint wrap, so a narrow terminal shows every word."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    HELP_TITLE = "A question (Enter confirms what you typed)"

    def __init__(self, question: str, value: str = "", placeholder: str = "", hint: str = "") -> None:
        super().__init__()
        self.question = question
        self.value = value
        self.placeholder = placeholder
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Static(Text(self.question), classes="question")
            yield Input(self.value, placeholder=self.placeholder, id="prompt-input")
            keys = "Enter to confirm, Esc to cancel"
            yield Static(Text(f"{self.hint} · {keys}" if self.hint else keys), classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceScreen(ModalScreen[str | None]):
    """Pick one of a few options (a paper's plugins); dismisses with it on Enter, None on Escape."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        # a modal screen stops the app's own `?` (Textual), so it has the key itself
        Binding("question_mark", "app.keys_help", "Help", show=False, tooltip="These keys"),
    ]
    HELP_TITLE = "A choice"
    MOVE_KEYS: ClassVar[list[tuple[str, str]]] = [("↑ ↓", "Move to an answer"), ("Enter", "Choose it")]

    def __init__(self, question: str, options: list[str]) -> None:
        super().__init__()
        self.question, self.options = question, options

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Static(Text(self.question), classes="question")  # wraps: a long question stays whole
            yield OptionList(*self.options, id="choice-list")
            yield Static("Enter to choose, Esc to cancel", classes="hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.options[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class NotesScreen(ModalScreen[str | None]):
    """Edit a paper's notes. Ctrl+S dismisses with the text (the app saves it); Esc closes, first asking
    save, discard or keep editing when the text differs from ``saved`` (the notes in the file). Quitting the
    app (Ctrl+Q) asks the same; ``quit_after`` is then set, for the app to quit once the notes are saved."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"),
        Binding("escape", "leave", "Close"),
    ]
    HELP_TITLE = "The notes editor"
    SAVE, DISCARD, KEEP = "Save them", "Discard the changes", "Keep editing"
    SAVE_QUIT, DISCARD_QUIT = "Save them and quit", "Quit without saving them"

    def __init__(self, paper_title: str, notes: str, saved: str | None = None) -> None:
        super().__init__()
        self.paper_title = paper_title
        self.notes = notes
        self.saved = notes if saved is None else saved
        self.quit_after = False

    def compose(self) -> ComposeResult:
        from textual.widgets import TextArea  # here, not at the top: it is most of this module's import

        with Vertical(id="notes-box"):
            yield Static(Text(f"Notes: {visible(self.paper_title)}", style="bold"), classes="question")
            yield TextArea(self.notes, id="notes-text", soft_wrap=True, show_line_numbers=False)
            yield Static(
                "Ctrl+S saves and closes · Esc closes, asking first if you changed the text · "
                "empty notes are removed",
                classes="hint",
            )

    def _text(self) -> str:
        """The editor's text; the notes it opens with while it is not yet composed (Ctrl+Q or Ctrl+S in the
        moment after a failed save pushes it again)."""
        from textual.css.query import NoMatches
        from textual.widgets import TextArea

        try:
            return self.query_one(TextArea).text
        except NoMatches:
            return self.notes

    def changed(self) -> bool:
        """Whether the text differs from the notes in the file."""
        return self._text().strip() != self.saved.strip()

    def action_save(self) -> None:
        self.dismiss(self._text())

    def action_leave(self, quit_after: bool = False) -> None:
        text = self._text()
        if not self.changed():
            self.dismiss(None)
            if quit_after:
                self.app.exit()
            return
        save, discard = (self.SAVE_QUIT, self.DISCARD_QUIT) if quit_after else (self.SAVE, self.DISCARD)

        def chosen(choice: str | None) -> None:
            if choice == save:
                self.quit_after = quit_after  # the app quits once they are saved
                self.dismiss(text)
            elif choice == discard:
                self.dismiss(None)
                if quit_after:
                    self.app.exit()
            # else (Keep editing, Esc): the editor stays as it is, and so does the app

        question = "The notes changed. Save them?"
        self.app.push_screen(ChoiceScreen(question, [save, discard, self.KEEP]), chosen)


class CatalogErrorScreen(Screen[None]):
    """papers.yaml is missing or invalid: where, what, and what to do. Closes itself once the file loads."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "app.quit", "Quit")]
    HELP_TITLE = "The reading list cannot be opened"

    def __init__(self, message: str, path: str) -> None:
        super().__init__()
        self.message = message
        self.path = path

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box"):
            yield Static(Text("The reading list cannot be opened", style="bold"), id="error-title")
            yield Static(Text(self.message), id="error-message")
            yield Static(
                f"Create or fix {self.path} in your editor: this screen closes by itself once the file "
                "is valid. q quits.",
                classes="hint",
            )
        yield KeyBar()

    def show(self, message: str) -> None:
        self.message = message
        self.query_one("#error-message", Static).update(Text(message))
