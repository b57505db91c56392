"""Bundled data files (see SOURCES.md)."""
