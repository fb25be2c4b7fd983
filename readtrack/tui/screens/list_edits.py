"""The main screen's actions that change the list: mark and toggle, notes, tags, add, import a library.

Every change goes through `readtrack.catalog.edits` (the CLI's code) in the catalog watcher's edit worker,
one at a time, after a dialog has asked what it needs. Notes are saved only over the notes the editor opened
with: when papers.yaml changed meanwhile (a hand edit) nothing is written and the user chooses, and a save
that fails gives the text back in the editor. `readtrack.tui.app.MainScreen` inherits these actions and binds
the keys."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.notifications import SeverityLevel
from textual.screen import Screen

from readtrack.base.errors import ReadtrackError
from readtrack.base.safe_text import visible
from readtrack.catalog.model import Catalog, Paper
from readtrack.plugins.links import load
from readtrack.tui.screens.dialogs import ChoiceScreen, NotesScreen, PromptScreen
from readtrack.tui.widgets.paper_table import PaperTable
from readtrack.tui.widgets.sync_panel import SyncPanel

if TYPE_CHECKING:
    from readtrack.tui.widgets.rows import PaperRow
    from readtrack.tui.workers.catalog_watch import CatalogWatcher
    from readtrack.tui.workers.sync_worker import SyncWorker

NOTES_EDITOR_CHARS = 200_000  # longer notes are edited in $EDITOR (`readtrack note ID`), not in the TUI


class ListEditsScreen(Screen[None]):
    """A screen whose actions edit the list at ``path`` through its ``watcher``: `MainScreen` is the one."""

    path: Path
    watcher: CatalogWatcher
    syncer: SyncWorker
    catalog: Catalog | None
    section_index: int

    @property
    def table(self) -> PaperTable:
        return self.query_one(PaperTable)

    def _selected(self) -> Paper | None:
        row: PaperRow | None = self.table.current
        if row is None:
            self.notify("No paper selected", severity="warning")
        return row.paper if row else None

    def _toggle(self, paper: Paper, status: str) -> None:
        """Mark ``paper`` ``status``, or back to todo when it already is. Decided in the worker on the file as
        it is then: a hand edit the reload poll has not shown yet wins over the table's stale status."""
        from readtrack.catalog import edits

        paper.status = "todo" if paper.status == status else status  # shown at once; the worker decides
        self.table.refresh()

        def toggle() -> Catalog:
            now = load(self.path).get(paper.id).status
            # Marked read, it gets today's `read:` date, as `readtrack mark --date` writes it.
            return edits.mark(self.path, paper.id, "todo" if now == status else status, record_date=True)

        self.watcher.edit(toggle)

    def action_toggle_read(self) -> None:
        paper = self._selected()
        if paper:
            self._toggle(paper, "read")

    def action_mark(self, status: str) -> None:
        paper = self._selected()
        if paper:
            self._toggle(paper, status)

    def action_notes(self) -> None:
        paper = self._selected()
        if paper is None:
            return
        notes = paper.notes or ""
        if len(notes) > NOTES_EDITOR_CHARS:  # the editor wraps every line at once: 5 MB took 12 s
            from rich.filesize import decimal

            size = decimal(len(notes.encode("utf-8")))
            self.notify(
                f"The notes of {paper.id} are {size}, too long to edit here: `readtrack note {paper.id}` "
                "opens them in your $EDITOR",
                severity="warning",
            )
            return
        self._edit_notes(paper.id, paper.display_title, notes, notes)

    def _edit_notes(self, paper_id: str, title: str, text: str, opened_with: str) -> None:
        """The notes editor on ``text``; saving checks that the file still has ``opened_with``. Control
        characters are shown written out (``\\x1b``): papers.yaml cannot hold them raw, so a save keeps
        that."""
        shown = visible(text, multiline=True)
        editor = NotesScreen(title, shown, saved=visible(opened_with, multiline=True))

        def save(edited: str | None) -> None:
            if edited is not None and edited.strip() != visible(opened_with, multiline=True).strip():
                quit_after = editor.quit_after
                self.watcher.edit(
                    lambda: self._save_notes(paper_id, title, edited, opened_with, quit_after=quit_after)
                )
            elif editor.quit_after:
                self.app.exit()

        self.app.push_screen(editor, save)

    def _save_notes(
        self, paper_id: str, title: str, text: str, opened_with: str, *, quit_after: bool = False
    ) -> Catalog:
        """In the edit worker: write the notes unless the file's changed since the editor opened (a hand edit
        in papers.yaml); then nothing is written and the user is asked (and the app, asked to quit after
        saving, stays). Saved with ``quit_after``, the app quits."""
        from readtrack.catalog import edits

        on_disk = load(self.path)
        now = on_disk.get(paper_id).notes or ""
        if now.strip() != opened_with.strip():
            self.app.call_from_thread(self._notes_conflict, paper_id, title, text, now)
            return on_disk
        try:
            saved = edits.note(self.path, paper_id, text)
        except ReadtrackError as err:  # the list locked by another readtrack, a full disk ...
            self.app.call_from_thread(self._notes_not_saved, paper_id, title, text, now, str(err))
            return on_disk
        if quit_after:
            self.app.call_from_thread(self.app.exit)
        else:
            self.app.call_from_thread(self.notify, f"Notes saved for {paper_id}")
        return saved

    def _notes_not_saved(self, paper_id: str, title: str, text: str, on_disk: str, why: str) -> None:
        """The save failed: say why, and give the text back in the editor (nothing the user typed is lost)."""
        self.notify(
            f"{why.rstrip('.')}. Your text is back in the editor: Ctrl+S tries again.",
            title="Not saved",
            severity="error",
        )
        self._edit_notes(paper_id, title, text, on_disk)

    def _notes_conflict(self, paper_id: str, title: str, mine: str, on_disk: str) -> None:
        overwrite, keep, merge = (
            "Save mine: replace the notes in papers.yaml",
            "Keep the notes in papers.yaml: drop mine",
            "Edit again: mine above, the file's below",
        )

        def chosen(choice: str | None) -> None:
            if choice == overwrite:  # over the notes seen now: changed yet again, it asks again
                self.watcher.edit(lambda: self._save_notes(paper_id, title, mine, on_disk))
            elif choice != keep:  # Edit again, or Esc: nothing the user typed is lost
                both = f"{mine.rstrip()}\n\n--- the notes in papers.yaml now ---\n{on_disk}"
                self._edit_notes(paper_id, title, both, on_disk)

        question = f"The notes of {paper_id} changed in papers.yaml while you edited them. Which to keep?"
        self.app.push_screen(ChoiceScreen(question, [overwrite, keep, merge]), chosen)

    def action_tags(self) -> None:
        paper = self._selected()
        if paper is None:
            return

        def save(text: str | None) -> None:
            if text is None:
                return
            changes = tag_changes(paper.tags, text)
            if not changes:
                return
            from readtrack.catalog import edits

            self.watcher.edit(
                lambda: edits.tag(self.path, paper.id, changes), done=f"Tags saved for {paper.id}"
            )

        hint = "Tags separated by spaces: delete a word to drop that tag"
        self.app.push_screen(PromptScreen(f"Tags of {paper.id}", " ".join(paper.tags), hint=hint), save)

    def action_add(self) -> None:
        if self.catalog is None:
            return
        sections = self.catalog.sections
        section = sections[self.section_index].name if sections else "Reading list"

        def save(text: str | None) -> None:
            if not text or not text.strip():
                return
            from readtrack.catalog import edits

            try:
                entry = edits.parse_entry(text)
            except ReadtrackError as err:
                self.notify(str(err), severity="error")
                return
            self.watcher.edit(
                lambda: edits.add_papers(self.path, section, [entry]),
                keep=lambda: entry.id,  # add_papers gives the entry its id
                done=f"Added to {section}: {entry.title or entry.arxiv or entry.url}",
            )

        self.app.push_screen(
            PromptScreen(f"Add a paper to {section}", placeholder="arXiv id, arXiv/PDF URL, or a title"), save
        )

    def action_import_library(self) -> None:
        """The palette's "Import library…": a BibTeX, CSL-JSON or markdown file, or a Zotero data directory,
        imported in a worker (`readtrack.formats.import_path`, as `readtrack import`). The report
        stays in the panel under the list (a toast vanishes before its problems are read); a toast says so."""

        def start(text: str | None) -> None:
            if not text or not text.strip():
                return
            source = Path(text.strip()).expanduser()

            def change() -> Catalog:
                from readtrack.formats import import_path

                title = f"Import: {source.name or source}"
                try:
                    report = import_path(self.path, source)
                except ReadtrackError as err:  # nothing imported: the watcher's toast says so too
                    self.app.call_from_thread(self._report, title, [f"Nothing imported: {err}"], 0, True)
                    raise
                lines = report.summary().splitlines()
                self.app.call_from_thread(self._report, title, lines, len(getattr(report, "problems", [])))
                return load(self.path)

            self.watcher.edit(change)

        self.app.push_screen(
            PromptScreen(
                "Import a library into this list",
                placeholder="library.bib, library.json, list.md, or a Zotero folder (~/Zotero)",
            ),
            start,
        )

    def _report(self, title: str, lines: list[str], problems: int, failed: bool = False) -> None:
        """An import's report in the panel under the list, where it stays until Esc; the toast says so. While
        a sync has the panel, the report is all in the toast."""
        severity: SeverityLevel = "warning" if problems else "information"
        if self.syncer.running:
            self.notify("\n".join(lines[:12]), title="Import library", severity=severity, timeout=30)
            return
        self.query_one(SyncPanel).show_report(title, lines, problems, failed)
        if not failed:  # a failure: the watcher's "Not saved" toast says why
            counted = f"{problems} problem{'s' if problems != 1 else ''}" if problems else "the report"
            where = f"{counted} in the panel under the list (Esc closes it)"
            self.notify(f"{lines[0]}\n{where}", title="Import library", severity=severity)


def tag_changes(current: list[str], text: str) -> list[str]:
    """The ``+tag``/``-tag`` changes that turn ``current`` into the words of ``text``."""
    wanted = [word.lstrip("+") for word in text.replace(",", " ").split() if not word.startswith("-")]
    dropped = {word.lstrip("-") for word in text.split() if word.startswith("-")}
    wanted = [w for w in dict.fromkeys(wanted) if w not in dropped]
    return [f"-{t}" for t in current if t not in wanted] + [f"+{t}" for t in wanted if t not in current]
