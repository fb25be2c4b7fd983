"""The TUI's screens: the paper view, the run screen, search, the list's edits and the small dialogs over
the main screen (which lives with the App in `readtrack.tui.app`)."""
