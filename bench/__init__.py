"""Benchmarks of the gateway and the sandbox (`make bench`, `make bench-sandbox`)."""
