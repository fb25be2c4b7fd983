"""BibTeX and BibLaTeX, side by side: `reader` (``readtrack import library.bib``) and `writer`
(``readtrack export --format bibtex``), which reads back as the same list."""
