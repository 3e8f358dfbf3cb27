"""The base layer every other layer may import: the error hierarchy, the ``Post`` value passed
between stages, the clock, and running a supervised subprocess. No click, no config, no database."""
