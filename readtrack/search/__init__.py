"""Search over titles, notes, abstracts, PDF text and plugin pages: `index` (the SQLite FTS index, brought up
to date incrementally), `edits` (what changed since), `query` (the query language and its results)."""
