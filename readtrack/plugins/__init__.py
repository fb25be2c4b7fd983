"""The plugin system: how a paper plugin declares itself, is found, linked to papers and configured.

`hookspecs` (pluggy's hooks), `declaration` (`declare`, `PaperPlugin`), `discovery` (built-in, installed and
user-folder plugins; `load_plugin`), `links` (which paper a plugin runs), `knobs` (a plugin's settings),
`pages` (its page), `scaffold` (`readtrack new-plugin`). Running a plugin is `readtrack.runner`'s.
"""
