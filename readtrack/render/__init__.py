"""The CLI's terminal rendering, in one home; the commands in `readtrack.cli` only call it.

- `papers`: the paper table, one paper's panel, progress per section, sync progress, `doctor`'s lines.
- `runs`: the live progress lines and the tables of ``readtrack run``, ``history``, ``compare`` and
  ``plugins`` (the TUI's run screen reuses its tables and number formats).

rich is imported inside the functions that draw, so importing these modules keeps the listing commands fast.
"""
