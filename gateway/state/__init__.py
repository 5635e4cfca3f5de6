"""The state layer: every Redis and SQL store, behind small typed ports."""
