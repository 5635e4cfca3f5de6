"""Channel adapters: one module per provider, each with `verify`, `parse` and `render`."""
