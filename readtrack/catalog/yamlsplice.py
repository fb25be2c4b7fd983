"""Change a YAML document by splicing text at node positions, leaving every other byte as it was.

papers.yaml is the user's file: comments, blank lines, key order and quoting must survive our edits, so
``git diff`` shows only what changed. PyYAML's composer (the C one when present) gives each node's start
and end position; an edit replaces exactly a value's span, inserts one ``key: value`` line, or appends one
list item, formatted like its neighbours. Measured against ruamel.yaml's round trip, this is both exact
(no re-emission of untouched text) and several times faster on large files (see benchmarks/bench_catalog.py).
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from dataclasses import dataclass

import yaml

_STR_TAG = "tag:yaml.org,2002:str"
_resolver = yaml.resolver.Resolver()
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PLAIN_SAFE = re.compile(r"^[^\s\-?:,\[\]{}#&*!|>'\"%@`][^\n]*$")


def format_scalar(value: object, *, flow: bool = False) -> str:
    """A one-line YAML scalar for ``value``: plain when it reads back as the same string, else quoted.

    ``flow``: the scalar sits inside ``[...]`` or ``{...}``, where commas and brackets end a plain scalar.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if _ISO_DATE.match(text):
        return text  # a date reads back as the same text: readtrack keeps scalars as written
    if (
        _PLAIN_SAFE.match(text)
        and not text.endswith(" ")
        and ": " not in text
        and " #" not in text
        and not text.endswith(":")
        and not (flow and any(c in text for c in ",[]{}"))
        and _resolver.resolve(yaml.ScalarNode, text, (True, False)) == _STR_TAG
    ):
        return text
    # JSON strings are valid YAML double-quoted scalars.
    return json.dumps(text, ensure_ascii=False)


def format_value(value: object, indent: int, *, flow: bool = False) -> str:
    """The text after ``key: `` for a value: a scalar, a flow list, or a literal block for multi-line text.

    ``flow``: the value goes inside a flow mapping, where a block scalar cannot start: quote instead.
    """
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_scalar(v, flow=True) for v in value) + "]"
    if flow:
        return (
            format_scalar(value, flow=True)
            if "\n" not in str(value)
            else json.dumps(str(value), ensure_ascii=False)
        )
    if isinstance(value, str) and "\n" in value.strip("\n"):
        body = value.strip("\n")
        pad = " " * indent
        lines = [(pad + line) if line.strip() else "" for line in body.split("\n")]
        return "|-\n" + "\n".join(lines)
    return format_scalar(value)


@dataclass
class Splice:
    """Replace ``text[start:end]`` with ``new``."""

    start: int
    end: int
    new: str


class Document:
    """A YAML text plus a way to turn node marks into string offsets and to apply splices."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def offset(self, mark: yaml.Mark) -> int:
        # Marks count characters per line; convert (line, column) to an index into our str.
        return self._line_starts[mark.line] + mark.column

    def line_start(self, pos: int) -> int:
        return self._line_starts[bisect_right(self._line_starts, pos) - 1]

    def line_end(self, pos: int) -> int:
        """Offset just after the newline ending the line that holds ``pos`` (or the end of text)."""
        nl = self.text.find("\n", pos)
        return len(self.text) if nl < 0 else nl + 1

    def column(self, pos: int) -> int:
        return pos - self.line_start(pos)

    def apply(self, splices: list[Splice]) -> str:
        """The text with every splice applied (splices must not overlap)."""
        out = self.text
        for splice in sorted(splices, key=lambda s: s.start, reverse=True):
            out = out[: splice.start] + splice.new + out[splice.end :]
        return out

    # -- mapping edits -----------------------------------------------------------------------------

    def value_end(self, node: yaml.Node) -> int:
        """Where a value's own text ends: block scalars and block collections stop at their last content
        character, not at the following blank lines and comments that PyYAML's end mark includes."""
        if isinstance(node, yaml.ScalarNode):
            end = self.offset(node.end_mark)
            if node.style in ("|", ">"):
                end = len(self.text[:end].rstrip("\n "))
            return end
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.value and not node.flow_style:
            last = node.value[-1]
            return self.value_end(last[1] if isinstance(last, tuple) else last)
        return self.offset(node.end_mark)

    def set_key(
        self, mapping: yaml.MappingNode, key: str, value: object, order: tuple[str, ...] = ()
    ) -> Splice:
        """Set ``key`` in ``mapping``: replace its value in place, or add a ``key: value`` line.

        A new key goes after its closest predecessor in ``order`` that the mapping has, else after the
        last one-line value, at the mapping's indentation.
        """
        for key_node, value_node in mapping.value:
            if key_node.value == key:
                start = self.offset(value_node.start_mark)
                end = self.value_end(value_node)
                indent = self.column(self.offset(key_node.start_mark)) + 2
                if isinstance(value_node, yaml.SequenceNode | yaml.MappingNode) and not value_node.flow_style:
                    if (
                        isinstance(value_node, yaml.SequenceNode)
                        and isinstance(value, list | tuple)
                        and value
                    ):
                        return Splice(start, end, self._block_list(value, self.column(start)))
                    # a block collection starts on the next line: the new value goes right after "key:"
                    colon = self.text.index(":", self.offset(key_node.end_mark))
                    return Splice(colon + 1, end, " " + format_value(value, indent))
                if _is_empty(value_node):
                    colon = self.text.index(":", self.offset(key_node.end_mark))
                    return Splice(
                        colon + 1, colon + 1, " " + format_value(value, indent, flow=bool(mapping.flow_style))
                    )
                return Splice(start, end, format_value(value, indent, flow=bool(mapping.flow_style)))
        return self._insert_key(mapping, key, value, order)

    def _block_list(self, values: list | tuple, column: int) -> str:
        pad = " " * column
        return ("\n" + pad).join(f"- {format_scalar(v)}" for v in values)

    def _insert_key(
        self, mapping: yaml.MappingNode, key: str, value: object, order: tuple[str, ...]
    ) -> Splice:
        if mapping.flow_style or not mapping.value:
            end = self.offset(mapping.end_mark) - 1  # before the closing brace
            sep = ", " if mapping.value else ""
            return Splice(end, end, f"{sep}{key}: {format_value(value, 0, flow=True)}")
        first_key = mapping.value[0][0]
        indent = self.column(self.offset(first_key.start_mark))
        present = {k.value: (k, v) for k, v in mapping.value}
        anchor = None
        if key in order:
            for name in reversed(order[: order.index(key)]):
                if name in present and _one_line(present[name][1]):
                    anchor = present[name][1]
                    break
        if anchor is None:
            one_liners = [v for _, v in mapping.value if _one_line(v)]
            anchor = one_liners[-1] if one_liners else mapping.value[-1][1]
        pos = self.line_end(self.value_end(anchor))
        line = " " * indent + f"{key}: {format_value(value, indent + 2)}\n"
        if pos == len(self.text) and not self.text.endswith("\n"):
            line = "\n" + line.rstrip("\n")
        return Splice(pos, pos, line)

    def delete_key(self, mapping: yaml.MappingNode, key: str) -> Splice | None:
        """Remove ``key: value`` (whole lines, block style) from ``mapping``; None when absent."""
        for key_node, value_node in mapping.value:
            if key_node.value == key:
                if mapping.flow_style:
                    return Splice(self.offset(value_node.start_mark), self.value_end(value_node), "null")
                start = self.line_start(self.offset(key_node.start_mark))
                end = self.line_end(self.value_end(value_node))
                return Splice(start, end, "")
        return None

    # -- sequence edits ----------------------------------------------------------------------------

    def append_items(self, owner: yaml.MappingNode, key: str, items: list[list[str]]) -> Splice:
        """Append block-mapping items (each given as lines without indentation) to the list at ``owner[key]``.

        The new item copies the indentation of the list's existing items; a missing or empty list is
        created under ``key``.
        """
        seq = next((v for k, v in owner.value if k.value == key), None)
        if isinstance(seq, yaml.SequenceNode) and seq.value and not seq.flow_style:
            first = seq.value[0]
            item_col = self.column(self.offset(first.start_mark))
            dash = self.text.rfind("-", 0, self.offset(first.start_mark))
            dash_col = self.column(dash)
            pos = self.line_end(self.value_end(seq.value[-1]))
            text = "".join(_item_text(lines, dash_col, item_col - dash_col) for lines in items)
            if pos == len(self.text) and not self.text.endswith("\n"):
                text = "\n" + text.rstrip("\n")
            return Splice(pos, pos, text)
        key_col = self.column(self.offset(owner.value[0][0].start_mark)) if owner.value else 0
        body = "".join(_item_text(lines, key_col + 2, 2) for lines in items)
        if seq is not None:  # `papers: []` or `papers:` with nothing: replace the empty value
            key_node = next(k for k, v in owner.value if k.value == key)
            start = self.offset(key_node.end_mark)
            end = self.line_end(self.value_end(seq))
            return Splice(start, end, ":\n" + body)
        return self._insert_key_block(owner, key, body, key_col)

    def _insert_key_block(self, owner: yaml.MappingNode, key: str, body: str, key_col: int) -> Splice:
        pos = self.line_end(self.value_end(owner.value[-1][1])) if owner.value else len(self.text)
        text = " " * key_col + f"{key}:\n" + body
        if pos == len(self.text) and not self.text.endswith("\n"):
            text = "\n" + text
        return Splice(pos, pos, text)


def _is_empty(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and not node.style and node.value == ""


def _one_line(node: yaml.Node) -> bool:
    return node.start_mark.line == node.end_mark.line or (
        isinstance(node, yaml.ScalarNode) and node.style in ('"', "'")
    )


def _item_text(lines: list[str], dash_col: int, gap: int) -> str:
    first_pad = " " * dash_col + "-" + " " * (gap - 1)
    rest_pad = " " * (dash_col + gap)
    out = [first_pad + lines[0]] + [(rest_pad + line) if line else "" for line in lines[1:]]
    return "\n".join(out) + "\n"
