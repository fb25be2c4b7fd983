"""The TUI's widgets: the paper table and its rows, the detail pane, scrolling panes, the key bar, and the
knobs, practice, PDF and sync panels, and how a recorded run reads."""
