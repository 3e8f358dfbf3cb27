"""Item pipelines, one stage per module, in order: normalise → validate → dedupe → store."""
