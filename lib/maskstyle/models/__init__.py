"""Models: see the modules in this package (one method per file)."""
