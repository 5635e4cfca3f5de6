"""The baseline of the USSD benchmark: the least work a USSD turn can do here.

It parses the same Africa's Talking form with the gateway's own code, reads and writes a
small JSON session in Redis (one GET, one SET with the USSD session TTL) and answers a fixed
`CON` menu. No token check, dedupe, lock, engine or backend: whatever the full gateway turn
costs beyond this is the price of those.

    python bench/baseline_app.py --port 8001 --workers 2   # BENCH_REDIS_URL=redis://...
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.channels.common import ChannelError, fields, read_form
from gateway.channels.ussd.africastalking import parse_payload

MENU = "CON Services Massar :\n1. Absences\n2. Notes\n3. Inscription\n4. Aide\n5. Arabe\n6. Alertes"
SESSION_TTL_S = 180


def create_app() -> FastAPI:
    # The gateway's pool size (`gateway.state.connections`): with redis-py's default of 100, an
    # overloaded baseline answers 500 ("too many connections") instead of queueing.
    redis = Redis.from_url(
        os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        max_connections=512,
        socket_timeout=1.0,
        socket_connect_timeout=1.0,
    )
    app = FastAPI(title="ussd-baseline")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/channels/ussd/africastalking", response_class=PlainTextResponse)
    async def ussd(request: Request) -> Response:
        try:
            req = parse_payload(fields(await read_form(request)))
        except ChannelError as exc:
            return PlainTextResponse(exc.reason, status_code=exc.status)
        key = f"bl:{{ussd:{req.phone}}}:session"
        stored = await redis.get(key)
        session = json.loads(stored) if stored else {"v": 1, "state": "main"}
        session["sid"] = req.session_id[-16:]
        await redis.set(key, json.dumps(session, separators=(",", ":")), ex=SESSION_TTL_S)
        return PlainTextResponse(MENU)

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    # The same uvicorn options as `python -m gateway serve`.
    uvicorn.run(
        "baseline_app:create_app",
        app_dir=str(Path(__file__).resolve().parent),
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
