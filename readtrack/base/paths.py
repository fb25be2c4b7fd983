"""Where readtrack keeps things: the data dir, the database, the PDF cache and the active catalog.

The data dir comes from platformdirs and is overridden by ``READTRACK_HOME`` (every test sets one). The
catalog is ``--catalog``/``READTRACK_CATALOG``, else ``./papers.yaml`` when present, else the user's copy in
the data dir, created on first use from the bundled list.
"""

from __future__ import annotations

import os
from pathlib import Path

from readtrack.base.errors import StorageError

APP_NAME = "readtrack"


def data_dir() -> Path:
    """The folder for the database, the PDF cache and the user's catalog (created on demand)."""
    home = os.environ.get("READTRACK_HOME")
    if home:
        path = Path(home).expanduser()
    else:
        from platformdirs import user_data_path

        path = user_data_path(APP_NAME, appauthor=False)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataDirError(
            err.errno,
            f"cannot create the data dir {path} ({err.strerror}): set READTRACK_HOME to a folder readtrack "
            "may create and write",
            str(path),
        ) from None
    return path


class DataDirError(StorageError, OSError):
    """The data dir cannot be created. An `OSError` too, so what works without it (the catalog's cache) still
    works; what needs it says this one line (exit 2)."""

    def __str__(self) -> str:
        return str(self.strerror)


def database_path() -> Path:
    """The SQLite database: synced metadata and run history."""
    return database_in(data_dir())


def database_in(folder: str | os.PathLike[str]) -> Path:
    """The database a data dir ``folder`` holds (another than the reader's: a calibration's runs)."""
    return Path(folder).expanduser() / "readtrack.db"


def pdf_cache_dir() -> Path:
    """Downloaded PDFs, one file per paper, named from its sanitised id."""
    path = data_dir() / "pdfs"
    path.mkdir(parents=True, exist_ok=True)
    return path


#: The first line of the sample list a first run writes into the data dir: how `Catalog.sample` knows it.
SAMPLE_MARK = "# readtrack's sample list"
#: What `list` (on stderr) and the TUI's header say while the sample list is the one in use.
SAMPLE_NOTICE = "the bundled sample list (its author's marks and notes): `readtrack init` starts your own"
SAMPLE_HEADER = (
    f"{SAMPLE_MARK}, bundled with readtrack: its author's reading notes and marks, to try readtrack on.\n"
    "# Start your own list with `readtrack init`: it keeps your marks here (or --empty, --from LIST.md).\n"
)


def bundled_catalog_text() -> str:
    """The seed reading list shipped with readtrack: the repository's top-level papers.yaml, which a wheel
    carries as ``readtrack/data/papers.yaml`` (``setup.py`` copies it at build time). An editable install
    runs the clone's own sources, so it reads the clone's papers.yaml, as edited there."""
    from importlib import resources  # only for a first run: not on every command's path

    packaged = resources.files("readtrack").joinpath("data/papers.yaml")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    clone = Path(__file__).resolve().parents[2] / "papers.yaml"
    try:
        return clone.read_text(encoding="utf-8")
    except OSError as err:
        missing = f"readtrack's seed list is missing ({clone}: {err.strerror}): reinstall readtrack"
        raise StorageError(missing) from None


def catalog_path() -> Path:
    """The papers.yaml readtrack works on (see the module docstring for the order)."""
    explicit = os.environ.get("READTRACK_CATALOG")
    if explicit:
        return Path(explicit).expanduser()
    local = Path.cwd() / "papers.yaml"
    if local.is_file():
        return local
    user_copy = own_catalog_path()
    if not user_copy.exists():  # a first run: the sample list, marked as such (`readtrack init` replaces it)
        from readtrack.base.atomic import atomic_write  # once per machine: not on every start

        atomic_write(user_copy, SAMPLE_HEADER + bundled_catalog_text())
    return user_copy


def own_catalog_path() -> Path:
    """Where ``readtrack init`` creates the user's list: ``--catalog``/``READTRACK_CATALOG``, else the data
    dir's papers.yaml (nothing is created here)."""
    explicit = os.environ.get("READTRACK_CATALOG")
    return Path(explicit).expanduser() if explicit else data_dir() / "papers.yaml"
