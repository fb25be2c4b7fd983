"""Papers from outside: arXiv's API and PDFs over polite HTTP, kept in the store and the PDF cache.

`http` (the polite session), `api` (arXiv's Atom API), `metadata` (synced records), `pdfcache` and `pdftext`
(verified PDFs and their text), `sync` (metadata and PDFs for the papers of a list) and `syncreport` (its
events), `viewer` (open a paper's PDF). Stands on `readtrack.catalog` and `readtrack.base`.
"""
