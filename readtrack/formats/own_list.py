"""``readtrack init``: making the reading list one's own, without losing what was typed before.

A first run works on a copy of the bundled sample list in the data dir, marked as the sample by its first
line (`readtrack.catalog.model.SAMPLE_MARK`). A newcomer marks, notes and adds papers there before deciding to
keep a list, so ``init`` starts from the list they have been editing:

- no option, the data dir's list is the sample: the sample becomes the user's own in place (its two header
  lines go), every mark, note and added paper kept; ``init`` says how many papers differ from the sample;
- no option, a ``./papers.yaml`` in the working folder is the list in use: it is copied to the data dir;
- no option and no list yet: a copy of the bundled sample;
- ``--empty`` or ``--from FILE``: that; a sample list in the way is moved aside, edits and all
  (``sample-papers.yaml``), and the message says it holds them.

An existing list of the user's own is never overwritten. Whatever it did, ``init`` ends by saying which
file holds the list and, when a ``./papers.yaml`` in the working folder will still win there, says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from readtrack.base.atomic import atomic_write
from readtrack.base.errors import UsageError
from readtrack.base.paths import SAMPLE_MARK
from readtrack.base.writelock import locked
from readtrack.catalog.model import NEW_CATALOG, Catalog, Paper
from readtrack.catalog.reader import load
from readtrack.formats import markdown
from readtrack.formats.importer import ImportReport, merge, read_list, read_markdown


@dataclass
class NewList:
    """What ``readtrack init`` did: the list it created, from what, and where the sample list went."""

    path: Path
    source: str  # "empty", "the sample list", or the file it was made from
    papers: int
    sample_kept: Path | None = None  # the data dir's sample list, moved aside to make room
    report: ImportReport | None = None  # a markdown file's import report
    edited: int = 0  # papers of the sample the user changed (marked, noted, tagged) or added before init

    def lines(self) -> list[str]:
        """What ``readtrack init`` prints, one fact a line."""
        out: list[str] = []
        if self.sample_kept is not None:
            yours = f", with your {_papers(self.edited)} edited," if self.edited else ""
            out.append(f"kept the sample list{yours} as {self.sample_kept}")
        count = _papers(self.papers)
        if self.source == ADOPTED:
            edited = f"{self.edited} you marked, noted or added" if self.edited else "no edits yet"
            out.append(f"made {self.path} your own list: {count} ({edited}), no longer the sample")
        else:
            out.append(f"created {self.path} from {self.source}: {count}")
        return out


#: How the header's second line starts, in this release's sample and earlier ones.
_SECOND_LINE = "# Start your own list with `readtrack init`"

#: `NewList.source` when the sample list the user has been editing became their own in place.
ADOPTED = "the sample list you have been editing"


def init_catalog(
    path: Path, *, empty: bool = False, source: Path | None = None, editing: Path | None = None
) -> NewList:
    """Create the user's own list at ``path`` (see the module docstring). ``editing`` is the list in use
    when it is not ``path`` (a ``./papers.yaml``): without ``--empty``/``--from`` the new list copies it.
    The source is read and checked first: a bad one leaves everything as it was.
    """
    from readtrack.base.paths import bundled_catalog_text
    from readtrack.catalog.reader import parse

    if empty and source is not None:
        raise UsageError("init: give --empty or --from FILE, not both")
    if path.exists() and not _is_sample(path):
        raise UsageError(
            f"{path} already exists: init never overwrites a list (pass --catalog NEW.yaml to make another)"
        )
    if not empty and source is None:
        if path.exists():
            return _adopt_sample(path)
        if editing is not None and editing.is_file() and editing.resolve() != path.resolve():
            source = editing
    imported: markdown.ImportedList | None = None
    if source is None:
        text, what = (NEW_CATALOG, "empty") if empty else (bundled_catalog_text(), "the sample list")
    elif source.suffix.lower() in (".yaml", ".yml"):
        # as text: the same messages for a missing file; the list in use is named in full (it is no option)
        text, what = read_markdown(source), str(source) if source is editing else source.name
        parse(text, source)  # a list with problems is reported where it is, not copied
        if text.startswith(SAMPLE_MARK):
            text = _without_sample_header(text)
    else:
        text, what, imported = NEW_CATALOG, source.name, read_list(source)
    edited = edits_of_sample(load(path)) if path.exists() else 0
    kept = _move_sample_aside(path) if path.exists() else None
    _create(path, text)
    if imported is None:
        return NewList(path, what, sum(1 for _ in load(path).papers()), kept, edited=edited)
    report = merge(path, imported, source=source.name if source else "list")
    return NewList(path, what, len(report.added), kept, report, edited=edited)


def _adopt_sample(path: Path) -> NewList:
    """The sample list at ``path`` becomes the user's own: its header goes, nothing else changes."""
    with locked(path):
        text = path.read_text(encoding="utf-8")
        atomic_write(path, _without_sample_header(text))
    catalog = load(path)
    return NewList(path, ADOPTED, sum(1 for _ in catalog.papers()), edited=edits_of_sample(catalog))


def _without_sample_header(text: str) -> str:
    """``text`` less the sample's header: its first line (`SAMPLE_MARK`), and the second while unchanged."""
    _, _, rest = text.partition("\n")
    second, _, after = rest.partition("\n")
    return after if second.startswith(_SECOND_LINE) else rest


def edits_of_sample(catalog: Catalog) -> int:
    """How many papers of ``catalog`` differ from the bundled sample's (status, notes, tags, added)."""
    from readtrack.base.paths import bundled_catalog_text
    from readtrack.catalog.reader import parse

    sample = {
        p.id: _what_a_person_sets(p) for p in parse(bundled_catalog_text(), Path("papers.yaml")).papers()
    }
    return sum(1 for p in catalog.papers() if sample.get(p.id) != _what_a_person_sets(p))


def _what_a_person_sets(paper: Paper) -> tuple[object, ...]:
    return (paper.status, paper.notes, tuple(paper.tags))


def _papers(n: int) -> str:
    return f"{n} paper" if n == 1 else f"{n} papers"


def _create(path: Path, text: str) -> None:
    if path.exists():
        raise UsageError(f"{path} already exists: init never overwrites a list")
    atomic_write(path, text)


def _is_sample(path: Path) -> bool:
    """True when ``path`` is the sample list a first run wrote (it starts with `SAMPLE_MARK`)."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(SAMPLE_MARK)) == SAMPLE_MARK.encode()
    except OSError:
        return False


def _move_sample_aside(path: Path) -> Path:
    """Move the sample list at ``path`` to ``sample-papers.yaml`` beside it (numbered when taken)."""
    kept, n = path.with_name("sample-papers.yaml"), 2
    while kept.exists():
        kept, n = path.with_name(f"sample-papers-{n}.yaml"), n + 1
    path.rename(kept)
    return kept
