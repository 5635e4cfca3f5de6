"""One process's half of the single-flight measure: N identical reads at once, cold cache.

Builds the gateway from its settings (`GATEWAY_*`, as `python -m gateway serve` would), runs
its lifespan, takes the backend the turns use (the cached, single-flight backend once it is
wired; the bare client before) and, at `--start-at` (a Unix time shared with the other
process, so both fire together), asks it `--count` times at once for the same guardian's
lookup. Prints one JSON line: the outcomes and which backend was wired. The caller counts the
calls that reached the sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend_client import Deadline
from gateway.app import create_app
from gateway.deps import runtime_of
from gateway.settings import Settings

BUDGET_S = 2.0  # a USSD turn's


async def main(phone: str, count: int, start_at: float) -> dict[str, object]:
    app = create_app(Settings())
    async with app.router.lifespan_context(app):
        backend = runtime_of(app).turns.dialog.backend
        await asyncio.sleep(max(0.0, start_at - time.time()))
        deadline = Deadline.after(BUDGET_S)

        async def one() -> str:
            try:
                await backend.lookup_guardian(phone, deadline=deadline)
            except Exception as exc:
                return type(exc).__name__
            return "ok"

        outcomes = Counter(await asyncio.gather(*(one() for _ in range(count))))
    return {"backend": type(backend).__name__, "outcomes": dict(outcomes)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phone", required=True)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--start-at", type=float, default=0.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.phone, args.count, args.start_at))))
