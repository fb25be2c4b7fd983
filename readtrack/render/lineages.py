"""What ``readtrack lineage`` prints: the lineages as a table, and one lineage as a chain in time.

A chain is a block per member, oldest first: its date, key, the paper's title and the reader's status on the
first line; what it improved over which earlier members on the next; then the step's number, its claim and
its verdict with the run it came from ("not run" with the command that would give it). Lines wrap at the
terminal's width under the block's indent; nothing is cut.
"""

from __future__ import annotations

import math
import textwrap

from readtrack.history.lineages import NOT_RUN, LineageView, Row, Summary

INDENT = 10


def listing(summaries: list[Summary], width: int) -> list[str]:
    """One line per lineage: name, members, read, runs, then its title (wrapped under itself)."""
    name_width = max([len("lineage"), *(len(s.name) for s in summaries)])
    head = f"{'lineage':<{name_width}}  members  read  runs  "
    lines = [head + "title"]
    for summary in summaries:
        start = (
            f"{summary.name:<{name_width}}  {len(summary.members):>7}  {summary.read:>4}  {summary.runs:>4}  "
        )
        lines += _wrapped(summary.title, width, start, " " * len(start))
    return lines


def chain(lineage: LineageView, width: int) -> list[str]:
    """The lineage's members in time (see the module docstring)."""
    lines = _wrapped(lineage.lineage.title, width, "", "")
    if lineage.lineage.question:
        lines += _wrapped(lineage.lineage.question, width, "", "")
    for row in lineage.rows:
        lines.append("")
        lines += _member(row, width)
    if lineage.bench:
        first = lineage.bench[0]
        lines += ["", f"The family bench ({lineage.lineage.bench}, {first.setting}, run {first.run_id[:8]}):"]
        quantities = list(dict.fromkeys(q for row in lineage.bench for q in row.values))
        for quantity in quantities:
            said = [  # no value (a loss never reached, a run that diverged: stored as null): a dash
                f"{row.member.key} {row.values[quantity]:.4g}" if math.isfinite(row.values[quantity])
                else f"{row.member.key} —"
                for row in lineage.bench
                if quantity in row.values
            ]  # fmt: skip
            lines += _wrapped(f"{quantity}: {' · '.join(said)}", width, "  ", "    ")
    elif lineage.lineage.bench:
        lines += ["", f"The family bench ({lineage.lineage.bench}): not run"]
    return lines


def _member(row: Row, width: int) -> list[str]:
    pad = " " * INDENT
    date = f"{row.when:<{INDENT - 1}} "
    lines = _wrapped(f"{row.member.key}  {row.title}  [{row.status}]", width, date, pad)
    over = f"over {', '.join(row.improves)}: " if row.improves else ""
    if row.member.what or over:
        lines += _wrapped(over + row.member.what, width, pad, pad + "  ")
    verdict = row.verdict
    if verdict is None and row.number is not None:  # a value with no claim to judge it by
        return lines + _wrapped(
            f"{row.member.number}: {row.number.claim()} (measured, no claim)", width, pad, pad + "  "
        )
    if verdict is None:
        return lines
    if verdict == NOT_RUN or row.number is None:
        how = "the family bench"
        if row.member.source == "plugin":
            how = f"readtrack run {row.member.plugin}" + ("" if row.member.full_run else " --quick")
        text = f"{row.member.number}: not run ({how})"
        if row.note:
            text = f"{row.member.number}: not run: {row.note}"
    else:
        number = row.number
        run = f"{'quick' if number.quick else 'full'} run, seed {number.seed}, {number.run_id[:8]}"
        reported = "" if number.asserted else ", reported, not asserted"
        text = f"{row.member.number}: {number.claim()}, {verdict} ({run}{reported})"
        if row.note:
            text += f"; {row.note}"
    return lines + _wrapped(text, width, pad, pad + "  ")


def _wrapped(text: str, width: int, first: str, later: str) -> list[str]:
    return textwrap.wrap(
        text, max(width, 40), initial_indent=first, subsequent_indent=later, break_on_hyphens=False
    ) or [first.rstrip()]
