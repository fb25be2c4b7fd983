"""readtrack's version: the one in pyproject.toml, here so that any layer can name it (the User-Agent, a run's
environment) without importing the package's public face."""

__version__ = "0.1.0"
