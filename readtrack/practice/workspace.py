"""The learner's workspace: a copy of the plugin's ``model.py`` with each exercise's body cut out.

The body of every exercise target (a function, or a method of a class) is replaced, by its line range in the
syntax tree, with a docstring carrying the statement and ``raise NotImplementedError``; the signature, the
decorators and everything else in the file stay as the plugin wrote them. The learner's work is never
overwritten: ``reset`` keeps it as ``model.py.1`` (then ``.2`` ...).
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

from readtrack.base import pyast
from readtrack.base.atomic import atomic_write
from readtrack.base.errors import UsageError
from readtrack.plugins.declaration import Exercise
from readtrack.practice.declared import PracticePlugin

#: What the stub raises: the check's feedback starts with it, and a test looks for it.
NOT_IMPLEMENTED = "not implemented yet"


@dataclass(frozen=True)
class Workspace:
    """Where the learner's ``model.py`` is, and whether this call created it (or kept a backup)."""

    plugin: PracticePlugin
    path: Path
    created: bool
    backup: Path | None = None


def workspace_file(plugin: PracticePlugin, folder: Path | None = None) -> Path:
    """Where the learner's ``model.py`` is (or will be): ``folder`` or ``<data dir>/practice/NAME``."""
    from readtrack.base.paths import data_dir

    return (folder or data_dir() / "practice" / plugin.name) / "model.py"


def open_workspace(plugin: PracticePlugin, folder: Path | None = None, *, reset: bool = False) -> Workspace:
    """The learner's ``model.py`` for ``plugin``, written from the stub when there is none (or on ``reset``,
    after moving the old one to the next free ``model.py.N``)."""
    path = workspace_file(plugin, folder)
    backup = None
    if path.exists() and not reset:
        return Workspace(plugin, path, created=False)
    stub = stub_source(plugin)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        backup = _next_backup(path)
        os.replace(path, backup)
    atomic_write(path, stub)
    return Workspace(plugin, path, created=True, backup=backup)


def _next_backup(path: Path) -> Path:
    n = 1
    while path.with_name(f"{path.name}.{n}").exists():
        n += 1
    return path.with_name(f"{path.name}.{n}")


# -- the stub ------------------------------------------------------------------------------------------
def stub_source(plugin: PracticePlugin) -> str:
    """The plugin's ``model.py`` with every exercise body replaced (see the module docstring)."""
    source = plugin.model_file.read_text(encoding="utf-8")
    return stubbed(source, plugin.name, plugin.exercises, str(plugin.model_file))


def stubbed(
    source: str, plugin_name: str, exercises: tuple[Exercise, ...], filename: str = "model.py"
) -> str:
    lines = source.splitlines(keepends=True)
    tree = pyast.parse(source, filename)
    foreign = [e for e in exercises if e.module]
    # Bottom-up, so that earlier line numbers stay valid while later bodies are replaced.
    found = [(find_function(tree, e.target, filename), e) for e in exercises if not e.module]
    for node, exercise in sorted(found, key=lambda pair: -pair[0].lineno):
        first, last = node.body[0], node.body[-1]
        if first.lineno == node.lineno:
            raise UsageError(f"{filename}:{node.lineno}: {exercise.target} is on one line; give it a body")
        assert last.end_lineno is not None
        indent = " " * first.col_offset
        body = _stub_body(plugin_name, exercise, ast.get_docstring(node), indent)
        lines[first.lineno - 1 : last.end_lineno] = [body]
    text = "".join(lines)
    for exercise in foreign:
        text = text.rstrip("\n") + "\n\n\n" + _foreign_stub(plugin_name, exercise, tree)
    return text


def _foreign_stub(plugin_name: str, exercise: Exercise, model: ast.Module) -> str:
    """The stub of a function that lives in ``exercise.module``, to append to ``model.py``: a comment saying
    where it comes from, an import of the names it uses there that ``model.py`` lacks, the stubbed ``def``.
    Defined at the end of ``model.py``, it takes the place of the name the file imported."""
    import importlib.util

    spec = importlib.util.find_spec(exercise.module)
    if spec is None or spec.origin is None or exercise.target.count("."):
        raise UsageError(f"exercise {exercise.target}: no function of that name in module {exercise.module}")
    source = Path(spec.origin).read_text(encoding="utf-8")
    tree = pyast.parse(source, spec.origin)
    node = find_function(tree, exercise.target, spec.origin)
    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    text = "".join(source.splitlines(keepends=True)[start - 1 : node.end_lineno])
    local = dataclasses.replace(exercise, module="")
    used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} - {exercise.target}
    needed = sorted(used & _top_level_names(tree) - _top_level_names(model))
    head = [
        f"# -- exercise {exercise.target}: a copy of {exercise.module}.{exercise.target}, "
        "which the plugin uses.",
        "# While your code is graded, yours stands in for it there: the check and the plugin call yours.",
    ]
    if needed:
        head.append(f"from {exercise.module} import {', '.join(needed)}")
    return "\n".join(head) + "\n\n\n" + stubbed(text, plugin_name, (local,), spec.origin)


def _top_level_names(tree: ast.Module) -> set[str]:
    """The names a module binds at its top level: functions, classes, assignments, imports."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def find_function(tree: ast.Module, target: str, filename: str = "model.py") -> ast.FunctionDef:
    """The ``def`` of ``function`` or ``Class.method`` at the top level of ``tree``."""
    *owner, name = target.split(".")
    scope: list[ast.stmt] = tree.body
    if owner:
        classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == owner[0]]
        if not classes:
            raise UsageError(f"{filename}: no class {owner[0]} for the exercise {target}")
        scope = classes[0].body
    for node in scope:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    raise UsageError(f"{filename}: no function {target} for the exercise")


def _stub_body(plugin_name: str, exercise: Exercise, docstring: str | None, indent: str) -> str:
    parts = [f"Exercise ({plugin_name}): write this {'method' if '.' in exercise.target else 'function'}."]
    parts += [docstring.strip()] if docstring else []
    parts.append(exercise.statement.strip())
    if exercise.lines:
        parts.append(f"Roughly {exercise.lines} lines.")
    if exercise.hints:
        parts.append(f"Hints, one at a time: readtrack practice {plugin_name} --hint 1")
    text = "\n\n".join(parts).replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    doc = "\n".join((indent + line) if line.strip() else "" for line in text.splitlines())
    message = (
        f"{exercise.target}: {NOT_IMPLEMENTED} (the {plugin_name} exercise; its docstring says what to do)"
    )
    literal = json.dumps(message, ensure_ascii=False)  # a Python string literal too, in double quotes
    return f'{indent}"""{doc.lstrip()}\n{indent}"""\n{indent}raise NotImplementedError({literal})\n'
