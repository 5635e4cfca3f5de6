"""The outbox's Redis side: its keys, Lua scripts, streams and the channels' token buckets."""
