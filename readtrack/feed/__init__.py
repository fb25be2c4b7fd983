"""`readtrack feed`: the newest arXiv submissions in the reader's categories, ranked by what they read.

`core` plans the window, fetches it (`readtrack.arxiv.newest`, or the cached one), drops what the list holds,
what was dismissed and what was shown before, and ranks the rest (`rank`: TF-IDF and a logistic regression
of the reader's own, scikit-learn imported there only); `state` is what it remembers in the data dir;
`categories` the arXiv categories it knows.
"""
