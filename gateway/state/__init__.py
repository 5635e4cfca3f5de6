"""The state layer: every Redis key, TTL, Lua script and SQL table, and the connections.

Nothing here is imported by this file: each store is imported from its own module.
"""
