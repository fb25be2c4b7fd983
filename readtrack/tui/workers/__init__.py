"""The TUI's work off the UI thread: the catalog's load and watch, sync, shelf runs and saving a run's
picture."""
