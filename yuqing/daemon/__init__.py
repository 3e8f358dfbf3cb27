"""The daemon's parts: the stage adapter, job functions, lease, crawl subprocesses, source health,
status and metrics. ``scheduler.py`` (top level) is the entry point that puts them together."""
