"""The console's state: sessions, sign-in and check counters (Redis), the audit (SQL)."""
