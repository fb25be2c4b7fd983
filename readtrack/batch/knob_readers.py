"""Which knobs each stage of a plugin reads, from its experiments module's source (`ast`, nothing imported).

A sweep runs a stage once per setting only when the stage reads a knob the sweep turns; else it runs at the
defaults only (`readtrack.batch.sweep.sweep_of`), and a picture draws its bench once
(`readtrack.render.picture_bench`). A stage sees knobs only through ``ctx.config(Config)``, so the reading
follows that object:

- an attribute read on it (``cfg.lr``, ``ctx.config(Config).kernel``) reads that knob;
- bound to a name (``cfg = ctx.config(Config)``, ``c = cfg``), the name is followed;
- passed to a function of the same module by plain name (``model_config(cfg)``), that function's parameter
  is followed, transitively;
- anywhere else (passed to a function of another module such as a ``model.py`` constructor, ``getattr``,
  ``vars``, ``asdict``, stored in a container, returned, ``ctx.config`` taken without a call) it escapes,
  and the stage may read every knob.

A stage also reads what the module's functions, classes and assigned names it refers to read. A stage bound
otherwise (imported, assigned) cannot be read and may read every knob. The reading never under-reports:
a stage wrongly judged not to read a swept knob runs at the defaults only and the sweep's numbers are
wrong, so when in doubt it is every knob.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TypeGuard

from readtrack.base import pyast
from readtrack.plugins.declaration import STAGES

Scope = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class KnobReaders:
    """What `knob_readers` found in a plugin's experiments module: the stages it defines, of them those
    that read knobs, and, per stage of ``reading`` whose knobs could be told, the knob names it may read
    (a stage of ``reading`` not in ``names`` may read every knob)."""

    defined: tuple[str, ...]
    reading: tuple[str, ...]
    names: tuple[tuple[str, frozenset[str]], ...] = ()

    def blind(self, asked: Sequence[str]) -> tuple[str, ...]:
        """The stages of ``asked`` that the module defines and that read no knob."""
        return tuple(s for s in asked if s in self.defined and s not in self.reading)

    def knobs_of(self, stage: str) -> frozenset[str] | None:
        """The knob names ``stage`` may read; None for every knob (or a stage the module does not define:
        the runner says what is wrong with it)."""
        if stage in self.defined and stage not in self.reading:
            return frozenset()
        return dict(self.names).get(stage)

    def reads(self, stage: str, knobs: Collection[str]) -> bool:
        """Whether ``stage`` may read any of ``knobs`` (those a sweep turns)."""
        found = self.knobs_of(stage)
        return found is None or not found.isdisjoint(knobs)


#: When the module cannot be read (no source, a syntax error, a stage that is not a plain function):
#: every stage reads every knob, and the sweep runs each at every setting, as it would without this rule.
EVERY_STAGE = KnobReaders(STAGES, STAGES)


def knob_readers(source: str) -> KnobReaders:
    """The knobs each stage of the experiments module ``source`` may read (the module's docstring says
    how they are told)."""
    try:
        tree = pyast.parse(source)
    except SyntaxError:
        return EVERY_STAGE
    bound = {name: node for node in tree.body for name in _bound_names(node)}
    functions = {n: f for n, f in bound.items() if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
    defined = tuple(s for s in STAGES if s in bound)
    names: dict[str, frozenset[str]] = {}
    for stage in defined:
        found = _Reading(functions, bound).of(stage) if stage in functions else None
        if found is not None:
            names[stage] = found
    reading = tuple(s for s in defined if names.get(s, True))  # every knob (absent) or some
    return KnobReaders(defined, reading, tuple((s, names[s]) for s in reading if s in names))


class _Reading:
    """One stage's reading: the knob names read on the config object as it goes through the module."""

    def __init__(self, functions: dict[str, Scope], bound: dict[str, ast.stmt]) -> None:
        self.functions = functions
        self.bound = bound
        self.names: set[str] = set()
        self.every = False
        self.seen: set[tuple[str, str | None]] = set()

    def of(self, stage: str) -> frozenset[str] | None:
        self.visit(stage, None)
        return None if self.every else frozenset(self.names)

    def visit(self, name: str, held: str | None) -> None:
        """Read ``name`` of the module, its parameter ``held`` (if any) holding the config object."""
        if (name, held) in self.seen or self.every:
            return
        self.seen.add((name, held))
        node = self.bound[name]
        parents = {child: parent for parent in ast.walk(node) for child in ast.iter_child_nodes(parent)}
        holders = _holders(node, parents, {held} if held else set())
        local = _local_names(node)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _uses_config(node):
            self.every = True  # a class or an assigned value the config reaches cannot be followed
            return
        for found in ast.walk(node):
            if isinstance(found, ast.Name) and found.id not in local and self._followed(found.id):
                self.visit(found.id, None)  # what a function, class or value of the module it names reads
            if _is_config(found, holders):
                self.follow(found, parents)
            elif isinstance(found, ast.Attribute) and found.attr == "config" and not _called(found, parents):
                self.every = True  # ``read = ctx.config``: followed no further
            if self.every:
                return

    def _followed(self, name: str) -> bool:
        """A name of the module bound by a def, a class or an assignment (an import is read elsewhere)."""
        return name in self.bound and not isinstance(self.bound[name], (ast.Import, ast.ImportFrom))

    def follow(self, expr: ast.expr, parents: dict[ast.AST, ast.AST]) -> None:
        """Where the config object ``expr`` goes: an attribute read, a name, a module function's
        parameter, or out of sight (every knob)."""
        parent = parents.get(expr)
        if isinstance(parent, ast.Attribute) and isinstance(parent.ctx, ast.Load):
            self.names.add(parent.attr)
        elif _aliased(expr, parent) or isinstance(parent, ast.Expr):  # a name followed, or dropped
            pass
        elif isinstance(parent, (ast.Call, ast.keyword)):
            call = parents.get(parent) if isinstance(parent, ast.keyword) else parent
            target = self._parameter(call, expr) if isinstance(call, ast.Call) else None
            if target is None:
                self.every = True
            else:
                self.visit(*target)
        else:
            self.every = True

    def _parameter(self, call: ast.Call, expr: ast.expr) -> tuple[str, str] | None:
        """The module function ``call`` calls and its parameter that receives ``expr``; None when it is no
        function of the module, or the argument cannot be matched to a parameter (it comes after a starred
        argument, or beyond the parameters)."""
        if not isinstance(call.func, ast.Name) or call.func.id not in self.functions:
            return None
        args = self.functions[call.func.id].args
        positional = [*args.posonlyargs, *args.args]
        for index, arg in enumerate(call.args):
            if isinstance(arg, ast.Starred):
                break  # ``f(a, *rest, b)``: a is the first parameter, b's place depends on rest's length
            if arg is expr:
                return (call.func.id, positional[index].arg) if index < len(positional) else None
        named = {a.arg for a in (*args.args, *args.kwonlyargs)}
        for keyword in call.keywords:
            if keyword.value is expr and keyword.arg in named:
                return call.func.id, keyword.arg
        return None


def _is_config(node: ast.AST, holders: set[str]) -> TypeGuard[ast.expr]:
    """``X.config(...)``, or a name that holds it."""
    if isinstance(node, ast.Name):
        return isinstance(node.ctx, ast.Load) and node.id in holders
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "config"


def _called(attribute: ast.Attribute, parents: dict[ast.AST, ast.AST]) -> bool:
    parent = parents.get(attribute)
    return isinstance(parent, ast.Call) and parent.func is attribute


def _aliased(expr: ast.expr, parent: ast.AST | None) -> bool:
    """``cfg = expr`` (or ``cfg: Config = expr``, ``(cfg := expr)``): a name bound to it, followed."""
    if isinstance(parent, ast.Assign):
        return parent.value is expr and all(isinstance(t, ast.Name) for t in parent.targets)
    if isinstance(parent, (ast.AnnAssign, ast.NamedExpr)):
        return parent.value is expr and isinstance(parent.target, ast.Name)
    return False


def _holders(node: ast.AST, parents: dict[ast.AST, ast.AST], holders: set[str]) -> set[str]:
    """The names of ``node`` that hold the config object: ``holders`` and those bound to one of them or
    to ``X.config(...)``, transitively (wherever they are bound: a name bound once to it is followed
    everywhere)."""
    while True:
        more = set(holders)
        for found in ast.walk(node):
            parent = parents.get(found)
            if _is_config(found, more) and _aliased(found, parent):
                if isinstance(parent, ast.Assign):
                    more.update(t.id for t in parent.targets if isinstance(t, ast.Name))
                elif isinstance(parent, (ast.AnnAssign, ast.NamedExpr)) and isinstance(
                    parent.target, ast.Name
                ):
                    more.add(parent.target.id)
        if more == holders:
            return holders
        holders = more


def _local_names(node: ast.AST) -> set[str]:
    """The names a function binds in its own scope (its parameters, assignments, nested defs, imports):
    there, and in the scopes nested in it, they are not the module's (but for a ``global``)."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return set()
    args = node.args
    found = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg) if a}
    nested = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, *_COMPREHENSIONS)
    todo: list[ast.AST] = list(node.body)
    while todo:
        item = todo.pop()
        if isinstance(item, ast.Name) and not isinstance(item.ctx, ast.Load):
            found.add(item.id)
        elif isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(item.name)
        elif isinstance(item, (ast.Import, ast.ImportFrom)):
            found.update((a.asname or a.name).split(".")[0] for a in item.names)
        elif isinstance(item, ast.ExceptHandler) and item.name:
            found.add(item.name)
        if not isinstance(item, nested):  # their own names are theirs
            todo.extend(ast.iter_child_nodes(item))
    declared = {n for g in ast.walk(node) if isinstance(g, (ast.Global, ast.Nonlocal)) for n in g.names}
    return found - declared


_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _uses_config(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == "config" for n in ast.walk(node))


def _bound_names(node: ast.stmt) -> list[str]:
    """The names a module-level statement binds (a def, an import, an assignment)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names]
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return []


def plugin_knob_readers(package: str, experiments: str) -> KnobReaders:
    """`knob_readers` of a plugin's experiments module (``package.experiments``), read from its source
    without importing it (its package's ``__init__``, the plugin's declaration, is imported to find it)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(f"{package}.{experiments}")
        get_source = getattr(spec.loader, "get_source", None) if spec is not None else None
        source = get_source(spec.name) if get_source is not None else None  # type: ignore[union-attr]
    except Exception:  # a module that cannot be found or read: the runner will say why when it runs
        return EVERY_STAGE
    return knob_readers(source) if source else EVERY_STAGE
