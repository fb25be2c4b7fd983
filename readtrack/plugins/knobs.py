"""A plugin's knobs: the numbers and switches of its experiment a reader may turn (issue 55).

A plugin declares them in ``config.py`` beside ``experiment.py``, as one frozen dataclass named ``Config``
whose fields are made by `knob`::

    @dataclass(frozen=True)
    class Config:
        norm: str = knob("rms", choices=("rms", "layer", "none"), help="the normalisation", paper="rms")
        steps: int = knob(300, quick=100, low=1, high=100_000, help="Adam steps per network")
        lr: float = knob(3e-3, low=1e-6, high=10.0, help="Adam's learning rate", paper="1e-3")

Each knob has a type (the field's: ``int``, ``float``, ``str`` or ``bool``), a full-run default and a quick
one, an allowed range (``low``/``high``, inclusive; an int knob may also ask for a ``multiple_of``, as a
model width its attention heads must divide) or ``choices``, one line saying what it means, and what
the paper used. The experiment reads its settings with ``cfg = ctx.config(Config)``: the defaults of the
run's size with the reader's ``--set KEY=VALUE`` applied, so no number that matters stays a bare literal.

``config.py`` imports neither torch nor the plugin's other modules: ``readtrack knobs NAME`` and the
validation of ``--set`` run before torch is imported (an invalid knob is answered at once, exit 2).

A ``config.py`` that does not import, a ``Config`` that is not a frozen dataclass of knobs, or a knob whose
default ``--set`` would refuse (`knobs_of` checks both defaults as `Knob.parse` checks a value) is a
`PluginError` of one line naming the file and line (`config_class`), for ``readtrack knobs``, ``run --set``,
the listing of outside plugins (`readtrack.plugins.discovery.code_problem`) and the TUI's Knobs panel.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import importlib.util
import math
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from readtrack.base import pyast
from readtrack.base.errors import PluginError, UsageError, located, one_line

#: The types a knob may have; ``--set`` parses its text as one of them.
KNOB_TYPES: dict[str, type] = {"int": int, "float": float, "str": str, "bool": bool}
_SAME = object()  # quick=: the quick run uses the full run's default
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


@dataclass(frozen=True)
class Knob:
    """One knob, as ``readtrack knobs`` shows it."""

    name: str
    type: str  # int | float | str | bool
    full: Any  # the full run's default
    quick: Any  # the quick run's default
    help: str
    paper: str = ""  # what the paper used, in words ("1e-3", "6 layers", "not stated")
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    multiple_of: int | None = None  # int knobs: allowed values are multiples of it (a width its heads divide)
    #: what special values mean, as (value, words) pairs: ``((0.0, "each arm its best rate"),)``
    means: tuple[tuple[Any, str], ...] = ()
    #: the arm whose method this switch swaps (rmsnorm's ``norm``: "RMSNorm"), as the plugin's numbers name
    #: it: a value off the default runs ``means``' method in its place, which tables and pictures then name
    #: (`readtrack.render.what_ran`)
    arm: str = ""

    def meaning(self, value: Any) -> str | None:
        """What ``value`` stands for, as ``means=`` says (a bool is no number); None for a plain value."""
        same = (w for v, w in self.means if v == value and isinstance(v, bool) == isinstance(value, bool))
        return next(same, None)

    def shown(self, value: Any) -> str:
        """``value`` as a reader reads it: ``--set``'s text, with what it means when the knob says (``0.0
        (each its best of 3e-3, 1e-2)``)."""
        words = self.meaning(value)
        return value_text(value) + (f" ({words})" if words else "")

    def default(self, quick: bool) -> Any:
        return self.quick if quick else self.full

    def allowed(self) -> str:
        """The allowed values in words: ``one of rms, layer, none``, ``1 to 100000``, ``≥ 0``, ``any``."""
        if self.choices:
            return "one of " + ", ".join(_text(c) for c in self.choices)
        if self.type == "bool":
            return "true or false"
        if self.multiple_of is not None:
            plain = dataclasses.replace(self, multiple_of=None).allowed()
            return f"a multiple of {self.multiple_of}" + ("" if plain.startswith("any") else f", {plain}")
        if self.low is not None and self.high is not None:
            return f"{_text(self.low)} to {_text(self.high)}"
        if self.low is not None:
            return f"≥ {_text(self.low)}"
        if self.high is not None:
            return f"≤ {_text(self.high)}"
        return "any " + {"int": "integer", "float": "number", "str": "text"}[self.type]

    def parse(self, text: str) -> Any:
        """``text`` as this knob's value; a `UsageError` naming what is allowed when it is not one."""
        where = f"--set {self.name}={text}"
        value: Any
        try:
            if self.type == "bool":
                if text.strip().lower() not in _TRUE + _FALSE:
                    raise ValueError
                value = text.strip().lower() in _TRUE
            elif self.type == "int":
                value = int(text.strip().replace("_", ""))
            elif self.type == "float":
                value = float(text.strip().replace("_", ""))
                if not math.isfinite(value):
                    raise ValueError
            else:
                value = text
        except ValueError:
            kind = "" if self.type == "bool" else f"{_a(self.type)}, "
            raise UsageError(f"{where}: {self.name} is {kind}{self.allowed()}") from None
        if self.choices and value not in self.choices:
            raise UsageError(f"{where}: {self.name} is {self.allowed()}")
        too_low = self.low is not None and value < self.low
        too_high = self.high is not None and value > self.high
        if not self.choices and (too_low or too_high):
            raise UsageError(f"{where}: out of range, {self.name} is {self.allowed()}")
        if self.multiple_of is not None and value % self.multiple_of:
            raise UsageError(f"{where}: {self.name} is {self.allowed()}")
        return value

    def to_dict(self) -> dict[str, Any]:
        found = {**dataclasses.asdict(self), "choices": list(self.choices), "allowed": self.allowed()}
        return found | {"means": [{"value": v, "means": w} for v, w in self.means]}


def knob(
    full: Any,
    *,
    quick: Any = _SAME,
    help: str,
    paper: str = "",
    low: float | None = None,
    high: float | None = None,
    choices: Sequence[Any] = (),
    multiple_of: int | None = None,
    means: Mapping[Any, str] | None = None,
    arm: str = "",
) -> Any:
    """A field of a plugin's ``Config``: its full-run default, the quick one when it differs, and what it
    means (see the module docstring); ``means`` says what special values stand for (``{0.0: "each its best
    of 3e-3, 1e-2"}``), shown beside the value wherever readtrack shows one. An ablation switch names the
    ``arm`` whose method its values swap (``arm="RMSNorm"``, ``means={"layer": "LayerNorm"}``): a run with
    another value is named by what ran in that arm's place."""
    meta = {"quick": full if quick is _SAME else quick, "help": help, "paper": paper}
    meta |= {"low": low, "high": high, "choices": tuple(choices), "multiple_of": multiple_of}
    meta |= {"means": tuple((means or {}).items()), "arm": arm}
    return dataclasses.field(default=full, metadata={"readtrack.knob": meta})


class KnobError(TypeError):
    """A field of a ``Config`` that is not a valid knob; ``field`` is its name."""

    def __init__(self, config: type, field: str, message: str) -> None:
        super().__init__(f"{config.__qualname__}.{field}{message}")
        self.field = field


def knobs_of(config: type) -> list[Knob]:
    """The knobs of a ``Config`` dataclass, in declaration order; a TypeError naming the field when one is not
    a knob of a knob's type, or its default is not a value ``--set`` would accept."""
    hints = typing.get_type_hints(config)
    found = []
    for f in dataclasses.fields(config):
        meta = f.metadata.get("readtrack.knob")
        if meta is None:
            raise KnobError(config, f.name, " is not a knob(...)")
        kind = next((name for name, t in KNOB_TYPES.items() if hints[f.name] is t), None)
        if kind is None:
            raise KnobError(config, f.name, ": a knob is int, float, str or bool")
        if meta["multiple_of"] is not None and (kind != "int" or meta["choices"] or meta["multiple_of"] < 1):
            raise KnobError(config, f.name, ": multiple_of= is for int knobs without choices")
        found.append(Knob(f.name, kind, f.default, meta["quick"], meta["help"], meta["paper"],
                          meta["low"], meta["high"], meta["choices"], meta["multiple_of"],
                          meta.get("means", ()), meta.get("arm", "")))  # fmt: skip
        for size in ("full", "quick"):
            problem = _invalid(found[-1], getattr(found[-1], size))
            if problem:
                raise KnobError(config, f.name, f": its {size} default {problem}")
        for value, _ in found[-1].means:
            problem = _invalid(found[-1], value)
            if problem:
                raise KnobError(config, f.name, f": means= {problem}")
    return found


def _of_type(value: object, kind: str) -> bool:
    """Whether ``value`` is of the knob type ``kind`` (an int is a float too; a bool is no number)."""
    wanted = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}[kind]
    return isinstance(value, wanted) and (kind == "bool" or not isinstance(value, bool))


def _invalid(knob: Knob, value: Any) -> str | None:
    """Why ``value`` cannot be ``knob``'s (a default, say), None when it can, judged as `Knob.parse` does."""
    if not _of_type(value, knob.type):
        return f"{value!r} is not {_a(knob.type) if knob.type != 'bool' else 'true or false'}"
    if knob.type == "float" and not math.isfinite(value):
        return f"{value!r} is not a finite number"
    if knob.choices and value not in knob.choices:
        return f"{_text(value)} is not {knob.allowed()}"
    too_low = knob.low is not None and value < knob.low
    too_high = knob.high is not None and value > knob.high
    if not knob.choices and (too_low or too_high):
        return f"{_text(value)} is out of range ({knob.allowed()})"
    if knob.multiple_of is not None and value % knob.multiple_of:
        return f"{_text(value)} is not {knob.allowed()}"
    return None


def config_class(package: str) -> type | None:
    """The ``Config`` dataclass of the plugin package ``package`` (its ``config.py``), None without one.
    Imports only that module (torch-free by rule, checked by the tests). A ``config.py`` that does not import,
    or whose ``Config`` is not a frozen dataclass of valid knobs, is a `PluginError` of one line naming the
    file and line: ``/home/me/swish/config.py:12: NameError: name 'knb' is not defined``."""
    try:
        found = importlib.util.find_spec(f"{package}.config")
    except (ImportError, ValueError):
        return None
    if found is None:
        return None
    path = found.origin or f"{package}/config.py"
    try:
        module = importlib.import_module(f"{package}.config")
    except (Exception, SystemExit) as err:  # the plugin's folder: an error in a module config.py imports too
        raise PluginError(located(err, Path(path).parent) or f"{path}: {one_line(err)}") from None
    config = getattr(module, "Config", None)
    if not isinstance(config, type):
        raise PluginError(f"{path}:1: no class Config (a frozen dataclass of knob(...) fields)")
    line = _line(path, "Config")
    params = getattr(config, "__dataclass_params__", None)
    if not dataclasses.is_dataclass(config) or params is None or not params.frozen:
        raise PluginError(f"{path}:{line}: Config is not a frozen dataclass: write @dataclass(frozen=True)")
    try:
        knobs_of(config)
    except (Exception, SystemExit) as err:
        line = _line(path, "Config", getattr(err, "field", None))
        raise PluginError(f"{path}:{line}: {err if isinstance(err, KnobError) else one_line(err)}") from None
    return config


def _line(path: str, cls: str, field: str | None = None) -> int:
    """The line of class ``cls`` (or of its ``field``) in the file ``path``; 1 when it cannot be found."""
    import ast

    try:
        tree = pyast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return 1
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for item in node.body if field else ():
                target = getattr(item, "target", None)
                if isinstance(item, ast.AnnAssign) and isinstance(target, ast.Name) and target.id == field:
                    return item.lineno
            return node.lineno
    return 1


def builtin_package(name: str) -> str | None:
    """The package of the built-in plugin ``name`` when there is one (found, not imported): discovery picks
    a built-in first, so ``--set`` is checked without importing every plugin's declaration."""
    from readtrack.plugins.folders import BUILTIN_PACKAGE

    package = f"{BUILTIN_PACKAGE}.{name.replace('-', '_')}"
    try:
        found = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    return package if found is not None else None


#: Knobs renamed, former name → today's. ``seeds`` once also named, in 18 plugins, the initialisations
#: averaged inside one run, beside the run's own seeds (``--seeds``); that knob is ``inits`` now (issue 84).
#: ``--set seeds=3`` on such a plugin says so instead of guessing at a close name.
RENAMED = {"seeds": "inits", "parity_seeds": "parity_inits"}


def parse_settings(config: type | None, pairs: Sequence[str], plugin: str) -> dict[str, list[Any]]:
    """``--set KEY=VALUE[,VALUE...]`` texts as {knob: [values]}, each value checked (exit 2 naming the
    allowed range, or the closest knob names for an unknown one). A knob set twice is an error."""
    if pairs and config is None:
        raise UsageError(f"--set: {plugin} declares no knobs (no config.py)")
    knobs = {k.name: k for k in knobs_of(config)} if config is not None else {}
    settings: dict[str, list[Any]] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--set {pair}: give KEY=VALUE (`readtrack knobs {plugin}` lists the knobs)")
        if key not in knobs and RENAMED.get(key) in knobs:
            new = RENAMED[key]
            raise UsageError(
                f"--set {pair}: {plugin}'s knob {key!r} is now {new!r} ({knobs[new].help}; a run's own seeds "
                f"are --seeds); did you mean --set {new}={text}?"
            )
        if key not in knobs:
            close = difflib.get_close_matches(key, list(knobs), n=3, cutoff=0.5)
            hint = f"did you mean {' or '.join(close)}?" if close else f"{plugin}'s knobs: {', '.join(knobs)}"
            raise UsageError(f"--set {pair}: {plugin} has no knob {key!r}; {hint}")
        if key in settings:
            raise UsageError(f"--set {key}: set twice (give several values as {key}=A,B,C)")
        values = [knobs[key].parse(t) for t in _values(text, knobs[key])]
        if len(set(map(repr, values))) != len(values):
            raise UsageError(f"--set {pair}: a value is given twice")
        settings[key] = values
    return settings


def _values(text: str, knob: Knob) -> list[str]:
    """A comma-separated list of values; text knobs with a comma in a choice are taken whole."""
    if knob.type == "str" and any("," in str(c) for c in knob.choices):
        return [text]
    parts = text.split(",")
    if any(not p.strip() for p in parts):
        raise UsageError(f"--set {knob.name}={text}: an empty value")
    return parts


def checked(plugin: str, package: str, quick: bool, settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` (one value a knob) checked against the plugin's knobs as ``--set`` would check their
    text (a `UsageError` for an unknown knob or a value out of range), less those equal to the defaults."""
    if not settings:
        return {}
    config = config_class(package)
    pairs = [f"{key}={value_text(value)}" for key, value in settings.items()]
    parsed = parse_settings(config, pairs, plugin)
    return off_default(config, quick, {key: values[0] for key, values in parsed.items()})


def defaults(config: type, quick: bool) -> dict[str, Any]:
    """Each knob's default for the run size (quick or full)."""
    return {k.name: k.default(quick) for k in knobs_of(config)}


def resolve(config: type, quick: bool, settings: Mapping[str, Any]) -> Any:
    """The ``Config`` of a run: each knob's default for its size, then ``settings`` (already checked)."""
    return config(**{**defaults(config, quick), **settings})


def off_default(config: type | None, quick: bool, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings that differ from the run size's defaults (what a run's record keeps)."""
    if config is None:
        return dict(settings)
    default = defaults(config, quick)
    return {key: value for key, value in settings.items() if default.get(key, _SAME) != value}


def settings_label(settings: Mapping[str, Any]) -> str:
    """``lr=0.01 steps=200``: a run's settings in one line (empty for the defaults)."""
    return " ".join(f"{key}={value_text(value)}" for key, value in settings.items())


def setting_name(settings: Mapping[str, Any]) -> str:
    """A run's setting as every face names it: `settings_label`, or ``defaults`` when no knob was turned."""
    return settings_label(settings) or "defaults"


def value_text(value: Any) -> str:
    """A knob's value as ``--set`` takes it (floats in full: ``repr``, so that parsing it back is exact)."""
    if isinstance(value, float):
        return repr(value)
    return _text(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _a(kind: str) -> str:
    return {"int": "an integer", "float": "a number", "str": "text"}[kind]
