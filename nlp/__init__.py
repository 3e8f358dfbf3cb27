"""Analysis: pure functions from text to values (no I/O)."""
