"""readtrack's built-in paper plugins, installed as the package `readtrack_plugins`.

One folder per paper: a light `__init__.py` declaring the paper, `model.py` (the implementation) and
`experiment.py` (check, tiny train/eval, benchmark). See "Writing a plugin" in the README.
"""
