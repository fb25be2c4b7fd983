"""Markdown checklists, as a format of this package: reading and writing live in `readtrack.markdown`, the
import (whose merge and report every format shares) in `readtrack.importer`, the identity rule in
`readtrack.paper_identity`; this module only names them here, so that each format is one module of
`readtrack.formats`."""

from readtrack.importer import import_markdown
from readtrack.markdown import parse, render

__all__ = ["import_markdown", "parse", "render"]
