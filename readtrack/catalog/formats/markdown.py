"""Markdown checklists, as a format of this package: reading and writing live in
`readtrack.catalog.markdown`, the
import (whose merge and report every format shares) in `readtrack.catalog.importer`, the identity rule in
`readtrack.catalog.identity`; this module only names them here, so that each format is one module of
`readtrack.catalog.formats`."""

from readtrack.catalog.importer import import_markdown
from readtrack.catalog.markdown import parse, render

__all__ = ["import_markdown", "parse", "render"]
