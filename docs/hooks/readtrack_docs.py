"""mkdocs hooks of readtrack's manual (``hooks:`` in mkdocs.yml), run on every ``mkdocs build``.

- The command reference: the marker line of ``reference/commands.md`` becomes ``readtrack --help`` and every
  command's ``--help`` as the CLI prints them, run in subprocesses (``python -m readtrack``, never imported),
  so the page is the CLI's own words, never out of date. A command whose help fails stops the build.
- Files of the repository that pages link to (``../plugins/README.md``) become pages of the site, and the
  links point at them there: the same link works on GitHub and in the site; their own links into the
  manual (``../docs/writing-a-plugin.md``) lead to its pages.
- A pipe in a code span of a table cell is written ``\\|``, as GitHub's tables need; Python-Markdown's tables
  leave code spans alone and would show the backslash, so it goes.
"""

from __future__ import annotations

import os
import posixpath
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

MARKER = "<!-- commands: readtrack's own --help, put here when the site is built -->"
# A file of the repository (relative to its root) -> the page it is in the site (relative to docs/).
INCLUDED = {"plugins/README.md": "plugin-standard.md", "ARCHITECTURE.md": "architecture.md"}
COLUMNS = "100"


def on_files(files: Files, config: Any) -> Files:
    repo = Path(config.config_file_path).resolve().parent
    for source, uri in INCLUDED.items():
        text = (repo / source).read_text(encoding="utf-8")
        files.append(File.generated(config, uri, content=text))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    repo = Path(config.config_file_path).resolve().parent
    docs = Path(config.docs_dir).resolve().relative_to(repo).as_posix()
    folder = posixpath.dirname(page.file.src_uri)
    for source, uri in INCLUDED.items():
        link = posixpath.relpath(source, posixpath.join(docs, folder))  # as written in the page
        target = posixpath.relpath(uri, folder or ".")
        markdown = markdown.replace(f"]({link})", f"]({target})").replace(f"]({link}#", f"]({target}#")
    origin = {uri: source for source, uri in INCLUDED.items()}.get(page.file.src_uri)
    if origin is not None:  # an included file's links into the manual (../docs/x.md) lead to its pages
        into_docs = posixpath.relpath(docs, posixpath.dirname(origin))
        here = posixpath.relpath(".", folder or ".")
        markdown = markdown.replace(f"]({into_docs}/", "](" + ("" if here == "." else here + "/"))
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, command_reference())
    return "\n".join(pipes_in_code(line) if line.startswith("|") else line for line in markdown.split("\n"))


def pipes_in_code(row: str) -> str:
    """A table row with ``\\|`` in its code spans written ``|`` (`ARXIV_ID\\|URL` shows as ARXIV_ID|URL)."""
    return re.sub(r"`[^`]*`", lambda code: code[0].replace("\\|", "|"), row)


def command_reference() -> str:
    """``readtrack --help`` and each command's help (in the order the CLI lists them), as markdown."""
    with tempfile.TemporaryDirectory(prefix="readtrack-docs-") as home:
        main = help_text(home)
        listed = main.split("\nCommands:\n", 1)[1] if "\nCommands:\n" in main else ""
        commands = re.findall(r"^  (\S+)", listed, flags=re.MULTILINE)
        if not commands:
            raise PluginError(f"readtrack --help lists no commands:\n{main}")
        with ThreadPoolExecutor(max_workers=4) as pool:
            helps = list(pool.map(lambda command: help_text(home, command), commands))
    parts = [section("readtrack", main)]
    parts += [section(f"readtrack {command}", text) for command, text in zip(commands, helps, strict=True)]
    return "\n".join(parts)


def help_text(home: str, *command: str) -> str:
    """What ``readtrack COMMAND --help`` prints, as plain text (no colour, ``COLUMNS`` wide)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("READTRACK_")}
    env.update(READTRACK_HOME=home, COLUMNS=COLUMNS, NO_COLOR="1", TERM="dumb")
    env.pop("FORCE_COLOR", None)
    argv = [sys.executable, "-m", "readtrack", *command, "--help"]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, check=False)
    if done.returncode != 0:
        shown = " ".join(["readtrack", *command, "--help"])
        raise PluginError(f"{shown} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    # Run as `python -m readtrack`, Click names the program after the interpreter.
    return done.stdout.replace("Usage: python -m readtrack", "Usage: readtrack").rstrip() + "\n"


def section(title: str, text: str) -> str:
    return f"## `{title}`\n\n```text\n{text}```\n"
