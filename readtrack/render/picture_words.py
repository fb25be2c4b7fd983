"""The words of a saved picture (`readtrack.render.pictures`): the quantity an axis shows (and its unit, when
the number's name gives one), a setting's label under its tick, a title wrapped to the panel."""

from __future__ import annotations

import re
import textwrap

#: The units a number's name may give in parentheses ("held-out loss (nats)"), shown on its axis
UNITS = ("nats", "bits", "s", "ms", "µs", "%", "dB")


def seed_range(seeds: list[int]) -> str:
    ordered = sorted(seeds)
    if ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{len(ordered)} seeds ({ordered[0]}-{ordered[-1]})"
    return f"{len(ordered)} seeds ({', '.join(map(str, ordered))})"


def quantity_of(name: str) -> tuple[str, str]:
    """(y label, x label) of a curve or a number named ``name``: the words before its first comma, colon or
    parenthesis at the top level, a unit it gives in parentheses kept; "A vs B" (or "against") is A over B."""
    x = "step"
    for word in (" vs ", " against "):
        if word in name:
            name, x = name.split(word, 1)
            break
    depth, cut = 0, len(name)
    for i, char in enumerate(name):
        opens = char == "(" and i > 0 and name[i - 1] == " "
        if depth == 0 and (opens or char in ",:"):
            cut = i
            break
        depth += {"(": 1, ")": -1}.get(char, 0)
    quantity = name[:cut].strip() or name
    unit = next((u for u in UNITS if re.search(rf"\({re.escape(u)}\)", name)), None)
    return (f"{quantity} ({unit})" if unit and unit not in quantity else quantity), x


def wrapped(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def tick_label(label: str) -> str:
    """An entry's label under its tick: the setting wrapped, its seeds ("(2 seeds)") a line of their own."""
    setting, _, seeds = label.rpartition(" (")
    return f"{wrapped(setting, 24)}\n({seeds}" if setting else wrapped(label, 24)
