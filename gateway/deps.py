"""How a route reaches the gateway's parts: `runtime(request)`, typed.

The app's lifespan (`gateway.app`) opens one `Runtime` (`gateway.runtime.open_runtime`) and
keeps it on the app with `attach`; routes, and the helpers they hand their request to, get it
back with `runtime(request)` and reach every part with its type (`.settings`, `.turns`,
`.outbox`, the stores, `.console`, `.backend`). Nothing else reads or writes `app.state`
(tests/gateway/test_layers.py fails on a module that does).

```
lifespan ── open_runtime(settings) ── attach(app, runtime)
route(request) ── runtime(request).turns.run(…)
```
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from starlette.applications import Starlette
from starlette.requests import Request

if TYPE_CHECKING:  # a type only: the runtime builds the channels that import this module
    from gateway.runtime import Runtime

__all__ = ["attach", "runtime", "runtime_of"]


def attach(app: Starlette, runtime: Runtime) -> None:
    """Keep `runtime` on `app` for its requests (the lifespan, once it is open)."""
    app.state.runtime = runtime


def runtime_of(app: object) -> Runtime:
    """The runtime kept on `app` (a FastAPI app, or the one a test's client holds)."""
    found = getattr(getattr(app, "state", None), "runtime", None)
    if found is None:
        raise RuntimeError("the app's lifespan has not opened its runtime")
    return cast("Runtime", found)


def runtime(request: Request) -> Runtime:
    """The runtime of the app that `request` came to."""
    return runtime_of(request.app)
