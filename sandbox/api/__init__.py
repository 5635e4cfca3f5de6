"""HTTP routers: the public `/api/v1` contract and the `/_sandbox` admin endpoints."""
