"""``readtrack practice NAME --notebook``: the exercise as a Jupyter notebook.

The cells: the statement (and the hints, folded) as Markdown; a cell bringing ``model.py``'s names into the
notebook (torch, its helpers); one cell per exercise with its stub to fill in; a cell that grades them with
``readtrack.practice.check`` (in the kernel's process) and one that trains with them.

Written as nbformat 4 JSON with the standard library: the format is a small, stable JSON document, and
``nbformat`` would bring jsonschema and traitlets into readtrack's dependencies for writing it.
"""

from __future__ import annotations

import html
import json
import os
import textwrap
from pathlib import Path
from typing import Any

from readtrack.base import pyast
from readtrack.base.atomic import atomic_write
from readtrack.base.words import plural
from readtrack.practice.workspace import Workspace, find_function, stub_source


def notebook_path(workspace: Workspace) -> Path:
    return workspace.path.with_name(f"{workspace.plugin.name}.ipynb")


def write_notebook(workspace: Workspace, *, reset: bool = False) -> Path:
    """Write the notebook beside the workspace's ``model.py`` (never over the learner's: an existing one is
    kept, or with ``reset`` moved to ``NAME.ipynb.N``); returns its path."""
    path = notebook_path(workspace)
    if path.exists() and not reset:
        return path
    if path.exists():
        n = 1
        while path.with_name(f"{path.name}.{n}").exists():
            n += 1
        os.replace(path, path.with_name(f"{path.name}.{n}"))
    atomic_write(path, json.dumps(notebook(workspace), indent=1, ensure_ascii=False) + "\n")
    return path


def notebook(workspace: Workspace) -> dict[str, Any]:
    plugin = workspace.plugin
    name = plugin.name
    cells = [_markdown(_statement(workspace))]
    cells.append(
        _code(
            "from readtrack import practice\n\n"
            "# model.py's names (torch, its helpers), as the functions below find them in the plugin\n"
            f"globals().update(practice.model_namespace({name!r}))"
        )
    )
    stubbed = stub_source(plugin)
    tree = pyast.parse(stubbed)
    lines = stubbed.splitlines()
    for exercise in plugin.exercises:
        node = find_function(tree, exercise.target)
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        assert node.end_lineno is not None
        source = textwrap.dedent("\n".join(lines[first - 1 : node.end_lineno]))
        cells.append(_code(f"# {exercise.target}: replace the raise with your code\n{source}"))
    solution = ", ".join(f"{e.target!r}: {e.target.rsplit('.', 1)[-1]}" for e in plugin.exercises)
    cells.append(
        _markdown("Grade it: the plugin's check stage, with your code in place of the model solution.")
    )
    cells.append(_code(f"result = practice.check({name!r}, {{{solution}}})\nresult"))
    cells.append(_markdown("When the checks pass: train with your code. Is the paper's claim reproduced?"))
    cells.append(
        _code(f"trained = practice.check({name!r}, {{{solution}}}, train=True, quick=True)\ntrained")
    )
    for n, cell in enumerate(cells):
        cell["id"] = f"practice-{n}"  # nbformat 4.5: unique within the notebook
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _statement(workspace: Workspace) -> str:
    plugin = workspace.plugin
    parts = [f"# Practice: {plugin.title}", f"Implement the core of `{plugin.name}` yourself."]
    for exercise in plugin.exercises:
        size = f" (roughly {plural(exercise.lines, 'line')})" if exercise.lines else ""
        parts += [f"## `{exercise.target}`{size}", _as_markdown(exercise.statement)]
        for n, hint in enumerate(exercise.hints, 1):
            parts.append(f"<details><summary>Hint {n}</summary>\n\n{html.escape(hint)}\n\n</details>")
    return "\n\n".join(parts)


def _as_markdown(statement: str) -> str:
    """Paragraphs as text; indented lines (equations laid out by hand) as a code block, so they keep it."""
    blocks = []
    for block in statement.split("\n\n"):
        indented = all(line.startswith("    ") for line in block.splitlines() if line.strip())
        blocks.append(f"```\n{textwrap.dedent(block)}\n```" if indented else block)
    return "\n\n".join(blocks)


def _lines(text: str) -> list[str]:
    """Notebook JSON keeps a cell's source as lines, each but the last ending in a newline."""
    return text.splitlines(keepends=True)


def _markdown(text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": _lines(text)}


def _code(text: str) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": _lines(text),
    }
