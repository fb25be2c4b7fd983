"""The run screen's knobs (issue 55): a plugin's ``config.py`` knobs, each with its value, its default for the
run's size, what it may be and what it means. The reader turns them here, and Enter runs with them exactly as
``readtrack run NAME --set KEY=VALUE`` would (the run screen passes them as ``--set``).

Space and → step a knob to its next choice (← to the one before; a switch flips), e types a value, checked by
the CLI's own check (`Knob.parse`): a wrong one is answered in the panel's words (``depth: 100 is out of
range (1 to 64)``, not the CLI's ``--set depth=100: …``) and changes nothing. r puts the highlighted knob
back to its default, R every knob. A knob the reader turned keeps its value when the size (quick/full)
changes and is marked ●; the others follow the size's defaults. The screen opens on the plugin's last run with
that run's knobs and size (`KnobsPanel.run_shown`), and the border says "as the run shown" while the knobs
are those of the run the result pane shows (issue 84). The knobs are read without importing torch
(``config.py`` is torch-free by rule). A plugin that is broken, or whose ``config.py`` does not load, is one
line in the panel naming the file and line (`readtrack.plugins.knobs.config_class`), the line
``readtrack knobs NAME`` prints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from readtrack.base.errors import PluginError, UsageError, one_line
from readtrack.base.safe_text import visible
from readtrack.plugins.knobs import Knob, knobs_of, value_text

TURNED = "●"  # the mark of a knob the reader turned
HINT = "space ←→ e: change · r R: reset"


class KnobList(OptionList, inherit_bindings=False):
    """The knobs, one row each: moved through with the arrows and j/k as the other lists; Enter is not bound
    here, so that it runs the plugin as everywhere on the run screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
    ]


class KnobsPanel(Vertical):
    """The knobs of the run screen's plugin and the values the reader gave them (see the module docstring).
    Hidden until `show_knobs` gives it knobs; ``locked`` (a run is going) refuses every change."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "step(1)", "Change", tooltip="The next choice (a switch flips; a number is typed)"),
        Binding("right", "step(1)", "Next", show=False),
        Binding("left", "step(-1)", "Previous", show=False),
        Binding("e", "type_value", "Type value", tooltip="Type the knob's value (checked as --set is)"),
        Binding("r", "reset", "Reset knob", tooltip="The highlighted knob back to its default"),
        Binding("R", "reset_all", "Reset all", tooltip="Every knob back to its default"),
    ]
    # The value field's keys (an Input's own), listed in help under the bindings above.
    FIELD_KEYS: ClassVar[list[tuple[str, str]]] = [
        ("Enter", "In the value field (e): set the typed value; a wrong one is refused, saying why"),
        ("↑ ↓ j k", "Move through the knobs"),
    ]

    def __init__(self, plugin: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.plugin = plugin
        self.config: type | None = None
        self.knobs: list[Knob] = []
        self.quick = True
        self.turned: dict[str, Any] = {}  # the values the reader gave: they do not follow the size
        self.locked: Callable[[], bool] = lambda: False  # the run screen's: a run is going
        self._problem: Text | None = None  # the last refused value's message, until the next move
        self.shown_settings: dict[str, Any] | None = None  # the knobs the run in the result pane turned
        self.display = False

    def compose(self) -> ComposeResult:
        yield Static(id="knobs-head")
        # the field and the note above the list: a long list fills the panel, cutting off what sits under it
        yield Input(id="knobs-input")
        yield Static(id="knobs-note")
        yield KnobList(id="knobs-list")

    def on_mount(self) -> None:
        self.border_title = "Knobs"
        self.query_one("#knobs-input").display = False
        self._load()

    @work(thread=True, exclusive=True, group="knobs")
    def _load(self) -> None:
        """The plugin's knobs, read in a worker (finding a user's plugin imports the declarations)."""
        from readtrack.plugins.discovery import plugin_config  # pluggy: not before the first paint

        try:
            config = plugin_config(self.plugin)
            found = knobs_of(config) if config is not None else []
        except UsageError:
            return  # an unknown plugin: Enter says why it does not run
        except PluginError as err:  # a broken plugin or config.py: its one line (file:line), never fatal
            self.app.call_from_thread(self._unavailable, f"knobs unavailable: {err}")
            return
        except Exception as err:  # anything else config.py does wrong: said in the panel too
            self.app.call_from_thread(self._unavailable, f"knobs unavailable: {one_line(err)}")
            return
        if config is not None and found:
            self.app.call_from_thread(self.show_knobs, config, found)

    def _unavailable(self, message: str) -> None:
        self.display = True
        self.add_class("-unavailable")  # the note may take the panel: a long path and its line, whole
        self.query_one(KnobList).display = False
        self._problem = Text(visible(message), style="red")
        self._show_note()

    # -- what the run gets ---------------------------------------------------------------------------

    def show_knobs(self, config: type, found: list[Knob]) -> None:
        """Show ``config``'s knobs (``found``) and give the screen its K."""
        self.config, self.knobs = config, found
        names = {knob.name for knob in found}  # a run's knob the plugin no longer has is not turned here
        self.turned = {name: value for name, value in self.turned.items() if name in names}
        self.display = True
        self._redraw()
        self.screen.refresh_bindings()

    def value(self, knob: Knob) -> Any:
        return self.turned.get(knob.name, knob.default(self.quick))

    def settings(self) -> dict[str, Any]:
        """The knobs the reader turned, as ``--set`` takes them (those equal to the size's default included:
        the runner leaves them out of the record, as it does for ``--set``)."""
        return {k.name: self.turned[k.name] for k in self.knobs if k.name in self.turned}

    def run_shown(self, settings: dict[str, Any], quick: bool, *, take: bool = False) -> bool:
        """The result pane shows a run that turned ``settings`` at size ``quick``: the border says when the
        knobs are that run's. With ``take`` (the screen opened on the plugin's last run), the knobs become
        that run's, unless the reader turned one already; whether they did."""
        self.shown_settings = dict(settings)
        taken = take and not self.turned and not self.locked()
        if taken:
            self.quick, self.turned = quick, dict(settings)
            self.query_one(KnobList).highlighted = None  # the first knob the run turned, in sight
        self._redraw()
        return taken

    def set_quick(self, quick: bool) -> None:
        """The run's size changed: the knobs not turned show (and take) that size's defaults."""
        self.quick = quick
        self._redraw()

    # -- turning -------------------------------------------------------------------------------------

    @property
    def highlighted(self) -> Knob | None:
        index = self.query_one(KnobList).highlighted
        return self.knobs[index] if index is not None and index < len(self.knobs) else None

    def _changeable(self) -> Knob | None:
        knob = self.highlighted
        if knob is not None and self.locked():
            self._refuse("a run is going with these settings: change them once it ends (Esc cancels it)")
            return None
        return knob

    def action_step(self, by: int) -> None:
        knob = self._changeable()
        if knob is None:
            return
        options: tuple[Any, ...] = knob.choices or ((False, True) if knob.type == "bool" else ())
        if not options:  # a number or free text: typed
            self.action_type_value()
            return
        now = self.value(knob)
        at = options.index(now) if now in options else -1
        self._set(knob, options[(at + by) % len(options)])

    def action_type_value(self) -> None:
        knob = self._changeable()
        if knob is None:
            return
        field = self.query_one("#knobs-input", Input)
        field.placeholder = f"{knob.name}: {knob.allowed()}"
        field.value = value_text(self.value(knob))
        field.display = True
        field.focus()
        field.action_select_all()
        self.call_after_refresh(self.query_one(KnobList).scroll_to_highlight)  # the field took a row

    def action_reset(self) -> None:
        knob = self._changeable()
        if knob is not None and knob.name in self.turned:
            del self.turned[knob.name]
            self._redraw()

    def action_reset_all(self) -> None:
        if self._changeable() is not None and self.turned:
            self.turned.clear()
            self._redraw()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """A typed value: the CLI's check (`Knob.parse`, what ``--set`` runs); a wrong one is answered in
        the panel's words (`refusal`) and changes nothing, the field staying open to correct it."""
        event.stop()  # Enter here sets the knob; it does not start the run
        knob = self.highlighted
        if knob is None or self.config is None:
            return
        problem = refusal(knob, event.value, self.plugin)
        if problem is not None:
            self._refuse(problem)
            return
        self.end_typing()
        self._set(knob, knob.parse(event.value))

    def end_typing(self) -> bool:
        """Close the value field, back to the list; whether it was open (Esc closes it first)."""
        field = self.query_one("#knobs-input", Input)
        if not field.display:
            return False
        field.display = False
        self.query_one(KnobList).focus()
        self._problem = None
        self._show_note()
        return True

    def on_option_list_option_highlighted(self) -> None:
        self._problem = None
        self._show_note()

    def on_option_list_option_selected(self) -> None:  # a click on a row
        self.action_step(1)

    def on_descendant_focus(self) -> None:
        self._focus_changed()

    def on_descendant_blur(self) -> None:
        self.call_after_refresh(self._focus_changed)

    def _focus_changed(self) -> None:
        """Focused, the panel shows its keys in its border, and the screen gives it more room (-knobs)."""
        if not self.is_attached:
            return
        focused = self.screen.focused
        inside = focused is not None and self in focused.ancestors
        self.border_subtitle = HINT if inside else ""
        self.screen.set_class(inside, "-knobs")

    def _set(self, knob: Knob, value: Any) -> None:
        if value == knob.default(self.quick):
            self.turned.pop(knob.name, None)  # back on the default: it follows the size again
        else:
            self.turned[knob.name] = value
        self._problem = None
        self._redraw()

    def _refuse(self, message: str) -> None:
        self._problem = Text(visible(message), style="bold red")
        self._show_note()

    # -- drawing -------------------------------------------------------------------------------------

    def _redraw(self) -> None:
        if not self.knobs:
            return
        widths = self._widths()
        head = _Row(widths, tuple(Text(t, style="dim") for t in (" ", "knob", "value", "default", "allowed")))
        head.head = True
        self.query_one("#knobs-head", Static).update(head)
        rows = self.query_one(KnobList)
        highlighted = rows.highlighted
        rows.set_options(Option(self._prompt(k, widths), id=k.name) for k in self.knobs)
        first = next((i for i, k in enumerate(self.knobs) if k.name in self.turned), 0)  # in sight
        rows.highlighted = highlighted if highlighted is not None else first
        turned = [k for k in self.knobs if k.name in self.turned]
        self.border_title = f"Knobs · {len(turned)} turned" if turned else "Knobs"
        if turned and self.settings() == self.shown_settings:  # the result pane shows a run of these
            self.border_title += ", as the run shown"
        self._show_note()

    def _widths(self) -> tuple[int, int, int]:
        names = max(len("knob"), *(len(k.name) for k in self.knobs))
        values = max(len("value"), *(len(value_text(self.value(k))) for k in self.knobs))
        defaults = max(len("default"), *(len(value_text(k.default(self.quick))) for k in self.knobs))
        return names, values, defaults

    def _prompt(self, knob: Knob, widths: tuple[int, int, int]) -> _Row:
        turned = knob.name in self.turned
        mark = Text(TURNED if turned else " ", style="bold yellow")
        value = Text(visible(value_text(self.value(knob))), style="bold yellow" if turned else "")
        default = Text(visible(value_text(knob.default(self.quick))), style="dim")
        allowed = Text(visible(knob.allowed()), style="dim")
        return _Row(widths, (mark, Text(knob.name), value, default, allowed))

    def _show_note(self) -> None:
        """Over the list: the highlighted knob's meaning (and the paper's value), or the refused value's
        message."""
        knob = self.highlighted
        note = self._problem
        if note is None and knob is not None:
            note = Text(f"{knob.name}: ", style="bold")
            note.append(visible(knob.help))
            if knob.paper:
                note.append(f" (paper: {visible(knob.paper)})", style="dim")
            for value, words in knob.means:  # what a special value stands for: "0.0: each its best of ..."
                note.append(visible(f"; {value_text(value)}: {words}"))
        self.query_one("#knobs-note", Static).update(note or "")


def refusal(knob: Knob, text: str, plugin: str) -> str | None:
    """Why the panel refuses ``text`` as ``knob``'s value, in the panel's words (``depth: 100 is out of
    range (1 to 64)``: the knob's name and its "allowed" column, not the ``--set depth=100`` the CLI
    quotes), or None for a value it takes. The check is the CLI's own (`Knob.parse`); only the words are
    the panel's."""
    value = text.strip()
    if not value:
        return f"{knob.name}: type a value ({knob.allowed()})"
    if "," in value and not any("," in str(c) for c in knob.choices):
        return (
            f"{knob.name}: one value here (several are a sweep: readtrack run {plugin} --set {knob.name}=A,B)"
        )
    try:
        knob.parse(text)
    except UsageError:
        return f"{knob.name}: {_why(knob, value)}"
    return None


def _why(knob: Knob, value: str) -> str:
    """What is wrong with ``value`` (one `Knob.parse` refused) for ``knob``: not a number, not a choice, out
    of its range, not a multiple."""
    if knob.choices:
        return f"{value!r} is not {knob.allowed()}"
    if knob.type == "bool":
        return f"{value!r} is not true or false (yes, no, on, off, 1, 0 too)"
    if knob.type in ("int", "float"):
        try:
            number = float(value.replace("_", "")) if knob.type == "float" else int(value.replace("_", ""))
        except ValueError:
            kind = "a whole number" if knob.type == "int" else "a number"
            return f"{value!r} is not {kind} ({knob.allowed()})"
        if (knob.low is not None and number < knob.low) or (knob.high is not None and number > knob.high):
            return f"{value} is out of range ({knob.allowed()})"
        if knob.multiple_of is not None and number % knob.multiple_of:
            return f"{value} is not a multiple of {knob.multiple_of}"
    return f"{value!r} is not allowed ({knob.allowed()})"


class _Row:
    """One line of the knobs' columns (the head or a knob): mark, name, value and default in columns, then
    what is allowed, which goes on a line of its own, under the value, when the panel is too narrow."""

    def __init__(self, widths: tuple[int, int, int], cells: tuple[Text, ...]) -> None:
        self.widths, self.cells = widths, cells
        self.head = False  # the columns' names: its "allowed" is left out when it does not fit

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        mark, name, value, default, allowed = self.cells
        line = Text.assemble(mark, " ", name, " " * (self.widths[0] - name.cell_len + 1))
        indent = line.cell_len
        line.append_text(value)
        line.append(" " * (max(self.widths[1] - value.cell_len, 0) + 1))
        line.append_text(default)
        line.append(" " * (max(self.widths[2] - default.cell_len, 0) + 1))
        if line.cell_len + allowed.cell_len <= options.max_width:
            yield line + allowed
        else:
            yield line
            yield from [] if self.head else [Text(" " * indent) + allowed]
