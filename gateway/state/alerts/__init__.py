"""The alerts' state: the consumers' lease (Redis), the feed cursor and held alerts, and each
phone's choices (SQL)."""
