"""The command line: `launch` (the entry point: the TUI, or the CLI), `app` (the Typer app: list, mark, sync,
import...), `plugins` (run, bench, knobs, compare, plot, practice...), `authoring` (calibrate), `related`
(refs, cites, next), `doctor`. Faces hold no rules: each command parses, calls the layer below and renders."""
