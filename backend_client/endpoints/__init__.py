"""The client's endpoints by resource, as the parts `MassarClient` is built from."""

from __future__ import annotations

__all__: list[str] = []
