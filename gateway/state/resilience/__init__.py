"""The Redis side of the backend's protections (`gateway.resilience`): the response cache,
the single-flight leases, the circuit breaker's record and the per-phone rate limit."""
