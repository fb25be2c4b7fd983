"""The reading list: papers.yaml as a model, read, validated and edited without losing a byte it did not
change.

`model` (Paper, Catalog, `load`), `reader` (the YAML reader with line:column errors), `yamlsplice` and `edits`
(changes spliced into the text under the write lock), `identity` and `keys` (is this the same paper?),
`arxivid`, and formats in and out: `markdown`, `bibtex`, `formats` (BibTeX, CSL-JSON, Zotero), `importer`,
`own_list`. It knows nothing of arXiv's servers, plugins or runs.
"""
